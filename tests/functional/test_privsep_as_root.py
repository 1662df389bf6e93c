"""An agent running as root on a host without sudo: its vendor tools run
through the real privsep daemon, started without sudo, and a helper that
cannot start is named in the log (not the tool)."""

import os
import re
import shutil
import subprocess

import pytest

from tests.fixtures import xilinx_host
from tests.functional import processes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0,
                       reason='the agent must run as root (the test runs '
                              'as uid %d)' % os.geteuid()),
]

HOST = 'compute-0'


class Agent(processes.Process):
    """``cyborg-clone-agent`` run with ``PATH`` as given."""

    def __init__(self, config, log_dir, path):
        self.command = 'cyborg-clone-agent'
        self.log_path = os.path.join(log_dir, self.command + '.log')
        with open(self.log_path, 'wb') as log:
            self.popen = subprocess.Popen(
                [os.path.join(processes.BIN_DIR, self.command),
                 '--config-file', config],
                stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, PATH=path))
        self.pid = self.popen.pid


@pytest.fixture
def no_sudo_path(tmp_path):
    """A PATH with nothing on it, so no sudo either."""
    path = tmp_path / 'path'
    path.mkdir()
    assert shutil.which('sudo', path=str(path)) is None
    return str(path)


def agent_config(tmp_path, privsep=None):
    """A Xilinx host with two ready cards, and its agent's config file."""
    host = xilinx_host.build(tmp_path / 'sys-root', tmp_path / 'bin',
                             tmp_path / 'xrt', HOST)
    sections = {
        'DEFAULT': {'host': HOST, 'transport_url': 'fake:/',
                    'debug': 'true'},
        'agent': {'enabled_drivers': 'xilinx', 'report_interval': 1},
    }
    for (group, option), value in host.items():
        sections.setdefault(group or 'DEFAULT', {})[option] = value
    if privsep:
        sections['privsep'] = privsep
    return host, processes.write_config(tmp_path, sections)


def examined(host):
    """The cards the fake xbutil was asked to examine."""
    return sorted(call[call.index('-d') + 1] for call in host.calls()
                  if 'examine' in call)


def wait_gone(pid):
    processes.wait_until(lambda: not os.path.exists('/proc/%d' % pid),
                         message='privsep daemon %d exiting' % pid)


def test_tools_run_through_the_daemon_started_without_sudo(tmp_path,
                                                           no_sudo_path):
    host, config = agent_config(tmp_path)
    users = sorted(card.user for card in host.ready_cards)
    with Agent(config, tmp_path, no_sudo_path) as agent:
        try:
            processes.wait_until(lambda: examined(host) == users,
                                 message='xbutil examine of every card')
            daemon = processes.wait_until(lambda: re.search(
                r'privsep daemon running as pid (\d+)', agent.log()),
                message='the daemon saying it runs')
        except AssertionError:
            raise AssertionError(agent.log()) from None
        log = agent.log()
        assert agent.stop() == 0
    helper = re.search(r"Running privsep helper: \['([^']+)', '-c', "
                       r"[\"'][^\"']*; from oslo_privsep.daemon import "
                       r"helper_main; helper_main\(\)[\"'], '--config-file', "
                       r"'([^']+)'", log)
    assert helper, log
    # The agent's own interpreter, and its config.
    assert os.path.dirname(helper.group(1)) == processes.BIN_DIR
    assert helper.group(2) == config
    assert 'sudo' not in log
    assert 'privsep log:' not in log  # Nothing on the helper's stderr.
    assert 'could not start' not in log
    assert 'Discovery by driver xilinx failed' not in log
    # The daemon goes with the agent.
    wait_gone(int(daemon.group(1)))


def test_a_helper_that_cannot_start_is_named_in_the_log(tmp_path,
                                                        no_sudo_path):
    missing = str(tmp_path / 'no-such-helper')
    host, config = agent_config(tmp_path, privsep={
        'helper_command': '%s --config-file %s' % (missing, tmp_path)})
    with Agent(config, tmp_path, no_sudo_path) as agent:
        try:
            processes.wait_until(
                lambda: 'Discovery by driver xilinx failed' in agent.log(),
                message='the failed discovery logged')
        except AssertionError:
            raise AssertionError(agent.log()) from None
        log = agent.log()
        assert agent.stop() == 0
    assert ('Discovery by driver xilinx failed: the privileged helper (%s '
            '--config-file %s) could not start: %s: No such file or '
            'directory.' % (missing, tmp_path, missing)) in log, log
    assert 'cannot run' not in log
    assert host.calls() == []
