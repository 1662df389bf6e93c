"""The DevStack plugin (devstack/), phase by phase, without DevStack.

Each test runs bash the way stack.sh, unstack.sh and clean.sh do: source
DevStack's functions (here the stand-ins of tests/fixtures/devstack_stubs.sh),
the plugin's settings, then plugin.sh once per phase. The stand-ins log the
calls that would reach Keystone, the database, systemd or Apache, and
iniset really writes the files, so the tests read the config the plugin
wrote with configparser and oslo.config. Every path is under the test's
temporary directory; the stand-ins refuse any other.
"""

import configparser
import importlib
import os
import pathlib
import re
import shutil
import subprocess

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
import pytest

from cyborg_clone import conf as cc_conf

REPO = pathlib.Path(__file__).resolve().parents[2]
DEVSTACK = REPO / 'devstack'
STUBS = REPO / 'tests' / 'fixtures' / 'devstack_stubs.sh'
PLUGIN_FILES = [DEVSTACK / 'plugin.sh', DEVSTACK / 'settings',
                DEVSTACK / 'lib' / 'cyborg_clone']
SAMPLE = REPO / 'etc' / 'cyborg_clone' / 'cyborg_clone.conf.sample'
POLICY_SAMPLE = REPO / 'etc' / 'cyborg_clone' / 'policy.yaml.sample'

# The stand-ins' DevStack globals (see devstack_stubs.sh).
SERVICE_URL = 'http://192.0.2.10/accelerator'
KEYSTONE_URI = 'http://192.0.2.10/identity'
TRANSPORT_URL = 'rabbit://stackrabbit:rabbit-secret@192.0.2.10:5672/'
DB_URL = ('mysql+pymysql://root:db-secret@127.0.0.1/cyborg_clone'
          '?charset=utf8')
APP = 'cyborg_clone.api.wsgi:application'
SERVICES = ('cyborg-clone-api', 'cyborg-clone-cond', 'cyborg-clone-agent')

# An all-in-one node: Keystone, MySQL, RabbitMQ, Placement and nova.
CONTROLLER = 'key,mysql,rabbit,placement-api,n-api,n-cond,n-sch,n-cpu'
STACK = ('stack install', 'stack post-config', 'stack extra')


