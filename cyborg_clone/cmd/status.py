"""cyborg-clone-status: is this deployment ready to (re)start the services?

    cyborg-clone-status [--config-file F] upgrade check [--json]

Run it after ``cyborg-clone-dbsync upgrade`` and before starting the
services. Each check prints Success, Warning or Failure with details;
the exit status is the worst of them, as oslo.upgradecheck defines it:
0 all passed, 1 a warning (look, but the upgrade may be fine), 2 a failure
(fix it first). 255 means the command itself could not run (bad
arguments, unreadable config file, an unexpected error).

The checks read the same options the services read and connect to what
the services connect to, briefly, with nothing left behind; no secret
(password, token, URL credentials) appears in their details.
"""

import contextlib
import logging as std_logging
import os
import sys

import amqp
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_policy import policy
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck
import sqlalchemy as sa

from cyborg_clone import conf as cc_conf
from cyborg_clone import policies
from cyborg_clone.clients import placement
from cyborg_clone.common import startup
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from cyborg_clone.objects import deployable as deployable_obj
from cyborg_clone.objects import host_inventory

LOG = logging.getLogger(__name__)

PROG = 'cyborg-clone-status'

# Exit status when the command could not run at all; oslo.upgradecheck
# uses it for an exception in a check, and it is none of the check codes.
ERROR_EXIT = 255

# Seconds for the TCP connect and the AMQP handshake with one broker: a
# reachable broker answers in milliseconds, and a filtered port should not
# hold the whole check up for the services' much longer retry budget.
BROKER_TIMEOUT = 5

AMQP_PORT = 5672

Code = upgradecheck.Code
Result = upgradecheck.Result


def _one_line(error):
    """An exception as its type and the first line of its message, without
    a final period (the details add their own)."""
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    return '%s: %s' % (type(error).__name__, lines[0].rstrip('.'))


# --- database ---------------------------------------------------------------

def check_database(conf):
    """The schema is at this release's newest migration."""
    url = sa.engine.make_url(db_api.database_url(conf))
    shown = url.render_as_string(hide_password=True)
    if (url.get_backend_name() == 'sqlite'
            and url.database not in (None, '', ':memory:')
            and not os.path.exists(url.database)):
        # Connecting would create an empty file: report rather than do so.
        return Result(Code.FAILURE, (
            'The database file %s does not exist: run '
            '"cyborg-clone-dbsync upgrade" to create it.' % url.database))
    try:
        current = migration.current_revision(conf)
        head = migration.head_revision(conf)
    except Exception as error:
        LOG.debug('Reading the schema revision failed', exc_info=True)
        # SQLAlchemy wraps the driver's error; the driver's reads better.
        return Result(Code.FAILURE, 'Cannot read the schema revision of %s: '
                      '%s' % (shown, _one_line(getattr(error, 'orig', None)
                                                or error)))
    if current is None:
        return Result(Code.FAILURE, (
            'The database %s has no schema: run "cyborg-clone-dbsync '
            'upgrade".' % shown))
    if current != head:
        return Result(Code.FAILURE, (
            'The database %s is at schema revision %s but this release '
            'needs %s: run "cyborg-clone-dbsync upgrade" (a revision this '
            'release does not know means a newer release migrated it).'
            % (shown, current, head)))
    return Result(Code.SUCCESS, 'The database %s is at the newest schema '
                  'revision, %s.' % (shown, head))


# --- policy -----------------------------------------------------------------

def _policy_files(conf):
    """The files the enforcer would load: [oslo_policy]policy_file, then
    the files of each [oslo_policy]policy_dirs directory, found the way
    oslo.policy finds them (absolute, or next to the config files)."""
    found = []
    path = conf.find_file(conf.oslo_policy.policy_file)
    if path:
        found.append(path)
    for directory in conf.oslo_policy.policy_dirs:
        directory = conf.find_file(directory)
        if directory and os.path.isdir(directory):
            found.extend(os.path.join(directory, name)
                         for name in sorted(os.listdir(directory))
                         if not name.startswith('.')
                         and os.path.isfile(os.path.join(directory, name)))
    return found


class _PolicyLog(std_logging.Handler):
    """Collects what oslo.policy logs while active, and keeps it off the
    console: the check reports it.

    oslo.policy answers in its log only. A rule it cannot parse does not
    raise: its parser logs an error and makes the rule deny everything.
    ``Enforcer.check_rules`` logs the rules that refer to an undefined
    rule or to themselves, and returns only whether there were any.
    """

    def __init__(self):
        super().__init__(std_logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    @contextlib.contextmanager
    def active(self):
        logger = std_logging.getLogger('oslo_policy')
        saved = logger.level, logger.propagate
        logger.setLevel(std_logging.WARNING)
        logger.propagate = False
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]


