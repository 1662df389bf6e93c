"""The toolchain step: the built-in packaging and a configured command."""

import calendar
import json
import os
import tarfile
import time

import pytest

from cyborg_clone.conductor import build_log
from cyborg_clone.conductor import dcp_archive
from cyborg_clone.conductor import fpga_toolchain
from tests.fixtures import dcp as fixtures

LIMITS = dcp_archive.Limits(max_tarball_bytes=2 ** 20, max_members=8,
                            max_extracted_bytes=2 ** 20)


@pytest.fixture
def checked(tmp_path):
    tarball = fixtures.make_dcp_tarball(tmp_path / 'dcp.tar')
    return dcp_archive.check_and_extract(
        str(tarball), str(tmp_path / 'build' / 'design'), LIMITS)


@pytest.fixture
def output(tmp_path):
    return str(tmp_path / 'build' / 'image.bin')


@pytest.fixture
def log():
    return build_log.BuildLog()


def use_toolchain(conf, tmp_path, script, args='{dcp} {output}'):
    """Configure a ``#!/bin/sh`` toolchain running ``script``."""
    path = tmp_path / 'toolchain.sh'
    path.write_text('#!/bin/sh\n' + script)
    path.chmod(0o755)
    conf.set_override('toolchain_command', '%s %s' % (path, args),
                      group='fpga_image')


def build_fails(conf, checked, output, log):
    with pytest.raises(dcp_archive.DCPError) as caught:
        fpga_toolchain.build_image(conf, checked, output, log)
    assert caught.value.code == 'TOOLCHAIN_FAILED'
    return caught.value.message


def error_lines(log):
    return [line for line in log.text.splitlines() if ' ERROR ' in line]


