"""Cleaning a PCI function between two tenants: NVMe erase, PCI reset.

Each action takes the function's sysfs directory (``PciFunction.path``),
the agent's configuration and the calling driver's name (for errors), and
raises DriverError saying what failed; returning means the device is
clean. Both need root: ``nvme`` runs through the privileged tool runner,
and the ``reset`` write through its own privileged entry point.
"""

import errno
import os
import re

from cyborg_clone.common import exception
from cyborg_clone.drivers import tools
from cyborg_clone.privsep import sysfs as privileged_sysfs

NVME_SECURE_ERASE = 'nvme-secure-erase'
PCI_RESET = 'pci-reset'
ACTIONS = (NVME_SECURE_ERASE, PCI_RESET)

_CONTROLLER = re.compile(r'^nvme\d+$')
# Secure Erase Settings 1: user data erase of every namespace.
_USER_DATA_ERASE = '--ses=1'


def nvme_controller(function_path):
    """The NVMe controller (``nvme0``) the kernel made of the function,
    from its ``nvme/`` directory, or None (no ``nvme`` driver bound)."""
    try:
        names = os.listdir(os.path.join(function_path, 'nvme'))
    except (FileNotFoundError, NotADirectoryError):
        return None
    controllers = sorted((n for n in names if _CONTROLLER.match(n)),
                         key=lambda n: int(n[4:]))
    return controllers[0] if controllers else None


def nvme_secure_erase(function_path, conf, driver):
    """``nvme format /dev/<controller> --ses=1 --force``: erase the user
    data of every namespace. ``--force`` only skips the 10-second warning
    nvme-cli otherwise sleeps through before formatting.

    :raises DriverError: when the function has no NVMe controller (bound
        to another driver, e.g. still to vfio-pci) or nvme fails, runs
        past ``[pci]cleanup_timeout`` or is missing.
    """
    controller = nvme_controller(function_path)
    if controller is None:
        raise exception.DriverError(
            driver=driver,
            reason='%s: no NVMe controller under %s/nvme (is the function '
                   'bound to the nvme driver?); it was not erased.'
                   % (NVME_SECURE_ERASE, function_path))
    tools.run(driver, [conf.pci.nvme_path, 'format', '/dev/' + controller,
                       _USER_DATA_ERASE, '--force'],
              conf.pci.cleanup_timeout)


def pci_reset(function_path, conf, driver):
    """Write ``1`` to the function's sysfs ``reset``, as root.

    :raises DriverError: when the function cannot be reset alone (no
        ``reset``), the write fails, or the privileged helper cannot
        start.
    """
    tools.start_helper(driver)
    try:
        privileged_sysfs.reset_function(function_path)
    except FileNotFoundError:
        raise exception.DriverError(
            driver=driver,
            reason='%s: %s has no reset file; the kernel knows no way to '
                   'reset this function alone.' % (PCI_RESET, function_path)
        ) from None
    except OSError as error:
        raise exception.DriverError(
            driver=driver, reason='%s of %s failed: %s' % (
                PCI_RESET, function_path,
                error.strerror or errno.errorcode.get(error.errno, error))
        ) from None
    except ValueError as error:
        raise exception.DriverError(driver=driver, reason=str(error)
                                    ) from None


_RUNNERS = {NVME_SECURE_ERASE: nvme_secure_erase, PCI_RESET: pci_reset}


def run(action, function_path, conf, driver):
    """Run cleanup ``action`` (one of ACTIONS) on a function.

    :raises ValueError: for an unknown action (a configuration check
        missed it).
    :raises DriverError: as the action raises it.
    """
    try:
        runner = _RUNNERS[action]
    except KeyError:
        raise ValueError('unknown cleanup action %r; known: %s'
                         % (action, ', '.join(ACTIONS))) from None
    runner(function_path, conf, driver)
