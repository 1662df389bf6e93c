"""clients/object_store.py: one behaviour suite run on both backends, the
file one on a tmp dir and the S3 one against moto's standalone server (a
real S3-protocol service, in its own process on loopback)."""

import contextlib
import logging
import os
import threading
import uuid

import pytest

from cyborg_clone.clients import object_store
from cyborg_clone.common import exception
from tests.fixtures import s3 as s3_fixture
from tests.functional import processes

# Over boto3's 8 MiB multipart threshold, so S3 uploads it in parts.
BIG = 9 * 1024 * 1024 + 17


@pytest.fixture(scope='module')
def moto(tmp_path_factory):
    """One server per module and xdist worker; tests use fresh buckets."""
    with s3_fixture.moto_server(tmp_path_factory.mktemp('moto')) as server:
        yield server


@pytest.fixture(scope='module')
def s3(moto):
    # One client for the module: building one takes a few tenths of a
    # second (boto3 loads its service models per session).
    return s3_store(moto.url)


def s3_store(url, **kwargs):
    return object_store.S3ObjectStore(url, s3_fixture.REGION,
                                      s3_fixture.ACCESS_KEY,
                                      s3_fixture.SECRET_KEY, **kwargs)


class Backend:
    """A store and a fresh bucket in it."""

    def __init__(self, name, store, make_bucket):
        self.name = name
        self.store = store
        self.make_bucket = make_bucket
        self.bucket = make_bucket()


@pytest.fixture(params=['file', 's3'])
def backend(request, tmp_path):
    if request.param == 'file':
        root = tmp_path / 'buckets'

        def make_bucket():
            name = 'b-%s' % uuid.uuid4().hex[:12]
            (root / name).mkdir(parents=True)
            return name
        return Backend('file', object_store.FileObjectStore(str(root)),
                       make_bucket)
    store = request.getfixturevalue('s3')

    # Tenants own their buckets, so the store cannot make one: its boto3
    # client does, rather than building another client per test.
    def make_bucket():
        name = 'b-%s' % uuid.uuid4().hex[:12]
        store._client.create_bucket(Bucket=name)
        return name
    return Backend('s3', store, make_bucket)


@pytest.fixture
def files(tmp_path):
    """A directory for local sources and download destinations."""
    path = tmp_path / 'local'
    path.mkdir()
    return path


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_round_trip_of_a_multi_mb_file(backend, files):
    data = os.urandom(BIG)
    backend.store.upload(backend.bucket, 'dcp.tar',
                         write(files / 'dcp.tar', data))
    assert backend.store.size(backend.bucket, 'dcp.tar') == BIG
    dest = files / 'copy.tar'
    assert backend.store.download(backend.bucket, 'dcp.tar',
                                  str(dest)) == BIG
    assert dest.read_bytes() == data
    assert sorted(os.listdir(files)) == ['copy.tar', 'dcp.tar']


def test_keys_with_directories_are_separate_objects(backend, files):
    backend.store.upload(backend.bucket, 'vu9p/dcp/x.tar',
                         write(files / 'x', b'x' * 10))
    backend.store.upload(backend.bucket, 'vu9p/y.tar',
                         write(files / 'y', b'y' * 20))
    assert backend.store.size(backend.bucket, 'vu9p/dcp/x.tar') == 10
    assert backend.store.size(backend.bucket, 'vu9p/y.tar') == 20
    backend.store.download(backend.bucket, 'vu9p/dcp/x.tar',
                           str(files / 'out'))
    assert (files / 'out').read_bytes() == b'x' * 10


def test_a_key_prefix_is_not_an_object(backend, files):
    backend.store.upload(backend.bucket, 'vu9p/x.tar',
                         write(files / 'x', b'x'))
    with pytest.raises(exception.ObjectNotFound):
        backend.store.size(backend.bucket, 'vu9p')


def test_upload_replaces_an_object(backend, files):
    backend.store.upload(backend.bucket, 'a.tar', write(files / 'a', b'1'))
    backend.store.upload(backend.bucket, 'a.tar', write(files / 'a', b'22'))
    backend.store.download(backend.bucket, 'a.tar', str(files / 'out'))
    assert (files / 'out').read_bytes() == b'22'


def test_download_replaces_the_destination(backend, files):
    backend.store.upload(backend.bucket, 'a.tar', write(files / 'a', b'new'))
    dest = write(files / 'out', b'old and longer')
    assert backend.store.download(backend.bucket, 'a.tar', dest) == 3
    assert (files / 'out').read_bytes() == b'new'


