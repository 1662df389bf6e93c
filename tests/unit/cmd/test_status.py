"""cyborg-clone-status upgrade check through its main(): each check's
success and failures, against real files, sockets and local servers."""

import contextlib
import http.server
import json
import shutil
import socket
import sqlite3
import threading

from alembic import script
import pytest

from cyborg_clone.cmd import dbsync
from cyborg_clone.cmd import status
from cyborg_clone.common import context
from cyborg_clone.conductor import device_sync
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from tests import logging_state
from tests.conftest import make_conf
from tests.functional import processes

SECRET = 'not-for-your-eyes'


@pytest.fixture(autouse=True)
def _reset_engines():
    yield
    db_api.reset()


@pytest.fixture
def migrated(tmp_path, migrated_template):
    shutil.copy(migrated_template, tmp_path / 'cyborg_clone.sqlite')


def write_config(directory, **sections):
    """A config file in ``directory``: the embedded database there, the
    fake transport and no policy file unless ``sections`` say otherwise."""
    config = {'DEFAULT': {'state_path': directory, 'transport_url': 'fake:/'}}
    for name, options in sections.items():
        config.setdefault(name, {}).update(options)
    path = directory / 'cyborg_clone.conf'
    path.write_text(''.join(
        '[%s]\n%s\n' % (name, ''.join('%s = %s\n' % item
                                      for item in options.items()))
        for name, options in config.items()))
    return str(path)


def run(*args):
    with logging_state.preserved():
        return status.main(list(args))


def check(config, capsys):
    """(exit code, {check name: (code, details)}) of ``upgrade check``."""
    capsys.readouterr()
    code = run('--config-file', config, 'upgrade', 'check', '--json')
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    report = json.loads(out)
    return code, {item['check']: (item['result'], item['details'])
                  for item in report['checks']}


def result(config, capsys, name):
    """(exit code, code of check ``name``, its details)."""
    code, results = check(config, capsys)
    return (code,) + results[name]


# --- the whole command ------------------------------------------------------

def test_a_migrated_database_and_defaults_pass_every_check(tmp_path, migrated,
                                                           capsys):
    code, results = check(write_config(tmp_path), capsys)

    assert code == 0
    assert {name: value[0] for name, value in results.items()} == {
        'Database schema': 0, 'Policy file': 0, 'Message bus': 0,
        'Placement API': 0, 'Accelerator drivers': 0,
        'Device cleanups': 0}
    assert 'fake://' in results['Message bus'][1]
    assert 'not configured' in results['Placement API'][1]


def test_the_table_shows_a_warning_and_the_exit_code_is_1(tmp_path, migrated,
                                                          capsys):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"cyborg:no_such_rule": "role:admin"\n')
    config = write_config(tmp_path,
                          oslo_policy={'policy_file': policy_file})

    code = run('--config-file', config, 'upgrade', 'check')

    assert code == 1
    out = capsys.readouterr().out
    assert 'Check: Policy file' in out
    assert 'Result: Warning' in out


def test_a_missing_config_file_exits_255_with_a_message(tmp_path, capsys):
    code = run('--config-file', str(tmp_path / 'nosuch.conf'),
               'upgrade', 'check')

    assert code == status.ERROR_EXIT
    assert 'nosuch.conf' in capsys.readouterr().err


def test_bad_usage_exits_255_not_the_failure_code(tmp_path, capsys):
    code = run('--config-file', write_config(tmp_path), 'upgrade')

    assert code == status.ERROR_EXIT
    assert 'check' in capsys.readouterr().err


# --- database ---------------------------------------------------------------

def test_an_empty_database_fails_and_says_to_run_dbsync(tmp_path, capsys):
    sqlite3.connect(tmp_path / 'cyborg_clone.sqlite').close()

    code, check_code, details = result(write_config(tmp_path), capsys,
                                       'Database schema')

    assert (code, check_code) == (2, 2)
    assert 'has no schema' in details
    assert 'cyborg-clone-dbsync upgrade' in details


def test_a_missing_database_file_fails_and_is_not_created(tmp_path, capsys):
    code, check_code, details = result(write_config(tmp_path), capsys,
                                       'Database schema')

    assert (code, check_code) == (2, 2)
    assert 'does not exist' in details
    assert not (tmp_path / 'cyborg_clone.sqlite').exists()


