"""Writing a file atomically and durably: the whole new file or the old one.

The content goes to a hidden temporary file beside the target, which is
synced, renamed over the target, and the directory synced, so that after a
crash (of the process or of the machine) readers find either the old file
or the whole new one, never a part. On any error the temporary file is
removed and the target is untouched.
"""

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_output(path, dir_fd=None):
    """A binary file that replaces ``path`` only when the block succeeds.

    :param path: the file to create or replace; with ``dir_fd``, a name
        relative to that open directory.
    :param dir_fd: an open directory ``path`` is relative to, or None.
    :raises OSError: when the file cannot be written; the block's own
        errors pass through. Either way nothing is left behind.
    """
    directory, name = os.path.split(path)
    temp = os.path.join(directory,
                        '.%s.%s.part' % (name, secrets.token_hex(8)))
    # 0600 as tempfile.mkstemp: what is written (tenants' designs, the
    # agent's state) is nobody else's.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, 'wb') as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    # The rename lives in the directory: without this a crash may forget
    # it, leaving the old file after the caller was told of the new one.
    _sync_directory(directory, dir_fd)


def _sync_directory(directory, dir_fd):
    if dir_fd is not None and not directory:
        os.fsync(dir_fd)
        return
    fd = os.open(directory or '.', os.O_RDONLY | os.O_DIRECTORY,
                 dir_fd=dir_fd)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