def missing_bucket_calls(store, files):
    source = write(files / 'src', b'data')
    dest = str(files / 'dest')
    return {'download': lambda b, k: store.download(b, k, dest),
            'upload': lambda b, k: store.upload(b, k, source),
            'size': store.size,
            'delete': store.delete}


@pytest.mark.parametrize('operation',
                         ['download', 'upload', 'size', 'delete'])
def test_a_missing_bucket_is_object_not_found(backend, files, operation):
    call = missing_bucket_calls(backend.store, files)[operation]
    with pytest.raises(exception.ObjectNotFound) as caught:
        call('no-such-bucket', 'vu9p/x.tar')
    assert 'no-such-bucket:vu9p/x.tar' in str(caught.value)
    assert caught.value.code == 404
    assert not (files / 'dest').exists()


@pytest.mark.parametrize('operation', ['download', 'size'])
def test_a_missing_key_is_object_not_found(backend, files, operation):
    call = missing_bucket_calls(backend.store, files)[operation]
    with pytest.raises(exception.ObjectNotFound) as caught:
        call(backend.bucket, 'vu9p/none.tar')
    assert '%s:vu9p/none.tar' % backend.bucket in str(caught.value)
    assert not (files / 'dest').exists()


def test_an_object_over_max_bytes_is_refused_leaving_no_file(backend,
                                                             files):
    backend.store.upload(backend.bucket, 'big.tar',
                         write(files / 'big', b'z' * 1000))
    os.unlink(files / 'big')
    with pytest.raises(exception.ObjectTooLarge) as caught:
        backend.store.download(backend.bucket, 'big.tar',
                               str(files / 'dest'), max_bytes=999)
    assert caught.value.code == 400
    assert '%s:big.tar' % backend.bucket in str(caught.value)
    assert os.listdir(files) == []


def test_an_object_of_exactly_max_bytes_is_accepted(backend, files):
    backend.store.upload(backend.bucket, 'a.tar',
                         write(files / 'a', b'z' * 1000))
    assert backend.store.download(backend.bucket, 'a.tar',
                                  str(files / 'dest'), max_bytes=1000) == 1000


def test_delete_removes_the_object_and_may_be_repeated(backend, files):
    backend.store.upload(backend.bucket, 'vu9p/a.tar',
                         write(files / 'a', b'a'))
    backend.store.delete(backend.bucket, 'vu9p/a.tar')
    with pytest.raises(exception.ObjectNotFound):
        backend.store.size(backend.bucket, 'vu9p/a.tar')
    backend.store.delete(backend.bucket, 'vu9p/a.tar')


def test_get_object_store_builds_the_configured_backend(conf, moto, files):
    assert isinstance(object_store.get_object_store(conf),
                      object_store.FileObjectStore)
    assert object_store.get_object_store(conf).root == os.path.join(
        conf.state_path, 'buckets')
    for name, value in [('backend', 's3'), ('s3_endpoint_url', moto.url),
                        ('s3_access_key', s3_fixture.ACCESS_KEY),
                        ('s3_secret_key', s3_fixture.SECRET_KEY)]:
        conf.set_override(name, value, group='object_store')
    store = object_store.get_object_store(conf)
    store._client.create_bucket(Bucket='configured')
    store.upload('configured', 'k.tar', write(files / 'k', b'k'))
    assert store.size('configured', 'k.tar') == 1


# The streaming guard, for backends that cannot tell the size first or
# whose object grows between the size and the read.

class SizeUnknownStore(object_store.FileObjectStore):
    @contextlib.contextmanager
    def _reader(self, bucket, key):
        with super()._reader(bucket, key) as (body, size):
            yield body, None


def test_max_bytes_is_enforced_while_streaming(tmp_path, files):
    (tmp_path / 'bucket').mkdir()
    (tmp_path / 'bucket' / 'x.tar').write_bytes(b'z' * (3 << 20))
    store = SizeUnknownStore(str(tmp_path))
    with pytest.raises(exception.ObjectTooLarge):
        store.download('bucket', 'x.tar', str(files / 'dest'),
                       max_bytes=(1 << 20) + 1)
    assert os.listdir(files) == []


# File backend only: keys are paths there, so they are checked again.

@pytest.fixture
def file_store(tmp_path):
    """A file store with bucket "bucket" and a secret outside it."""
    (tmp_path / 'root' / 'bucket').mkdir(parents=True)
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside' / 'secret').write_bytes(b'secret')
    return object_store.FileObjectStore(str(tmp_path / 'root'))