def test_builtin_step_packages_the_design_with_its_metadata(
        conf, checked, output, log):
    fpga_toolchain.build_image(conf, checked, output, log)

    with tarfile.open(output) as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members}
    assert [m.name for m in members] == ['image.json', 'manifest.json',
                                         'design.dcp']
    info = json.loads(files['image.json'])
    assert {key: info[key] for key in fpga_toolchain.IMAGE_INFO_KEYS} == {
        key: fixtures.manifest_for()[key]
        for key in fpga_toolchain.IMAGE_INFO_KEYS}
    assert info['dcp_sha256'] == checked.dcp_sha256
    assert info['dcp_member'] == fixtures.DCP_NAME
    assert files['design.dcp'] == fixtures.DCP_BYTES
    assert json.loads(files['manifest.json']) == checked.manifest
    # Fixed attributes, so the bytes depend on the design and the time only.
    assert {(m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {
        (0, 0, '', '', 0o644)}
    assert {m.mtime for m in members} == {calendar.timegm(time.strptime(
        info['built_at'], '%Y-%m-%dT%H:%M:%SZ'))}
    assert 'Built-in step: packaged design.dcp' in log.text


@pytest.mark.parametrize('kit', ['fp1-dashes', 'f1-manifest-txt'])
def test_builtin_step_packages_real_kit_designs(conf, tmp_path, output, log,
                                                kit):
    if kit == 'fp1-dashes':
        tarball = fixtures.make_dcp_tarball(
            tmp_path / 'dcp.tar', manifest=fixtures.fp1_kit_manifest_for())
        manifest_name = 'manifest.json'
    else:
        tarball = fixtures.make_dcp_tarball(tmp_path / 'dcp.tar',
                                            manifest_name='manifest.txt')
        manifest_name = 'manifest.txt'
    checked = dcp_archive.check_and_extract(
        str(tarball), str(tmp_path / 'build' / 'design'), LIMITS)

    fpga_toolchain.build_image(conf, checked, output, log)

    with tarfile.open(output) as tar:
        assert tar.getnames() == ['image.json', manifest_name, 'design.dcp']
        info = json.load(tar.extractfile('image.json'))
    assert info['fpga_chip'] == 'vu9p'
    if kit == 'fp1-dashes':
        # "-" is "not set", never a value.
        assert info['pci_subsystem_id'] is None
        assert info['pci_subsystem_vendor_id'] is None
    else:
        assert info['pci_subsystem_id'] == '0x1D51'
    assert 'with %s and image.json' % manifest_name in log.text


def test_configured_command_runs_without_a_shell_and_writes_the_image(
        conf, tmp_path, checked, output, log):
    use_toolchain(conf, tmp_path, 'echo "args: $*"\necho "cwd: $(pwd)"\n'
                  'cp "$1" "$3"\n',
                  args='{dcp} {manifest} {output} {workdir} "a;b > c *"')

    fpga_toolchain.build_image(conf, checked, output, log)

    with open(output, 'rb') as image:
        assert image.read() == fixtures.DCP_BYTES
    workdir = os.path.dirname(checked.dcp_path)
    assert 'args: %s %s %s %s a;b > c *' % (
        checked.dcp_path, checked.manifest_path, output, workdir) in log.text
    assert 'cwd: %s' % workdir in log.text
    assert error_lines(log) == []


def test_non_zero_exit_fails_with_the_tools_stderr_in_the_log(
        conf, tmp_path, checked, output, log):
    use_toolchain(conf, tmp_path,
                  'echo "[Place 30-640] placement failed" >&2\nexit 3\n')

    message = build_fails(conf, checked, output, log)

    assert message == 'toolchain toolchain.sh exited with status 3'
    assert any('[Place 30-640] placement failed' in line
               for line in error_lines(log))


def test_timeout_kills_the_tool_and_what_it_started(
        conf, tmp_path, checked, output, log):
    conf.set_override('toolchain_timeout', 1, group='fpga_image')
    pid_file = tmp_path / 'sleep.pid'
    use_toolchain(conf, tmp_path, 'echo "routing started" >&2\n'
                  'sleep 60 &\necho $! > %s\nwait\n' % pid_file)
    started = time.monotonic()

    message = build_fails(conf, checked, output, log)

    assert time.monotonic() - started < 30
    assert message == ('toolchain toolchain.sh did not finish within 1 '
                       'seconds')
    assert any('routing started' in line for line in error_lines(log))
    assert not running(int(pid_file.read_text()))


def running(pid):
    """Whether ``pid`` still runs (a killed, unreaped child does not)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open('/proc/%d/stat' % pid) as stat:
                state = stat.read().rsplit(')', 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ('Z', 'X'):
            return False
        time.sleep(0.05)
    return True


def test_missing_output_fails_even_if_a_stale_file_was_there(
        conf, tmp_path, checked, output, log):
    with open(output, 'wb') as stale:
        stale.write(b'from an earlier attempt')
    use_toolchain(conf, tmp_path, 'echo "nothing to implement" >&2\n')

    message = build_fails(conf, checked, output, log)

    assert message == ('toolchain toolchain.sh exited with status 0 but '
                       'wrote no image')
    assert any('nothing to implement' in line for line in error_lines(log))
    assert not os.path.exists(output)


def test_a_tool_that_cannot_start_fails(conf, checked, output, log):
    conf.set_override('toolchain_command', '/nonexistent/vivado {dcp}',
                      group='fpga_image')

    message = build_fails(conf, checked, output, log)

    assert message.startswith('cannot start toolchain vivado: ')


def test_the_tool_does_not_see_secrets_from_the_environment(
        conf, tmp_path, checked, output, log, monkeypatch):
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'hunter2')
    monkeypatch.setenv('OS_PASSWORD', 'correct-horse')
    use_toolchain(conf, tmp_path, 'env\ncp "$1" "$2"\n')

    fpga_toolchain.build_image(conf, checked, output, log)

    assert 'PATH=' in log.text
    assert 'hunter2' not in log.text
    assert 'correct-horse' not in log.text
