"""Privilege separation for the agent (oslo.privsep).

Vendor tools that program or query cards need root. The agent sends each
such call to a privsep daemon, which keeps only the capabilities below.
The daemon is started on first use (``start``) by the helper command of
``AgentContext.base_command``: ``[privsep]helper_command`` when set; for
an agent already running as root, this interpreter's own helper, with no
sudo; otherwise ``sudo privsep-helper``; the last two with the agent's
config files. Tests run the entry points in-process with
``sys_admin_pctxt.set_client_mode(False)``.
"""

import contextlib
import logging as std_logging
import os
import shlex
import sys
import threading
import time

from oslo_config import cfg
from oslo_log import log as oslo_logging
from oslo_privsep import capabilities
from oslo_privsep import priv_context

# What the privsep-helper console script runs, for ``python -c``. Not
# ``python -m oslo_privsep.daemon``: the daemon would then be __main__, a
# second copy of the module whose exceptions the agent could not import.
# The package first, which keeps eventlet out (common/concurrency.py): the
# daemon would import it when it can, and its deprecation warning would
# reach the agent's log line by line at every start.
HELPER_ENTRY_POINT = 'oslo_privsep.daemon:helper_main'
HELPER_CODE = ('import cyborg_clone; '
               'from oslo_privsep.daemon import helper_main; helper_main()')

# The helper's stderr reaches the agent through oslo.privsep's logger; the
# daemon's own log through the context's ([privsep]logger_name).
_HELPER_LOGGER = 'oslo_privsep.daemon'

# How long a failed start waits for the helper's output, which
# oslo.privsep relays from a pipe in a thread of its own: until it stops
# for _OUTPUT_SETTLE seconds, at most _OUTPUT_WAIT.
_OUTPUT_SETTLE = 0.2
_OUTPUT_WAIT = 2.0
# Enough of what the helper said for a log line and a status report.
_MAX_OUTPUT = 400


class HelperFailed(Exception):
    """The privileged helper could not start; vendor tools cannot run."""

    def __init__(self, command, reason):
        self.command = command
        self.reason = reason
        super().__init__(
            'the privileged helper (%s) could not start: %s. Vendor tools '
            'run as root through it; see [privsep]helper_command.'
            % (shlex.join(command), reason))


def _config_arguments():
    """The agent's --config-file and --config-dir arguments, so the helper
    reads the same [privsep] and logging options."""
    arguments = []
    try:
        for path in cfg.CONF.config_file or ():
            arguments += ['--config-file', path]
        for directory in cfg.CONF.config_dir or ():
            arguments += ['--config-dir', directory]
    except cfg.NoSuchOptError:
        # cfg.CONF was never parsed (a library use): no files to pass.
        pass
    return arguments


class AgentContext(priv_context.PrivContext):
    """oslo.privsep's context, with a default helper command that works
    for an agent running as root on a host without sudo."""

    def base_command(self):
        """The command that starts the helper, before the context and
        socket arguments oslo.privsep appends."""
        if self.conf.helper_command:
            return shlex.split(self.conf.helper_command)
        if os.geteuid() == 0:
            # Already root: sudo adds nothing, and many containers (and
            # the all-in-one run as root) have none. The helper is this
            # very interpreter's oslo.privsep, so it is the one installed
            # with the agent whatever PATH holds. oslo.privsep's fork
            # method would also need no sudo, but it forks the running
            # agent without exec: the child inherits its RPC and periodic
            # threads' locks (possibly held) and its broker sockets. A
            # fresh process is the same daemon the sudo path starts, minus
            # sudo.
            command = [sys.executable, '-c', HELPER_CODE]
        else:
            command = ['sudo', 'privsep-helper']
        return command + _config_arguments()

    def helper_command(self, sockpath):
        # Called by oslo.privsep to start the daemon.
        return self.base_command() + [
            '--privsep_context', self.pypath,
            '--privsep_sock_path', sockpath]


sys_admin_pctxt = AgentContext(
    'cyborg_clone',
    cfg_section='privsep',
    pypath=__name__ + '.sys_admin_pctxt',
    # Vendor tools open device nodes and write sysfs and PCI config space.
    capabilities=[capabilities.CAP_SYS_ADMIN,
                  capabilities.CAP_DAC_OVERRIDE,
                  capabilities.CAP_DAC_READ_SEARCH,
                  capabilities.CAP_CHOWN,
                  capabilities.CAP_FOWNER],
)

_start_lock = threading.Lock()


def start(context=sys_admin_pctxt):
    """Start the privsep daemon unless it runs already (or entry points
    run in-process).

    oslo.privsep would start it on the first call too, but its failures
    would then read like the tool's own: a missing ``sudo`` is an OSError
    "No such file or directory", as a missing tool is.

    :raises HelperFailed: naming the command tried and why it failed
        (its error, or what it wrote to stderr).
    """
    if not context.client_mode:
        return
    with _start_lock:
        channel = context.channel
        if channel is not None and channel.running:
            return
        if channel is not None:
            # The daemon died (killed, crashed): start a new one.
            context.stop()
        command = context.base_command()
        output = _HelperOutput()
        with output.collecting(_HELPER_LOGGER, context.conf.logger_name):
            try:
                context.start()
            except OSError as error:
                # The helper command itself could not be executed.
                raise HelperFailed(command, '%s: %s' % (
                    error.filename or command[0],
                    error.strerror or error)) from None
            except Exception as error:
                # FailedToDropPrivileges for a helper that exited non-zero
                # or never answered; what it said explains why.
                said = output.settled()
                reason = str(error).rstrip('.')
                if said:
                    reason += '; it said: ' + said
                raise HelperFailed(command, reason) from None


class _HelperOutput(std_logging.Handler):
    """What the helper wrote to stderr, or its daemon logged before it
    failed, while collecting."""

    def __init__(self):
        super().__init__(std_logging.WARNING)
        self.lines = []

    def emit(self, record):
        if record.msg == 'privsep log: %s':
            line = str(record.args[0]) if record.args else ''
        elif record.process != os.getpid():
            line = record.getMessage()
        else:
            return  # oslo.privsep's own messages, about the helper.
        if line.strip():
            self.lines.append(line.strip())

    @contextlib.contextmanager
    def collecting(self, *names):
        # oslo.log's names, which become "oslo.privsep..." for the std
        # logging tree.
        loggers = {oslo_logging.getLogger(name).logger for name in names}
        for logger in loggers:
            logger.addHandler(self)
        try:
            yield self
        finally:
            for logger in loggers:
                logger.removeHandler(self)

    def settled(self):
        """The output once no more arrives, its end if long. A helper that
        failed nearly always said why: without a line yet, wait longer."""
        deadline = time.monotonic() + _OUTPUT_WAIT
        seen = 0
        while time.monotonic() < deadline:
            time.sleep(_OUTPUT_SETTLE)
            if self.lines and len(self.lines) == seen:
                break
            seen = len(self.lines)
        return ' / '.join(self.lines)[-_MAX_OUTPUT:]