@pytest.mark.parametrize('key', ['../x', '/etc/passwd', 'a/../../x',
                                 '../outside/secret', 'a//b', 'a/./b', '.',
                                 '', 'a/', 'a\0b'])
def test_keys_that_are_not_plain_relative_paths_are_refused(
        file_store, files, key):
    source = write(files / 'src', b'data')
    calls = [lambda: file_store.download('bucket', key, str(files / 'd')),
             lambda: file_store.upload('bucket', key, source),
             lambda: file_store.size('bucket', key),
             lambda: file_store.delete('bucket', key)]
    for call in calls:
        with pytest.raises(exception.Invalid):
            call()
    assert sorted(os.listdir(files)) == ['src']


@pytest.mark.parametrize('bucket', ['..', '.', '', 'root/bucket', '../root'])
def test_buckets_that_are_not_one_name_are_refused(file_store, bucket):
    with pytest.raises(exception.Invalid):
        file_store.size(bucket, 'x.tar')


def test_a_link_to_a_file_outside_is_not_followed(file_store, tmp_path,
                                                  files):
    os.symlink(tmp_path / 'outside' / 'secret',
               tmp_path / 'root' / 'bucket' / 'link.tar')
    with pytest.raises(exception.ObjectNotFound, match='symbolic link'):
        file_store.download('bucket', 'link.tar', str(files / 'dest'))
    with pytest.raises(exception.ObjectNotFound):
        file_store.size('bucket', 'link.tar')
    assert os.listdir(files) == []
    # Deleting removes the link, never what it points at.
    file_store.delete('bucket', 'link.tar')
    assert not os.path.lexists(tmp_path / 'root' / 'bucket' / 'link.tar')
    assert (tmp_path / 'outside' / 'secret').read_bytes() == b'secret'


def test_a_link_to_a_directory_outside_is_not_walked(file_store, tmp_path,
                                                     files):
    os.symlink(tmp_path / 'outside', tmp_path / 'root' / 'bucket' / 'dir')
    with pytest.raises(exception.ObjectNotFound, match='symbolic link'):
        file_store.download('bucket', 'dir/secret', str(files / 'dest'))
    with pytest.raises(exception.ObjectStoreError):
        file_store.upload('bucket', 'dir/planted',
                          write(files / 'src', b'x'))
    file_store.delete('bucket', 'dir/secret')
    assert sorted(os.listdir(tmp_path / 'outside')) == ['secret']


def test_a_fifo_in_a_bucket_is_no_object_and_does_not_hang(file_store,
                                                           tmp_path, files):
    os.mkfifo(tmp_path / 'root' / 'bucket' / 'pipe.tar')
    with pytest.raises(exception.ObjectNotFound):
        file_store.download('bucket', 'pipe.tar', str(files / 'dest'))
    assert os.listdir(files) == []


def test_upload_leaves_only_the_object(file_store, tmp_path, files):
    file_store.upload('bucket', 'vu9p/x.tar', write(files / 'x', b'x'))
    bucket = tmp_path / 'root' / 'bucket'
    assert os.listdir(bucket / 'vu9p') == ['x.tar']
    assert (bucket / 'vu9p' / 'x.tar').read_bytes() == b'x'


def test_readers_see_the_old_or_the_whole_new_object(file_store, files):
    old, new = b'o' * (2 << 20), b'n' * (3 << 20)
    file_store.upload('bucket', 'x.tar', write(files / 'old', old))
    write(files / 'new', new)
    seen = []

    def read():
        for i in range(20):
            dest = str(files / ('seen%d' % i))
            file_store.download('bucket', 'x.tar', dest)
            with open(dest, 'rb') as copy:
                seen.append(copy.read())
    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        file_store.upload('bucket', 'x.tar', str(files / 'new'))
    reader.join()
    assert all(data in (old, new) for data in seen)


# S3 backend only.

def test_s3_failures_are_object_store_errors_without_the_secret(caplog,
                                                                files):
    caplog.set_level(logging.DEBUG)
    # Nothing listens there: every request fails to connect.
    store = s3_store('http://127.0.0.1:%d' % processes.free_port(),
                     max_attempts=1)
    with pytest.raises(exception.ObjectStoreError) as caught:
        store.download('bucket', 'x.tar', str(files / 'dest'))
    assert caught.value.code == 503
    assert 'download bucket:x.tar' in str(caught.value)
    assert s3_fixture.SECRET_KEY not in str(caught.value)
    assert s3_fixture.SECRET_KEY not in caplog.text
    assert os.listdir(files) == []