def test_a_database_behind_head_fails_naming_both_revisions(tmp_path,
                                                            capsys):
    config = write_config(tmp_path)
    scripts = script.ScriptDirectory(migration.MIGRATIONS_DIR)
    [first] = [rev for rev in scripts.walk_revisions()
               if rev.down_revision is None]
    head = scripts.get_current_head()
    assert first.revision != head, 'needs two migrations at least'
    with logging_state.preserved():
        assert dbsync.main(['--config-file', config, 'upgrade',
                            '--revision', first.revision]) == 0
    db_api.reset()

    code, check_code, details = result(config, capsys, 'Database schema')

    assert (code, check_code) == (2, 2)
    assert 'at schema revision %s' % first.revision in details
    assert 'needs %s' % head in details


def test_the_database_url_is_shown_without_its_password(tmp_path, capsys):
    # Nothing listens on the port: the connection fails, the URL shows.
    port = processes.free_port()
    config = write_config(tmp_path, database={
        'connection': 'postgresql+psycopg2://cyborg:%s@127.0.0.1:%d/cyborg'
                      % (SECRET, port)})

    code, check_code, details = result(config, capsys, 'Database schema')

    assert (code, check_code) == (2, 2)
    assert 'cyborg:***@127.0.0.1:%d' % port in details


# --- policy -----------------------------------------------------------------

def policy_config(tmp_path, text):
    path = tmp_path / 'policy.yaml'
    path.write_text(text)
    return write_config(tmp_path, oslo_policy={'policy_file': path})


def test_a_policy_file_of_known_rules_passes(tmp_path, migrated, capsys):
    # "engineers" is not a default, but a rule refers to it: an alias.
    config = policy_config(tmp_path, (
        '"engineers": "role:engineer"\n'
        '"cyborg:device:get_all": "rule:engineers or rule:admin_api"\n'))

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (0, 0)
    assert '2 rule(s)' in details


def test_a_rule_that_does_not_parse_fails(tmp_path, migrated, capsys):
    config = policy_config(tmp_path, (
        '"cyborg:device:get_all": "role:admin and"\n'
        '"cyborg:device:get_one": "role:admin"\n'))

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (2, 2)
    assert 'rule "cyborg:device:get_all" does not parse' in details
    assert 'get_one' not in details


def test_a_policy_file_that_is_not_yaml_fails(tmp_path, migrated, capsys):
    config = policy_config(tmp_path, '"cyborg:device:get_all": [unclosed\n')

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (2, 2)
    assert 'not valid YAML' in details


def test_an_unknown_rule_name_is_a_warning(tmp_path, migrated, capsys):
    config = policy_config(tmp_path, '"cyborg:devices:get_all": "@"\n')

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (1, 1)
    assert '"cyborg:devices:get_all" is not a rule of this service' in details


def test_a_reference_to_an_undefined_rule_is_a_warning(tmp_path, migrated,
                                                       capsys):
    config = policy_config(
        tmp_path, '"cyborg:device:get_all": "rule:admin_apii"\n')

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (1, 1)
    # oslo.policy's own check names the rule; the name it refers to too.
    assert ("Policies ['cyborg:device:get_all'] reference a rule that is "
            "not defined") in details
    assert 'defined nowhere: rule:admin_apii' in details


def test_rules_that_refer_to_each_other_are_a_warning(tmp_path, migrated,
                                                      capsys):
    config = policy_config(tmp_path, (
        '"cyborg:device:get_all": "rule:cyborg:device:get_one"\n'
        '"cyborg:device:get_one": "rule:cyborg:device:get_all"\n'))

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (1, 1)
    assert 'part of a cyclical reference' in details


def test_a_rule_of_which_a_part_does_not_parse_fails(tmp_path, migrated,
                                                     capsys):
    # The rule still parses as a whole, into "role:admin or !".
    config = policy_config(
        tmp_path, '"cyborg:device:get_all": "role:admin or nonsense"\n')

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (2, 2)
    assert 'rule "cyborg:device:get_all" does not parse' in details


def test_a_json_policy_file_is_a_warning(tmp_path, migrated, capsys):
    config = policy_config(tmp_path,
                           '{"cyborg:device:get_all": "role:admin"}\n')

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (1, 1)
    assert 'oslopolicy-convert-json-to-yaml' in details


def test_a_policy_file_set_but_missing_is_a_warning(tmp_path, migrated,
                                                    capsys):
    config = write_config(tmp_path, oslo_policy={
        'policy_file': tmp_path / 'nosuch.yaml'})

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (1, 1)
    assert 'nosuch.yaml' in details


