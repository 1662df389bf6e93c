"""The privileged sysfs write drivers need: resetting a PCI function."""

import os

from cyborg_clone import privsep


@privsep.sys_admin_pctxt.entrypoint
def reset_function(function_path):
    """Write ``1`` to ``<function_path>/reset``: the kernel resets the
    function (a function-level reset, or the method it supports).

    Only a PCI function's directory is accepted (it has a ``vendor``
    file), and ``reset`` is neither created nor followed as a link, so
    this entry point writes nothing else as root.

    :raises ValueError: when ``function_path`` is not an absolute path to
        a PCI function's directory.
    :raises OSError: when the write fails; ``ENOENT`` when the function
        has no ``reset`` (the kernel knows no way to reset it alone).
    """
    if not (os.path.isabs(function_path)
            and os.path.isfile(os.path.join(function_path, 'vendor'))):
        raise ValueError('%s is not a PCI function\'s sysfs directory'
                         % function_path)
    fd = os.open(os.path.join(function_path, 'reset'),
                 os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.write(fd, b'1')
    finally:
        os.close(fd)