class Node:
    """One DevStack host: its files under ``root`` and its plugin runs."""

    def __init__(self, root, **env):
        self.root = root
        self.conf_dir = root / 'etc' / 'cyborg_clone'
        self.conf = self.conf_dir / 'cyborg_clone.conf'
        self.policy = self.conf_dir / 'policy.yaml'
        self.uwsgi_conf = self.conf_dir / 'cyborg-clone-api-uwsgi.ini'
        self.state_path = root / 'opt' / 'stack' / 'data' / 'cyborg_clone'
        self.nova_conf = root / 'etc' / 'nova' / 'nova.conf'
        self.nova_cpu_conf = root / 'etc' / 'nova' / 'nova-cpu.conf'
        self.bin = root / 'bin'
        self.log = root / 'calls.log'
        # Only what a test chooses: a CYBORG_CLONE_* variable of the
        # caller's environment must not change what the plugin does.
        self.env = {'PATH': os.environ['PATH'], 'LC_ALL': 'C',
                    'STUB_ROOT': str(root), 'STUB_LOG': str(self.log),
                    'CYBORG_CLONE_DIR': str(REPO),
                    'CYBORG_CLONE_CONF_DIR': str(self.conf_dir),
                    'ENABLED_SERVICES': CONTROLLER}
        self.env.update(env)

    def bash(self, *lines):
        """Run ``lines`` after the stand-ins and the settings, as DevStack
        would (errexit; nounset on top to catch misspelt variables)."""
        script = '\n'.join(('set -o errexit -o nounset -o pipefail',
                            'source "%s"' % STUBS,
                            'source "%s"' % (DEVSTACK / 'settings'))
                           + lines)
        result = subprocess.run(['bash', '-c', script], env=self.env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert 'not stubbed' not in result.stderr, result.stderr
        return result

    def run(self, *phases):
        """plugin.sh once per phase, in one shell like stack.sh."""
        return self.bash(*('source "%s" %s' % (DEVSTACK / 'plugin.sh', p)
                           for p in phases))

    def calls(self, name=None):
        """Logged calls as tuples (name, arg...), optionally one name's
        arguments only."""
        if not self.log.exists():
            return []
        calls = [tuple(line.split('\t'))
                 for line in self.log.read_text().splitlines()]
        if name is None:
            return calls
        return [call[1:] for call in calls if call[0] == name]

    def index(self, call):
        """Position of ``call`` in the log (fails if it is not there)."""
        return self.calls().index(call)

    def execs(self, command):
        return [call[1:] for call in self.calls('exec') if call[0] == command]


def read_ini(path):
    """``path`` parsed strictly (a repeated option fails), DEFAULT as an
    ordinary section rather than defaults for every other one."""
    parser = configparser.ConfigParser(interpolation=None,
                                       default_section='\0')
    parser.optionxform = str
    with open(path) as ini:
        parser.read_file(ini)
    return parser


def documented_options():
    """{section: option names} the service reads: the sample config, plus
    keystoneauth1's password plugin options, which keystonemiddleware loads
    from [keystone_authtoken] when auth_type says so (the sample lists only
    plugin-independent ones)."""
    known = {}
    section = None
    for line in SAMPLE.read_text().splitlines():
        header = re.match(r'^\[(.+)\]$', line)
        if header:
            section = header.group(1)
            continue
        option = re.match(r'^#([a-z_][a-z0-9_]*) = ', line)
        if option and section:
            known.setdefault(section, set()).add(option.group(1))
    known['keystone_authtoken'] |= {
        opt.dest for opt in ks_loading.get_auth_plugin_conf_options(
            'password')}
    return known


def console_scripts():
    setup = configparser.ConfigParser(interpolation=None)
    setup.read(REPO / 'setup.cfg')
    entries = setup['options.entry_points']['console_scripts']
    return {line.split('=')[0].strip()
            for line in entries.splitlines() if line.strip()}


@pytest.fixture(scope='module')
def controller(tmp_path_factory):
    """An all-in-one node after stack.sh, its config dir holding a config
    and a policy file from an earlier stack."""
    node = Node(tmp_path_factory.mktemp('controller'))
    node.conf_dir.mkdir(parents=True)
    node.conf.write_text('[DEFAULT]\nstale_option = left over\n')
    node.policy.write_text('# edited by hand\n')
    node.run(*STACK)
    return node


@pytest.fixture(scope='module')
def compute(tmp_path_factory):
    """A compute node: nova-compute and only our agent, with drivers
    chosen in local.conf."""
    node = Node(tmp_path_factory.mktemp('compute'),
                ENABLED_SERVICES='n-cpu,placement-client',
                DISABLED_SERVICES='cyborg-clone-api,cyborg-clone-cond',
                CYBORG_CLONE_AGENT_DRIVERS='intel_opae,xilinx')
    node.run(*STACK)
    return node


# --- the files themselves ---------------------------------------------------

@pytest.mark.parametrize('path', PLUGIN_FILES + [STUBS],
                         ids=lambda path: path.name)
def test_files_are_valid_bash(path):
    result = subprocess.run(['bash', '-n', str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_plugin_is_shellcheck_clean():
    # devstack/.shellcheckrc only says bash and lets shellcheck follow the
    # plugin's own source; the one check disabled is inline, where
    # lib/cyborg_clone splits $DATABASE_BACKENDS on purpose. The stand-ins
    # are held to the same standard.
    if not shutil.which('shellcheck'):
        pytest.skip('shellcheck is not installed (apt-get install shellcheck)')
    result = subprocess.run(
        ['shellcheck', *map(str, PLUGIN_FILES), str(STUBS)],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- settings ---------------------------------------------------------------

def settings(tmp_path, *names, **env):
    node = Node(tmp_path, ENABLED_SERVICES='')
    # The settings' own defaults, only printed: nothing is written to them.
    del node.env['CYBORG_CLONE_DIR']
    del node.env['CYBORG_CLONE_CONF_DIR']
    node.env.update(env)
    out = node.bash(*('printf "%%s\\n" "$%s"' % name for name in names))
    return out.stdout.splitlines()


def test_settings_defaults(tmp_path):
    assert settings(
        tmp_path, 'CYBORG_CLONE_DIR', 'CYBORG_CLONE_CONF_DIR',
        'CYBORG_CLONE_CONF', 'CYBORG_CLONE_POLICY_FILE',
        'CYBORG_CLONE_STATE_PATH', 'CYBORG_CLONE_AGENT_DRIVERS',
        'CYBORG_CLONE_SERVICE_URL', 'ENABLED_SERVICES') == [
        str(tmp_path / 'opt' / 'stack' / 'cyborg_clone'),
        '/etc/cyborg_clone',
        '/etc/cyborg_clone/cyborg_clone.conf',
        '/etc/cyborg_clone/policy.yaml',
        str(tmp_path / 'opt' / 'stack' / 'data' / 'cyborg_clone'),
        'fake',
        SERVICE_URL,
        ','.join(SERVICES)]


def test_settings_keep_local_conf_values(tmp_path):
    assert settings(tmp_path, 'CYBORG_CLONE_AGENT_DRIVERS',
                    'CYBORG_CLONE_CONF', 'ENABLED_SERVICES',
                    CYBORG_CLONE_AGENT_DRIVERS='xilinx',
                    CYBORG_CLONE_CONF_DIR='/srv/cc',
                    DISABLED_SERVICES='cyborg-clone-api') == [
        'xilinx', '/srv/cc/cyborg_clone.conf',
        'cyborg-clone-cond,cyborg-clone-agent']


# --- stack on an all-in-one node ----------------------------------------

def test_install_develops_the_checkout_and_uwsgi(controller):
    assert controller.calls('setup_develop') == [(str(REPO),)]
    assert controller.calls('install_apache_uwsgi') == [()]


def test_config_file(controller):
    conf = read_ini(controller.conf)
    assert dict(conf['DEFAULT']) == {
        'debug': 'True',
        'state_path': str(controller.state_path),
        'transport_url': TRANSPORT_URL}
    assert dict(conf['api']) == {'auth_strategy': 'keystone',
                                 'public_endpoint': SERVICE_URL}
    assert conf['database']['connection'] == DB_URL
    assert conf['agent']['enabled_drivers'] == 'fake'
    assert conf['keystone_authtoken']['username'] == 'cyborg_clone'
    assert controller.calls('configure_keystone_authtoken_middleware') == [
        (str(controller.conf), 'cyborg_clone')]
    assert controller.calls('iniset_rpc_backend') == [
        ('cyborg_clone', str(controller.conf))]
    assert controller.calls('setup_logging') == [(str(controller.conf),)]
    assert conf['privsep']['helper_command'] == (
        'sudo %s/privsep-helper --config-file %s'
        % (controller.bin, controller.conf))
    assert controller.state_path.is_dir()


@pytest.mark.parametrize('section', ['placement', 'nova'])
def test_config_service_clients_log_in_as_our_user(controller, section):
    assert dict(read_ini(controller.conf)[section]) == {
        'auth_type': 'password',
        'auth_url': KEYSTONE_URI,
        'username': 'cyborg_clone',
        'password': 'service-secret',
        'user_domain_name': 'Default',
        'project_name': 'service',
        'project_domain_name': 'Default',
        'region_name': 'RegionOne'}


def test_config_holds_only_options_the_service_reads(controller):
    # oslo.config ignores unknown options: a misspelt name would be lost
    # silently at run time, so it is caught here.
    known = documented_options()
    conf = read_ini(controller.conf)
    unknown = [(section, option) for section in conf.sections()
               for option in conf[section]
               if option not in known.get(section, ())]
    assert unknown == []


def test_config_values_load_into_the_service_options(controller):
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    conf(['--config-file', str(controller.conf)], project='cyborg_clone',
         default_config_files=[], default_config_dirs=[])
    assert conf.state_path == str(controller.state_path)
    assert conf.api.auth_strategy == 'keystone'
    assert conf.api.public_endpoint == SERVICE_URL
    assert conf.agent.enabled_drivers == ['fake']
    assert conf.database.connection == DB_URL
    assert conf.placement.auth_type == 'password'
    assert conf.nova.region_name == 'RegionOne'


def test_restack_starts_from_a_fresh_config(controller):
    assert 'stale_option' not in read_ini(controller.conf)['DEFAULT']


def test_policy_file_is_the_sample(controller):
    conf = read_ini(controller.conf)
    assert conf['oslo_policy']['policy_file'] == str(controller.policy)
    assert controller.policy.read_text() == POLICY_SAMPLE.read_text()


def test_database_recreated_then_migrated_with_the_config(controller):
    assert controller.calls('recreate_database') == [('cyborg_clone',)]
    assert controller.execs('cyborg-clone-dbsync') == [
        ('--config-file', str(controller.conf), 'upgrade')]
    assert (controller.index(('recreate_database', 'cyborg_clone'))
            < controller.index(('exec', 'cyborg-clone-dbsync',
                                '--config-file', str(controller.conf),
                                'upgrade')))
    # The config as dbsync read it already named the database.
    seen = read_ini(controller.root / 'snapshots' / 'cyborg-clone-dbsync.conf')
    assert seen['database']['connection'] == DB_URL


def test_keystone_service_user_service_and_endpoints(controller):
    assert controller.calls('create_service_user') == [
        ('cyborg_clone', 'admin')]
    assert controller.calls('get_or_create_service') == [
        ('cyborg', 'accelerator', 'Accelerator management (cyborg_clone)')]
    # Public and internal at the same URL, no admin endpoint.
    assert controller.calls('get_or_create_endpoint') == [
        ('accelerator', 'RegionOne', SERVICE_URL, '', SERVICE_URL)]


def test_uwsgi_serves_the_app_at_accelerator(controller):
    assert controller.calls('write_uwsgi_config') == [
        (str(controller.uwsgi_conf), APP, '/accelerator', '',
         'cyborg-clone-api')]
    uwsgi = read_ini(controller.uwsgi_conf)['uwsgi']
    assert uwsgi['module'] == APP
    # Added after write_uwsgi_config, which starts the file anew.
    assert uwsgi['env'] == 'CYBORG_CLONE_CONFIG_FILE=%s' % controller.conf


def test_uwsgi_module_path_names_the_wsgi_application():
    module, attribute = APP.split(':')
    assert callable(getattr(importlib.import_module(module), attribute))


def test_services_started_with_their_commands(controller):
    assert controller.calls('run_process') == [
        ('cyborg-clone-api', '%s/uwsgi --procname-prefix cyborg-clone-api '
         '--ini %s' % (controller.bin, controller.uwsgi_conf)),
        ('cyborg-clone-cond', '%s/cyborg-clone-conductor --config-file %s'
         % (controller.bin, controller.conf)),
        ('cyborg-clone-agent', '%s/cyborg-clone-agent --config-file %s'
         % (controller.bin, controller.conf))]
    assert controller.calls('wait_for_service') == [('60', SERVICE_URL)]


def test_commands_run_are_our_console_scripts():
    # The fake bin dir of the stand-ins has these names too; this ties them
    # to the package's real entry points.
    assert {'cyborg-clone-dbsync', 'cyborg-clone-conductor',
            'cyborg-clone-agent'} <= console_scripts()


@pytest.mark.parametrize('which', ['nova_conf', 'nova_cpu_conf'])
def test_nova_finds_us_and_sends_a_service_token(controller, which):
    conf = read_ini(getattr(controller, which))
    assert dict(conf['cyborg']) == {'service_type': 'accelerator',
                                    'region_name': 'RegionOne'}
    assert dict(conf['service_user']) == {
        'send_service_user_token': 'True',
        'auth_type': 'password',
        'auth_url': KEYSTONE_URI,
        'username': 'nova',
        'password': 'service-secret',
        'user_domain_name': 'Default',
        'project_name': 'service',
        'project_domain_name': 'Default'}


# --- stack on a compute node --------------------------------------------

def test_compute_node_runs_only_the_agent(compute):
    assert compute.calls('run_process') == [
        ('cyborg-clone-agent', '%s/cyborg-clone-agent --config-file %s'
         % (compute.bin, compute.conf))]
    assert compute.calls('wait_for_service') == []


def test_compute_node_creates_no_database_account_or_api(compute):
    for name in ('recreate_database', 'create_service_user',
                 'get_or_create_service', 'get_or_create_endpoint',
                 'write_uwsgi_config', 'install_apache_uwsgi'):
        assert compute.calls(name) == [], name
    assert compute.execs('cyborg-clone-dbsync') == []
    assert not compute.uwsgi_conf.exists()


def test_compute_node_config_has_no_database_credentials(compute):
    conf = read_ini(compute.conf)
    for section in ('database', 'placement', 'nova'):
        assert not conf.has_section(section), section
    assert conf['DEFAULT']['transport_url'] == TRANSPORT_URL
    assert conf['agent']['enabled_drivers'] == 'intel_opae,xilinx'


def test_compute_node_configures_nova_compute(compute):
    conf = read_ini(compute.nova_cpu_conf)
    assert conf['cyborg']['region_name'] == 'RegionOne'
    assert conf['service_user']['send_service_user_token'] == 'True'


# --- other phases, unstack and clean --------------------------------------

def test_other_phases_do_nothing(tmp_path):
    node = Node(tmp_path)
    node.run('override_defaults', 'source', 'stack pre-install',
             'stack test-config')
    assert node.calls() == []
    assert not node.conf_dir.exists()


def test_unstack_stops_and_clean_removes(tmp_path):
    node = Node(tmp_path)
    node.run(*STACK)
    foreign = node.conf_dir / 'operator-notes.txt'
    foreign.write_text('not ours\n')

    node.log.unlink()
    node.run('unstack')
    assert sorted(node.calls('stop_process')) == sorted(
        (service,) for service in SERVICES)
    assert node.calls('remove_uwsgi_config') == []
    assert node.conf.exists()

    node.log.unlink()
    node.run('clean')
    assert node.calls('remove_uwsgi_config') == [
        (str(node.uwsgi_conf), 'cyborg-clone-api')]
    for path in (node.conf, node.policy, node.uwsgi_conf, node.state_path):
        assert not path.exists(), path
    # A file of someone else's keeps the directory.
    assert sorted(node.conf_dir.iterdir()) == [foreign]

    foreign.unlink()
    node.run('clean')
    assert not node.conf_dir.exists()
