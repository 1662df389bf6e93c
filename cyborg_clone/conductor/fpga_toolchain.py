"""The toolchain step: turns a checked DCP into the loadable image file."""

import datetime
import io
import json
import os
import re
import shlex
import signal
import subprocess
import tarfile
import tempfile

from cyborg_clone.conductor import dcp_manifest

DCPError = dcp_manifest.DCPError
IMAGE_INFO_NAME = 'image.json'
# Manifest keys the built-in image carries in its image.json.
IMAGE_INFO_KEYS = ('fpga_chip', 'fpga_board', 'fpga_vendor', 'shell_id',
                   'pci_vendor_id', 'pci_device_id', 'pci_subsystem_id',
                   'pci_subsystem_vendor_id')

_PLACEHOLDER = re.compile(r'\{(dcp|manifest|output|workdir)\}')
# The tool's output goes to the tenant; only its tail, so a chatty tool
# cannot fill the conductor's memory or the tenant's bucket.
_MAX_LOGGED_OUTPUT = 64 * 1024
# The tool's output goes to the tenant, and the conductor's environment may
# hold the object store's or Keystone's credentials: the tool never sees
# variables named like secrets.
_SECRET_ENV = re.compile(r'SECRET|PASSW|TOKEN|CREDENTIAL|ACCESS_KEY|PRIVATE',
                         re.IGNORECASE)


def build_image(conf, checked, output_path, log):
    """Write the loadable image of ``checked`` (a ``CheckedDCP``) at
    ``output_path``, reporting to ``log`` (a ``BuildLog``).

    With [fpga_image]toolchain_command set, runs it (no shell; ``{dcp}``,
    ``{manifest}``, ``{output}`` and ``{workdir}`` substituted in each
    argument; the design's directory as working directory) within
    [fpga_image]toolchain_timeout and logs its output. Otherwise packages
    the design deterministically: a tar of ``image.json`` (chip, PCI ids,
    shell_id, dcp_sha256, built_at), the manifest as the tenant wrote it
    (``manifest.json`` or ``manifest.txt``) and the ``.dcp``.

    Raises ``DCPError`` TOOLCHAIN_FAILED when the command cannot start,
    exits non-zero, times out (it is killed with all it started) or writes
    no output; OSError of the local disk passes through.
    """
    argv = shlex.split(conf.fpga_image.toolchain_command or '')
    if argv:
        _run_toolchain(argv, conf.fpga_image.toolchain_timeout, checked,
                       output_path, log)
    else:
        _package(checked, output_path, log)


def _run_toolchain(argv, timeout, checked, output_path, log):
    workdir = os.path.dirname(checked.dcp_path)
    values = {'dcp': checked.dcp_path, 'manifest': checked.manifest_path,
              'output': output_path, 'workdir': workdir}
    # One pass, so a substituted path is never substituted again; str.format
    # would also choke on the braces of Tcl arguments.
    argv = [_PLACEHOLDER.sub(lambda m: values[m.group(1)], arg)
            for arg in argv]
    tool = os.path.basename(argv[0])
    # A stale file from an earlier attempt must not pass for this output.
    if os.path.lexists(output_path):
        os.unlink(output_path)
    # Only the tool's name: the full command line is the operator's business.
    log.info('Running toolchain %s (timeout %d s).', tool, timeout)
    with (tempfile.TemporaryFile(dir=workdir) as out,
          tempfile.TemporaryFile(dir=workdir) as err):
        status = _run(argv, workdir, timeout, out, err)
        if status is None:
            failure = 'did not finish within %d seconds' % timeout
        elif status < 0:
            failure = 'was killed by signal %d' % -status
        elif status > 0:
            failure = 'exited with status %d' % status
        elif not os.path.isfile(output_path):
            failure = 'exited with status 0 but wrote no image'
        else:
            failure = None
        _log_output(log.info, 'stdout', out)
        _log_output(log.error if failure else log.info, 'stderr', err)
    if failure:
        raise DCPError('TOOLCHAIN_FAILED', 'toolchain %s %s'
                       % (tool, failure))
    log.info('Toolchain %s wrote the image (%d bytes).', tool,
             os.path.getsize(output_path))


def _run(argv, cwd, timeout, stdout, stderr):
    """The tool's exit status, or None when it ran out of time."""
    env = {name: value for name, value in os.environ.items()
           if not _SECRET_ENV.search(name)}
    try:
        # Files, not pipes: no deadlock on a full pipe, and the output of a
        # killed tool is still there to log.
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=stderr, start_new_session=True)
    except OSError as error:
        raise DCPError('TOOLCHAIN_FAILED', 'cannot start toolchain %s: %s'
                       % (os.path.basename(argv[0]), error.strerror)
                       ) from None
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        if process.returncode is None:
            # Its own session: the kill reaches whatever it started too.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _log_output(emit, name, stream):
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - _MAX_LOGGED_OUTPUT))
    text = stream.read().decode('utf-8', 'replace')
    if text:
        cut = ' (last %d bytes)' % _MAX_LOGGED_OUTPUT if (
            size > _MAX_LOGGED_OUTPUT) else ''
        emit('Toolchain %s%s:\n%s', name, cut, text)


def _package(checked, output_path, log):
    """The built-in step: the design and its metadata in one tar, with
    fixed member order and attributes, so equal inputs built in the same
    second give equal bytes."""
    built_at = datetime.datetime.now(datetime.timezone.utc)
    info = {key: checked.manifest.get(key) for key in IMAGE_INFO_KEYS}
    info.update(dcp_sha256=checked.dcp_sha256,
                dcp_member=checked.dcp_member, builder='built-in',
                built_at=built_at.strftime('%Y-%m-%dT%H:%M:%SZ'))
    info_bytes = json.dumps(info, indent=2, sort_keys=True).encode()
    mtime = int(built_at.timestamp())
    dcp_name = os.path.basename(checked.dcp_path)
    manifest_name = os.path.basename(checked.manifest_path)
    with tarfile.open(output_path, 'w') as tar:
        _add(tar, IMAGE_INFO_NAME, io.BytesIO(info_bytes), len(info_bytes),
             mtime)
        for name, path in ((manifest_name, checked.manifest_path),
                           (dcp_name, checked.dcp_path)):
            with open(path, 'rb') as source:
                _add(tar, name, source, os.fstat(source.fileno()).st_size,
                     mtime)
    log.info('Built-in step: packaged %s (sha256 %s) with %s and %s into '
             'the image (%d bytes).', dcp_name, checked.dcp_sha256,
             manifest_name, IMAGE_INFO_NAME,
             os.path.getsize(output_path))


def _add(tar, name, source, size, mtime):
    member = tarfile.TarInfo(name)  # owner root, no user names
    member.size = size
    member.mode = 0o644
    member.mtime = mtime
    tar.addfile(member, source)