def test_files_of_the_policy_directories_are_checked(tmp_path, migrated,
                                                     capsys):
    (tmp_path / 'policy.d').mkdir()
    (tmp_path / 'policy.d' / '50-devices.yaml').write_text(
        '"cyborg:device:get_all": "role:admin"\n"x": "not a rule"\n')
    config = write_config(tmp_path, oslo_policy={
        'policy_dirs': tmp_path / 'policy.d'})

    code, check_code, details = result(config, capsys, 'Policy file')

    assert (code, check_code) == (2, 2)
    assert '50-devices.yaml: rule "x" does not parse' in details


# --- message bus ------------------------------------------------------------

@contextlib.contextmanager
def tcp_listener(answer=None, hold=30):
    """A port on 127.0.0.1 that accepts connections and writes ``answer``
    (or nothing), then closes each after ``hold`` seconds at most."""
    server = socket.create_server(('127.0.0.1', 0))
    done = threading.Event()

    def serve():
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            with connection:
                if answer:
                    connection.sendall(answer)
                done.wait(hold)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        server.close()
        thread.join(5)


def rabbit_config(tmp_path, url):
    return write_config(tmp_path, DEFAULT={'transport_url': url})


def test_an_unreachable_broker_fails(tmp_path, migrated, capsys):
    port = processes.free_port()
    config = rabbit_config(tmp_path, 'rabbit://cyborg:%s@127.0.0.1:%d/'
                           % (SECRET, port))

    code, check_code, details = result(config, capsys, 'Message bus')

    assert (code, check_code) == (2, 2)
    assert '127.0.0.1:%d as cyborg' % port in details
    assert 'Connection refused' in details


def test_a_listener_that_is_not_amqp_fails(tmp_path, migrated, capsys):
    with tcp_listener(b'HTTP/1.1 400 Bad Request\r\n\r\n', hold=0) as port:
        config = rabbit_config(tmp_path, 'rabbit://127.0.0.1:%d/' % port)
        code, check_code, details = result(config, capsys, 'Message bus')

    assert (code, check_code) == (2, 2)
    assert '127.0.0.1:%d' % port in details


def test_a_silent_listener_fails_after_the_handshake_timeout(
        tmp_path, migrated, capsys, monkeypatch):
    monkeypatch.setattr(status, 'BROKER_TIMEOUT', 0.2)
    # Were there no timeout, the listener's close after 30 s would end
    # the wait with another error than a timeout.
    with tcp_listener() as port:
        config = rabbit_config(tmp_path, 'rabbit://127.0.0.1:%d/' % port)
        code, check_code, details = result(config, capsys, 'Message bus')

    assert (code, check_code) == (2, 2)
    assert 'timed out' in details or 'timeout' in details.lower()


def test_an_invalid_transport_url_fails(tmp_path, migrated, capsys):
    config = rabbit_config(tmp_path, '//%s@127.0.0.1' % SECRET)

    code, check_code, details = result(config, capsys, 'Message bus')

    assert (code, check_code) == (2, 2)
    assert 'not a valid transport URL' in details


@pytest.mark.slow
def test_a_reachable_broker_passes_and_a_wrong_password_fails(
        tmp_path, migrated, capsys, rabbitmq_url):
    code, check_code, details = result(rabbit_config(tmp_path, rabbitmq_url),
                                       capsys, 'Message bus')
    assert (code, check_code) == (0, 0), details
    assert 'Logged in to RabbitMQ' in details

    user, rest = rabbitmq_url.split('://')[1].split(':', 1)
    wrong = 'rabbit://%s:%s@%s' % (user, SECRET, rest.split('@', 1)[1])
    code, check_code, details = result(rabbit_config(tmp_path, wrong),
                                       capsys, 'Message bus')
    assert (code, check_code) == (2, 2)
    assert 'ACCESS_REFUSED' in details


@pytest.mark.slow
def test_one_broker_of_two_down_is_a_warning(tmp_path, migrated, capsys,
                                             rabbitmq_url):
    port = processes.free_port()
    credentials, address = rabbitmq_url.split('://')[1].split('@')
    url = 'rabbit://%s@%s,%s@127.0.0.1:%d/' % (
        credentials, address.rstrip('/'), credentials, port)

    code, check_code, details = result(rabbit_config(tmp_path, url), capsys,
                                       'Message bus')

    assert (code, check_code) == (1, 1)
    assert '127.0.0.1:%d' % port in details
    assert 'fail over to %s' % address.rstrip('/').split('@')[-1] in details


