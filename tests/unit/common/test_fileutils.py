"""Atomic, durable file writes (common.fileutils)."""

import os
import stat
import types

import pytest

from cyborg_clone.common import fileutils


@pytest.fixture
def syncs(monkeypatch):
    """Records each fsync as (inode synced, what ``target`` held then)."""
    record = types.SimpleNamespace(target=None, seen=[])
    real_fsync = os.fsync

    def fsync(fd):
        held = record.target.read_bytes() if record.target.exists() else None
        record.seen.append((os.fstat(fd).st_ino, held))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    return record


def test_the_new_file_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'old')
    with fileutils.atomic_output(str(target)) as out:
        out.write(b'new ')
        out.write(b'content')
    assert target.read_bytes() == b'new content'
    assert os.listdir(tmp_path) == ['f']
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with fileutils.atomic_output(str(target)) as out:
            out.write(b'half written')
            raise RuntimeError('interrupted')
    assert os.listdir(tmp_path) == ['f']
    assert target.read_bytes() == b'old'


def test_a_failing_rename_leaves_no_temporary(tmp_path):
    # A directory where the file should go: the rename itself fails.
    (tmp_path / 'f').mkdir()
    with pytest.raises(OSError):
        with fileutils.atomic_output(str(tmp_path / 'f')) as out:
            out.write(b'new')
    assert os.listdir(tmp_path) == ['f']
    assert (tmp_path / 'f').is_dir()


def test_the_file_is_synced_before_and_its_directory_after_the_rename(
        tmp_path, syncs):
    target = syncs.target = tmp_path / 'f'
    target.write_bytes(b'old')
    with fileutils.atomic_output(str(target)) as out:
        out.write(b'new')
    # The data reached the disk while the old file was still in place,
    # then the rename did: a crash at any point leaves one whole file.
    assert syncs.seen == [(target.stat().st_ino, b'old'),
                          (tmp_path.stat().st_ino, b'new')]


def test_a_name_relative_to_an_open_directory(tmp_path, syncs):
    (tmp_path / 'bucket').mkdir()
    target = syncs.target = tmp_path / 'bucket' / 'key'
    fd = os.open(tmp_path / 'bucket', os.O_RDONLY | os.O_DIRECTORY)
    try:
        with fileutils.atomic_output('key', dir_fd=fd) as out:
            out.write(b'object')
        with pytest.raises(RuntimeError):
            with fileutils.atomic_output('key', dir_fd=fd) as out:
                raise RuntimeError('interrupted')
    finally:
        os.close(fd)
    assert target.read_bytes() == b'object'
    assert os.listdir(tmp_path / 'bucket') == ['key']
    assert syncs.seen[1] == ((tmp_path / 'bucket').stat().st_ino, b'object')
