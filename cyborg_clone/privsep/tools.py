"""The one privileged entry point: run a vendor tool."""

import subprocess

from cyborg_clone import privsep


@privsep.sys_admin_pctxt.entrypoint
def execute(argv, timeout):
    """Run ``argv`` (no shell) and wait at most ``timeout`` seconds.

    :returns: ``(exit status, stdout, stderr)``, the outputs decoded as
        UTF-8 with bad bytes replaced; exit status None when the tool was
        killed for running past ``timeout``.
    :raises OSError: when the tool cannot be started (missing, not
        executable).
    """
    try:
        done = subprocess.run(list(argv), capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as expired:
        return None, _text(expired.stdout), _text(expired.stderr)
    return done.returncode, _text(done.stdout), _text(done.stderr)


def _text(data):
    return (data or b'').decode('utf-8', errors='replace')
