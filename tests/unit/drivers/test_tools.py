"""Running vendor tools: the privileged helper's command, and how a helper
that cannot start is reported (never as the tool's fault)."""

from importlib import metadata
import os
import shlex
import sys

from oslo_config import cfg
import pytest

from cyborg_clone import privsep
from cyborg_clone.common import exception
from cyborg_clone.drivers import tools

CONTEXT = privsep.sys_admin_pctxt
SOCKET = '/run/private/privsep.sock'
CONTEXT_ARGS = ['--privsep_context', 'cyborg_clone.privsep.sys_admin_pctxt',
                '--privsep_sock_path', SOCKET]


@pytest.fixture
def global_conf(tmp_path):
    """cfg.CONF parsed from a config file and a config dir, as the agent's
    start parses it; cleared afterwards."""
    config = tmp_path / 'cyborg_clone.conf'
    config.write_text('[DEFAULT]\n')
    directory = tmp_path / 'conf.d'
    directory.mkdir()
    cfg.CONF(['--config-file', str(config), '--config-dir', str(directory)],
             project='cyborg_clone', default_config_files=[])
    yield ['--config-file', str(config), '--config-dir', str(directory)]
    cfg.CONF.clear_override('helper_command', group='privsep')
    cfg.CONF.clear()


@pytest.fixture
def euid(monkeypatch):
    def set_euid(value):
        monkeypatch.setattr(os, 'geteuid', lambda: value)
    return set_euid


@pytest.fixture
def client_mode():
    """Entry points go to a privsep daemon, as in the agent (the session
    runs them in-process). Only tests whose helper cannot start use it:
    no daemon is ever forked from the test process."""
    CONTEXT.set_client_mode(True)
    yield
    CONTEXT.stop()
    CONTEXT.set_client_mode(False)


def helper(command):
    cfg.CONF.set_override('helper_command', command, group='privsep')


# --- which command starts the helper ----------------------------------------

def test_as_root_the_helper_is_this_interpreters_without_sudo(global_conf,
                                                              euid):
    euid(0)
    assert CONTEXT.helper_command(SOCKET) == [
        sys.executable, '-c', privsep.HELPER_CODE, *global_conf,
        *CONTEXT_ARGS]


def test_not_root_the_helper_runs_through_sudo(global_conf, euid):
    euid(1000)
    assert CONTEXT.helper_command(SOCKET) == [
        'sudo', 'privsep-helper', *global_conf, *CONTEXT_ARGS]


@pytest.mark.parametrize('uid', [0, 1000])
def test_a_configured_helper_command_is_used_as_it_is(global_conf, euid,
                                                      uid):
    euid(uid)
    helper('sudo /opt/venv/bin/privsep-helper --config-file /etc/c.conf')
    assert CONTEXT.helper_command(SOCKET) == [
        'sudo', '/opt/venv/bin/privsep-helper', '--config-file',
        '/etc/c.conf', *CONTEXT_ARGS]


def test_the_root_helper_runs_what_privsep_helper_runs():
    [script] = metadata.entry_points(group='console_scripts',
                                     name='privsep-helper')
    assert script.value == privsep.HELPER_ENTRY_POINT
    module, function = script.value.split(':')
    assert privsep.HELPER_CODE.endswith('; from %s import %s; %s()' % (
        module, function, function))


# --- a helper that cannot start ---------------------------------------------

def test_a_missing_helper_is_named_not_the_tool(global_conf, client_mode,
                                                tmp_path):
    helper('%s --config-file x.conf' % (tmp_path / 'no-such-helper'))
    tool = tmp_path / 'xbutil'
    with pytest.raises(exception.DriverError) as caught:
        tools.run('xilinx', [str(tool), 'examine'], 5)
    message = caught.value.faultstring
    assert message.startswith(
        'Driver xilinx failed: the privileged helper (%s --config-file '
        'x.conf) could not start: %s: No such file or directory.'
        % (tmp_path / 'no-such-helper', tmp_path / 'no-such-helper'))
    assert '[privsep]helper_command' in message
    assert 'cannot run' not in message
    assert str(tool) not in message


def test_a_missing_sudo_is_named(global_conf, client_mode, euid,
                                 monkeypatch, tmp_path):
    # Not root, and no sudo on PATH: the default command cannot start.
    euid(1000)
    monkeypatch.setenv('PATH', str(tmp_path))
    with pytest.raises(privsep.HelperFailed) as caught:
        privsep.start()
    assert caught.value.command[:2] == ['sudo', 'privsep-helper']
    assert caught.value.reason == 'sudo: No such file or directory'


def test_a_helper_that_exits_non_zero_is_quoted(global_conf, client_mode,
                                                tmp_path):
    # As sudo does when it wants a password.
    script = tmp_path / 'helper'
    script.write_text('#!/bin/sh\necho "sudo: a password is required" >&2\n'
                      'exit 1\n')
    script.chmod(0o755)
    helper(shlex.quote(str(script)))
    with pytest.raises(exception.DriverError) as caught:
        tools.run('xilinx', ['/opt/xilinx/xrt/bin/xbutil', 'examine'], 5)
    message = caught.value.faultstring
    assert 'the privileged helper (%s) could not start: ' % script in message
    assert 'exited non-zero (1); it said: sudo: a password is required' \
        in message


def test_a_failed_start_is_tried_again_at_the_next_call(
        global_conf, client_mode, tmp_path):
    helper(str(tmp_path / 'not-yet'))
    for _ in range(2):
        with pytest.raises(privsep.HelperFailed):
            privsep.start()
    assert CONTEXT.channel is None


def test_in_process_mode_starts_no_helper(global_conf, tmp_path):
    helper(str(tmp_path / 'no-such-helper'))
    privsep.start()
    assert CONTEXT.channel is None


# --- the tool itself --------------------------------------------------------

def test_a_missing_tool_is_named(tmp_path):
    with pytest.raises(exception.DriverError) as caught:
        tools.run('xilinx', [str(tmp_path / 'xbutil'), 'examine'], 5)
    assert caught.value.faultstring == (
        'Driver xilinx failed: cannot run %s: No such file or directory'
        % (tmp_path / 'xbutil'))


def test_a_tool_failing_is_quoted(tmp_path):
    with pytest.raises(exception.DriverError) as caught:
        tools.run('xilinx', ['/bin/sh', '-c', 'echo card busy >&2; exit 3'],
                  5)
    assert caught.value.faultstring == (
        'Driver xilinx failed: /bin/sh -c exited with status 3: card busy')


def test_a_helper_that_dies_during_a_call_is_not_the_tools_fault(
        monkeypatch):
    # What oslo.privsep raises when the daemon's socket closes mid-call.
    def premature_eof(argv, timeout):
        raise OSError('Premature eof waiting for privileged process')
    monkeypatch.setattr(tools.privileged_tools, 'execute', premature_eof)
    with pytest.raises(exception.DriverError) as caught:
        tools.run('xilinx', ['/opt/xbutil', 'examine'], 5)
    assert caught.value.faultstring == (
        'Driver xilinx failed: the privileged helper failed while running '
        '/opt/xbutil: Premature eof waiting for privileged process')
