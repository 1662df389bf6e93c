"""Running a vendor tool for a driver, with failures as DriverError."""

from oslo_log import log as logging

from cyborg_clone import privsep
from cyborg_clone.common import exception
from cyborg_clone.privsep import tools as privileged_tools

LOG = logging.getLogger(__name__)

# Enough of a tool's stderr to say what went wrong, short enough for an
# ARQ's bind_failure column and a log line.
_MAX_REASON = 400


def run(driver, argv, timeout):
    """Run a vendor tool as root and return its stdout.

    :param driver: the calling driver's name, for errors and logs.
    :param argv: the command; ``argv[0]`` is the tool's configured path.
    :param timeout: seconds before the tool is killed.
    :raises DriverError: when the privileged helper cannot start (the
        message names its command and why), the tool is missing, exits
        non-zero (the message carries its stderr, or stdout when stderr is
        empty) or runs past ``timeout``.
    """
    LOG.debug('Driver %s runs %s', driver, argv)
    start_helper(driver)
    try:
        status, out, err = privileged_tools.execute(list(argv), timeout)
    except OSError as error:
        if error.errno is None:
            # Not the tool failing to start (that has an errno) but the
            # channel to the daemon: it died during the call.
            raise exception.DriverError(
                driver=driver, reason='the privileged helper failed while '
                                      'running %s: %s' % (argv[0], error)
            ) from None
        raise exception.DriverError(
            driver=driver, reason='cannot run %s: %s'
                                  % (argv[0], error.strerror or error)
        ) from None
    if status is None:
        raise exception.DriverError(
            driver=driver, reason='%s did not finish within %d seconds.'
                                  % (' '.join(argv[:2]), timeout))
    if status != 0:
        said = (err.strip() or out.strip() or 'no output')[-_MAX_REASON:]
        raise exception.DriverError(
            driver=driver, reason='%s exited with status %d: %s'
                                  % (' '.join(argv[:2]), status, said))
    return out


def start_helper(driver):
    """Start (or find running) the privileged helper ``driver`` acts
    through; raises DriverError naming the helper's command and why."""
    try:
        privsep.start()
    except privsep.HelperFailed as error:
        raise exception.DriverError(driver=driver, reason=str(error)
                                    ) from None