def _parse(name, check_str):
    """The check tree of one rule, or raise ValueError saying why not.

    Each rule alone, as the enforcer parses it: its parser's complaints
    do not name the rule.
    """
    if not isinstance(check_str, (str, list)):
        raise ValueError('the rule is a %s, not a string'
                         % type(check_str).__name__)
    with _PolicyLog().active() as log:
        try:
            check = policy.RuleDefault(name, check_str).check
        except Exception as error:
            raise ValueError(_one_line(error)) from None
    if log.messages:
        raise ValueError('; '.join(log.messages))
    return check


def _referenced_rules(check):
    """Names a check tree refers to with ``rule:NAME``."""
    if isinstance(check, policy.RuleCheck):
        return {check.match}
    if isinstance(check, (policy.AndCheck, policy.OrCheck)):
        return set().union(*(_referenced_rules(sub) for sub in check.rules))
    if isinstance(check, policy.NotCheck):
        return _referenced_rules(check.rule)
    return set()


def _read_policy_file(path):
    """{rule name: check string} of one file; ValueError if unreadable."""
    try:
        with open(path) as policy_file:
            rules = policy.parse_file_contents(policy_file.read())
    except OSError as error:
        raise ValueError('cannot read it: %s'
                         % (error.strerror or error)) from None
    except ValueError as error:
        raise ValueError('not valid YAML: %s'
                         % ' '.join(str(error).split())) from None
    if not isinstance(rules, dict):
        raise ValueError('it holds a %s, not a mapping of rule names to '
                         'rules' % type(rules).__name__)
    return rules


def _policy_file_was_set(conf):
    location = conf.get_location('policy_file', 'oslo_policy')
    return location is not None and location.location not in (
        cfg.Locations.opt_default, cfg.Locations.set_default)


def _file_problems(paths):
    """({rule name: the file that defines it last, as the enforcer reads
    them}, problems that make a file or a rule unusable, whether every
    file reads)."""
    origin, problems, readable = {}, [], True
    for path in paths:
        try:
            rules = _read_policy_file(path)
        except ValueError as error:
            problems.append('%s: %s' % (path, error))
            readable = False
            continue
        for name, check_str in rules.items():
            origin[str(name)] = path
            try:
                _parse(str(name), check_str)
            except ValueError as error:
                problems.append('%s: rule "%s" does not parse, so it '
                                'denies everything (%s)' % (path, name,
                                                            error))
    return origin, problems, readable


def _enforcer_warnings(enforcer, origin):
    """What oslo.policy's enforcer, loaded as the API loads it, finds
    wrong with the rules: its own check (a rule refers to an undefined
    rule, so it always denies, or to itself), and file rules that are no
    rule of this service."""
    with _PolicyLog().active() as log:
        enforcer.load_rules(force_reload=True)
        del log.messages[:]  # the parser's complaints, reported per file
        enforcer.check_rules()
    warnings = ['oslo.policy: %s' % message.rstrip('.')
                for message in log.messages]
    referenced = set().union(*(_referenced_rules(check)
                               for check in enforcer.rules.values()))
    undefined = sorted(referenced - set(enforcer.rules))
    if undefined:
        # oslo.policy names the rules that refer to one, not the name
        # referred to, which is most likely a typo.
        warnings.append('defined nowhere: %s' % ', '.join(
            'rule:%s' % name for name in undefined))
    for name in enforcer.file_rules:
        # A rule that is neither a default nor used by another rule is
        # ignored by the service: most likely a typo or a removed rule.
        if name not in enforcer.registered_rules and name not in referenced:
            warnings.append('%s: "%s" is not a rule of this service and no '
                            'rule refers to it' % (origin.get(name), name))
    return warnings


def check_policy(conf):
    """The policy files load into oslo.policy's enforcer the way the API
    loads them, every rule parses, and the enforcer's checks pass."""
    enforcer = policies.get_enforcer(conf)  # Registers [oslo_policy] too.
    paths = _policy_files(conf)
    if not paths:
        name = conf.oslo_policy.policy_file
        if _policy_file_was_set(conf):
            return Result(Code.WARNING, (
                'The policy file %s ([oslo_policy]policy_file) was not '
                'found: the built-in defaults apply.' % name))
        return Result(Code.SUCCESS, 'No policy file (%s) found: the '
                      'built-in defaults apply.' % name)

    origin, failures, readable = _file_problems(paths)
    # Unreadable, a file would stop the enforcer from loading at all.
    warnings = _enforcer_warnings(enforcer, origin) if readable else []
    if readable:
        json_check = common_checks.check_policy_json(None, conf)
        if json_check.code != Code.SUCCESS:
            # oslo.policy still reads it: a warning, not a failure.
            warnings.append(json_check.details.rstrip('.'))
    if failures:
        return Result(Code.FAILURE, 'Fix the policy: %s.'
                      % '; '.join(failures + warnings))
    if warnings:
        return Result(Code.WARNING, '; '.join(warnings) + '.')
    return Result(Code.SUCCESS, '%d rule(s) in %s parse, name known rules '
                  'and pass oslo.policy\'s checks.'
                  % (len(origin), ', '.join(paths)))