# --- Placement --------------------------------------------------------------

def version_document(max_version):
    return {'versions': [{
        'id': 'v1.0', 'min_version': '1.0', 'max_version': max_version,
        'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': ''}]}]}


@contextlib.contextmanager
def placement_stub(status_code, document):
    """Answers every GET on 127.0.0.1 with ``document``; yields its URL
    and the paths requested."""
    paths = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(self.path)
            body = json.dumps(document).encode()
            self.send_response(status_code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/placement' % server.server_port, paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def placement_config(tmp_path, url):
    # keystoneauth1's admin_token plugin: a fixed token and endpoint, as
    # the Placement fixture of the functional tests configures it.
    return write_config(tmp_path, placement={
        'auth_type': 'admin_token', 'endpoint': url, 'token': SECRET})


def test_a_reachable_placement_passes(tmp_path, migrated, capsys):
    with placement_stub(200, version_document('1.39')) as (url, paths):
        code, check_code, details = result(placement_config(tmp_path, url),
                                           capsys, 'Placement API')

    assert (code, check_code) == (0, 0), details
    assert paths == ['/placement/']
    assert url in details


def test_an_unreachable_placement_fails(tmp_path, migrated, capsys):
    url = 'http://127.0.0.1:%d/placement' % processes.free_port()

    code, check_code, details = result(placement_config(tmp_path, url),
                                       capsys, 'Placement API')

    assert (code, check_code) == (2, 2)
    assert 'Cannot reach Placement at %s' % url in details


def test_an_endpoint_that_is_not_placement_fails(tmp_path, migrated, capsys):
    with placement_stub(404, {'error': 'not here'}) as (url, _):
        code, check_code, details = result(placement_config(tmp_path, url),
                                           capsys, 'Placement API')

    assert (code, check_code) == (2, 2)
    assert 'answered GET / with 404' in details


def test_a_placement_too_old_for_our_microversion_fails(tmp_path, migrated,
                                                        capsys):
    with placement_stub(200, version_document('1.17')) as (url, _):
        code, check_code, details = result(placement_config(tmp_path, url),
                                           capsys, 'Placement API')

    assert (code, check_code) == (2, 2)
    assert 'up to 1.17' in details


# --- accelerator drivers ----------------------------------------------------

def report(tmp_path, hostname, failed_drivers=None):
    """Apply a report of ``hostname`` to the database of ``tmp_path``, as
    the conductor does with an agent's."""
    db_api.configure(make_conf(tmp_path))
    try:
        device_sync.apply_report(context.get_admin_context(), hostname, [],
                                 failed_drivers=failed_drivers)
    finally:
        db_api.reset()


def test_hosts_whose_drivers_all_discover_pass(tmp_path, migrated, capsys):
    report(tmp_path, 'compute-0')

    code, check_code, details = result(write_config(tmp_path), capsys,
                                       'Accelerator drivers')

    assert (code, check_code) == (0, 0)
    assert details == 'No agent reports a failing driver.'


def test_a_failing_driver_is_a_warning_naming_host_driver_and_reason(
        tmp_path, migrated, capsys):
    report(tmp_path, 'compute-0', {'xilinx': 'the privileged helper (sudo '
                                   'privsep-helper) could not start: sudo: '
                                   'No such file or directory.'})
    report(tmp_path, 'compute-1', {'intel_opae': 'cannot run fpgaconf'})
    report(tmp_path, 'compute-2')

    code, check_code, details = result(write_config(tmp_path), capsys,
                                       'Accelerator drivers')

    assert (code, check_code) == (1, 1)
    assert 'host compute-0, driver xilinx (since ' in details
    assert 'could not start: sudo: No such file or directory;' in details
    assert 'host compute-1, driver intel_opae (since ' in details
    assert 'compute-2' not in details
    assert 'kept as they were' in details

    # The driver recovers: the next report of its host clears it.
    report(tmp_path, 'compute-0')
    report(tmp_path, 'compute-1')
    code, check_code, _ = result(write_config(tmp_path), capsys,
                                 'Accelerator drivers')
    assert (code, check_code) == (0, 0)


def test_drivers_are_not_checked_without_a_database(tmp_path, capsys):
    code, check_code, details = result(write_config(tmp_path), capsys,
                                       'Accelerator drivers')

    assert (code, check_code) == (2, 1)
    assert details.startswith('Not checked')
    assert not (tmp_path / 'cyborg_clone.sqlite').exists()