# --- message bus ------------------------------------------------------------

def _truthy(value):
    return str(value).lower() in ('1', 'true', 'yes', 'on')


def _ssl_options(conf, url):
    """py-amqp's ssl argument for the rabbit driver's options (the URL's
    query may set ``ssl`` as the driver lets it)."""
    rabbit = conf.oslo_messaging_rabbit
    if not (rabbit.ssl or _truthy(url.query.get('ssl', False))):
        return False
    options = {}
    if rabbit.ssl_key_file:
        options['keyfile'] = rabbit.ssl_key_file
    if rabbit.ssl_cert_file:
        options['certfile'] = rabbit.ssl_cert_file
    if rabbit.ssl_ca_file:
        options['ca_certs'] = rabbit.ssl_ca_file
    return options or True


def _amqp_handshake(host, conf, url):
    """Connect and log in to one broker, then leave; raises on failure."""
    connection = amqp.Connection(
        '%s:%d' % (host.hostname, host.port or AMQP_PORT),
        userid=host.username or 'guest', password=host.password or 'guest',
        virtual_host=url.virtual_host or '/',
        login_method=conf.oslo_messaging_rabbit.rabbit_login_method,
        ssl=_ssl_options(conf, url), connect_timeout=BROKER_TIMEOUT,
        read_timeout=BROKER_TIMEOUT, write_timeout=BROKER_TIMEOUT)
    try:
        connection.connect()
        # A clean close, so the broker does not log an abrupt disconnect.
        connection.close()
    finally:
        with contextlib.suppress(Exception):
            connection.collect()


def _host_label(host):
    user = ' as %s' % host.username if host.username else ''
    return '%s:%d%s' % (host.hostname, host.port or AMQP_PORT, user)


def check_message_bus(conf):
    """Each broker of [DEFAULT]transport_url accepts a connection."""
    try:
        url = messaging.TransportURL.parse(conf, conf.transport_url)
    except (messaging.InvalidTransportURL, ValueError) as error:
        # Neither quotes the URL (which may hold a password).
        return Result(Code.FAILURE, '[DEFAULT]transport_url is not a valid '
                      'transport URL: %s.' % error)
    if url.transport == 'fake':
        return Result(Code.SUCCESS, (
            '[DEFAULT]transport_url is fake://, oslo.messaging\'s '
            'in-process transport: fine for the all-in-one, but separate '
            'services (API, conductor, agents) cannot reach each other '
            'through it; they need a broker such as rabbit://.'))
    if url.transport != 'rabbit':
        return Result(Code.WARNING, 'Not checked: no check knows the %s:// '
                      'transport.' % url.transport)

    hosts = url.hosts or [messaging.TransportHost(hostname='localhost')]
    vhost = url.virtual_host or '/'
    reached, failed = [], []
    for host in hosts:
        try:
            _amqp_handshake(host, conf, url)
        except (OSError, amqp.exceptions.AMQPError) as error:
            LOG.debug('Broker %s failed', _host_label(host), exc_info=True)
            failed.append('%s: %s' % (_host_label(host), _one_line(error)))
        else:
            reached.append(_host_label(host))
    if not failed:
        return Result(Code.SUCCESS, 'Logged in to RabbitMQ at %s (virtual '
                      'host %s).' % (', '.join(reached), vhost))
    summary = 'Cannot log in to RabbitMQ (virtual host %s) at %s' % (
        vhost, '; '.join(failed))
    if reached:
        return Result(Code.WARNING, '%s; the services fail over to %s.'
                      % (summary, ', '.join(reached)))
    return Result(Code.FAILURE, summary + '.')


# --- Placement --------------------------------------------------------------

def _version_tuple(version):
    return tuple(int(part) for part in version.split('.'))


def check_placement(conf):
    """When [placement] is configured, Placement answers its version
    document and speaks the microversion the conductor uses."""
    client = placement.PlacementClient(conf)
    if not client.configured:
        return Result(Code.SUCCESS, 'Placement is not configured '
                      '([placement]auth_type is unset): accelerators are '
                      'not reported to it.')
    where = 'Placement'
    try:
        adapter = client.adapter
        where = 'Placement at %s' % adapter.get_endpoint()
        response = adapter.get('/', raise_exc=False)
    except ks_exc.ClientException as error:
        LOG.debug('Placement request failed', exc_info=True)
        return Result(Code.FAILURE, 'Cannot reach %s: %s.' % (
            where, _one_line(error)))
    try:
        versions = response.json()['versions']
        newest = max(_version_tuple(version['max_version'])
                     for version in versions)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Result(Code.FAILURE, '%s answered GET / with %s, not with '
                      'Placement\'s version document.'
                      % (where, response.status_code))
    needed = placement.MICROVERSION
    if newest < _version_tuple(needed):
        return Result(Code.FAILURE, '%s supports microversions up to %s; '
                      'this release needs %s.' % (
                          where, '.'.join(map(str, newest)), needed))
    return Result(Code.SUCCESS, '%s answers (microversions up to %s; %s '
                  'used).' % (where, '.'.join(map(str, newest)), needed))


# --- accelerator drivers ----------------------------------------------------

def check_drivers(conf):
    """No agent said one of its drivers fails to discover."""
    if check_database(conf).code != Code.SUCCESS:
        return Result(Code.WARNING, 'Not checked: the agents\' reports are '
                      'read from the database, whose check failed.')
    try:
        failures = host_inventory.driver_failures()
    except sa.exc.SQLAlchemyError as error:
        LOG.debug('Reading the failed drivers failed', exc_info=True)
        return Result(Code.FAILURE, 'Cannot read the agents\' reports: %s.'
                      % _one_line(getattr(error, 'orig', None) or error))
    if not failures:
        return Result(Code.SUCCESS, 'No agent reports a failing driver.')
    return Result(Code.WARNING, (
        'Driver(s) fail to discover, so cards they add do not appear and '
        'those they reported before are kept as they were: %s. Once fixed, '
        'the next report of the host clears this.' % '; '.join(
            'host %s, driver %s (since %s UTC): %s' % (
                failure.hostname, failure.driver, failure.since,
                failure.reason.rstrip('.'))
            for failure in failures)))


def check_cleanups(conf):
    """No device is held back because its cleanup between two tenants
    failed."""
    if check_database(conf).code != Code.SUCCESS:
        return Result(Code.WARNING, 'Not checked: the devices\' states are '
                      'read from the database, whose check failed.')
    try:
        failed = deployable_obj.Deployable.in_state(
            (deployable_obj.CLEANUP_FAILED,))
    except sa.exc.SQLAlchemyError as error:
        LOG.debug('Reading the deployables failed', exc_info=True)
        return Result(Code.FAILURE, 'Cannot read the deployables: %s.'
                      % _one_line(getattr(error, 'orig', None) or error))
    if not failed:
        return Result(Code.SUCCESS, 'No device failed its cleanup.')
    return Result(Code.WARNING, (
        'Device(s) failed their cleanup between two tenants and are not '
        'offered: %s. Fix the cause, then enable the device (POST '
        '/v2/devices/{uuid}/enable) to clean it again.' % '; '.join(
            'deployable %s (%s) on host %s: %s' % (
                found.name, found.uuid, found.hostname,
                (found.state_reason or 'no reason recorded').rstrip('.'))
            for found in failed)))


# --- the command ------------------------------------------------------------

class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``upgrade check``, each reading ``conf``."""

    display_title = 'cyborg_clone upgrade check'

    def __init__(self, conf):
        self.conf = conf

    def _database(self):
        return check_database(self.conf)

    def _policy(self):
        return check_policy(self.conf)

    def _message_bus(self):
        return check_message_bus(self.conf)

    def _placement(self):
        return check_placement(self.conf)

    def _drivers(self):
        return check_drivers(self.conf)

    def _cleanups(self):
        return check_cleanups(self.conf)

    _upgrade_checks = (
        ('Database schema', _database),
        ('Policy file', _policy),
        ('Message bus', _message_bus),
        ('Placement API', _placement),
        ('Accelerator drivers', _drivers),
        ('Device cleanups', _cleanups),
    )

    def check(self):
        # The options are parsed by now (upgradecheck.main does it): this
        # is the first moment logging can be configured.
        logging.setup(self.conf, startup.PROJECT)
        return super().check()


def make_conf():
    """A ConfigOpts with every option the services read, not yet parsed."""
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    logging.register_options(conf)
    # Logs to stderr, so that stdout holds only the report (or --json).
    conf.set_default('use_stderr', True)
    # Alembic announces its migration context at INFO on every read of
    # the revision; the report says what matters.
    conf.set_default('default_log_levels',
                     logging.get_default_log_levels() + ['alembic=WARN'])
    return conf


def main(argv=None):
    conf = make_conf()
    argv = sys.argv[1:] if argv is None else argv
    try:
        return upgradecheck.main(conf, startup.PROJECT, Checks(conf),
                                 argv=argv)
    except cfg.Error as error:
        print('%s: %s' % (PROG, error), file=sys.stderr)
        return ERROR_EXIT
    except SystemExit as exit_:
        # argparse exits 2 on bad usage, which reads as "a check failed".
        if exit_.code not in (None, 0):
            return ERROR_EXIT
        raise
