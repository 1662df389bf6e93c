"""Tenants' buckets: where builds read DCP tarballs and write their logs.

One contract (``ObjectStore``), two backends: a directory per bucket on
local disk (the embedded default) and any S3-protocol service through
boto3 (OBS, AWS S3, Ceph RGW, MinIO). Objects are streamed in chunks and
never held in memory whole.
"""

import abc
import contextlib
import errno
import os
import shutil
import stat

import boto3
from boto3.s3 import transfer
from botocore import config as botocore_config
from botocore import exceptions as botocore_exc
from oslo_log import log as logging

from cyborg_clone.common import exception
from cyborg_clone.common import fileutils

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024

# Every segment of a key is opened without following a link (ELOOP).
# O_NONBLOCK: opening a FIFO planted in a bucket must not hang; it is then
# refused for being neither a directory nor a regular file. (Not
# O_DIRECTORY: with it a link fails as ENOTDIR, no longer told apart.)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
# Errors that mean "there is no object at this key" in a file bucket.
_NO_OBJECT = {errno.ENOENT: 'no such object',
              errno.ENOTDIR: 'no such object',
              errno.EISDIR: 'no such object',
              errno.ELOOP: 'a symbolic link is on its path and the file '
                           'object store does not follow links'}


class ObjectStore(abc.ABC):
    """Objects named by bucket and key; buckets must exist before use."""

    def download(self, bucket, key, dest_path, max_bytes=None):
        """Copy an object into a local file, streaming it.

        ``dest_path`` appears only once the whole object is there: a
        failed or refused download leaves no partial file behind.

        :param bucket: the bucket's name.
        :param key: the object's key in the bucket.
        :param dest_path: the local file to create or replace.
        :param max_bytes: the largest object accepted, or None for any.
        :returns: the number of bytes written.
        :raises ObjectNotFound: the bucket or the object does not exist.
        :raises ObjectTooLarge: the object is larger than ``max_bytes``;
            checked before reading where the backend tells the size, and
            again while reading (the object may have been replaced).
        :raises ObjectStoreError: the backend failed.
        """
        with self._reader(bucket, key) as (body, size):
            if max_bytes is not None and size is not None:
                self._check_size(bucket, key, size, max_bytes)
            written = 0
            with fileutils.atomic_output(dest_path) as out:
                while chunk := body.read(CHUNK_SIZE):
                    written += len(chunk)
                    if max_bytes is not None:
                        self._check_size(bucket, key, written, max_bytes)
                    out.write(chunk)
        LOG.debug('Downloaded %s:%s (%d bytes) to %s.', bucket, key,
                  written, dest_path)
        return written

    @staticmethod
    def _check_size(bucket, key, size, max_bytes):
        if size > max_bytes:
            raise exception.ObjectTooLarge(bucket=bucket, key=key,
                                           max_bytes=max_bytes)

    @abc.abstractmethod
    def _reader(self, bucket, key):
        """A context manager giving ``(body, size)`` for an object.

        ``body`` is a binary file-like object to ``read(n)`` in chunks;
        ``size`` is the object's size in bytes as the backend reports it
        before any byte is read, or None when it cannot.

        :raises ObjectNotFound: the bucket or the object does not exist.
        :raises ObjectStoreError: the backend failed (also while reading).
        """

    @abc.abstractmethod
    def upload(self, bucket, key, source_path):
        """Store a local file as an object, replacing any of that key.

        Readers see the previous object or the whole new one.

        :param bucket: the bucket's name; the bucket must exist.
        :param key: the object's key in the bucket.
        :param source_path: the local file to store.
        :raises ObjectNotFound: the bucket does not exist.
        :raises ObjectStoreError: the backend failed.
        :raises OSError: ``source_path`` cannot be opened.
        """

    @abc.abstractmethod
    def size(self, bucket, key):
        """The size of an object in bytes.

        :raises ObjectNotFound: the bucket or the object does not exist.
        :raises ObjectStoreError: the backend failed.
        """

    @abc.abstractmethod
    def delete(self, bucket, key):
        """Remove an object; a missing object is not an error (as in S3).

        :raises ObjectNotFound: the bucket does not exist.
        :raises ObjectStoreError: the backend failed.
        """


class FileObjectStore(ObjectStore):
    """Each bucket a directory ``<root>/<bucket>``, each object the file
    at its key inside it: for one host, tests and laptops.

    The API validates keys already; this checks them again. Keys must be
    relative paths without empty, ``.`` or ``..`` segments, and they are
    walked one directory at a time without following symbolic links, so no
    key reaches outside its bucket even when links are planted in it. The
    bucket directory itself may be a link: the operator chose it, tenants
    cannot. Deleting leaves empty directories, which are not objects, so a
    concurrent upload never loses the directory it is writing into.
    """

    def __init__(self, root):
        self.root = root

    def _reader(self, bucket, key):
        return self._open_object(bucket, key)

    def upload(self, bucket, key, source_path):
        with open(source_path, 'rb') as source:
            try:
                with self._parent(bucket, key, create=True) as (fd, name):
                    with fileutils.atomic_output(name, dir_fd=fd) as out:
                        shutil.copyfileobj(source, out, CHUNK_SIZE)
            except OSError as error:
                raise _file_error('upload', bucket, key, error) from error

    def size(self, bucket, key):
        with self._open_object(bucket, key) as (_body, size):
            return size

    def delete(self, bucket, key):
        try:
            with self._parent(bucket, key) as (fd, name):
                os.unlink(name, dir_fd=fd)
        except OSError as error:
            if error.errno not in _NO_OBJECT:
                raise _file_error('delete', bucket, key, error) from error

    @contextlib.contextmanager
    def _open_object(self, bucket, key):
        """``(body, size)``: the object's file open for reading, and
        its size."""
        try:
            with self._parent(bucket, key) as (parent, name):
                fd, info = _open_at(parent, name)
        except OSError as error:
            if error.errno in _NO_OBJECT:
                raise exception.ObjectNotFound(
                    bucket=bucket, key=key,
                    reason=_NO_OBJECT[error.errno]) from None
            raise _file_error('read', bucket, key, error) from error
        # A directory (key "a" beside object "a/b"), a FIFO or a device is
        # no object, as in S3.
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise exception.ObjectNotFound(bucket=bucket, key=key,
                                           reason='no such object')
        with os.fdopen(fd, 'rb') as body:
            yield body, info.st_size

    @contextlib.contextmanager
    def _parent(self, bucket, key, create=False):
        """``(fd, name)``: the open directory holding ``key`` and the
        key's last segment; ``create`` makes missing directories.

        :raises ObjectNotFound: the bucket does not exist.
        :raises Invalid: the bucket or key is not a safe relative name.
        :raises OSError: a directory of the key cannot be walked.
        """
        segments = _segments(bucket, key)
        try:
            fd = os.open(os.path.join(self.root, bucket),
                         os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            raise exception.ObjectNotFound(bucket=bucket, key=key,
                                           reason='no such bucket') from None
        try:
            for segment in segments[:-1]:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(segment, dir_fd=fd)
                child, info = _open_at(fd, segment)
                os.close(fd)
                fd = child
                if not stat.S_ISDIR(info.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR,
                                             os.strerror(errno.ENOTDIR))
            yield fd, segments[-1]
        finally:
            os.close(fd)


def _open_at(dir_fd, name):
    """``(fd, stat)`` of ``name`` in directory ``dir_fd``, which must
    not be a symbolic link (ELOOP)."""
    fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    try:
        return fd, os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise


def _segments(bucket, key):
    """The key's path segments, once bucket and key are proven safe."""
    if (not isinstance(bucket, str) or bucket in ('', '.', '..')
            or '/' in bucket or '\0' in bucket):
        raise exception.Invalid(reason='%r is not a bucket name.' % (bucket,))
    segments = key.split('/') if isinstance(key, str) else ['']
    if any(s in ('', '.', '..') or '\0' in s for s in segments):
        raise exception.Invalid(
            reason='object key %r is not a relative path of non-empty '
                   'segments other than "." and "..".' % (key,))
    return segments


def _file_error(action, bucket, key, error):
    return exception.ObjectStoreError(
        action=action, bucket=bucket, key=key,
        reason=error.strerror or str(error))


# S3 error codes that mean the bucket or the object is missing. HEAD
# answers carry no body, hence only the status for them.
_S3_MISSING = {'NoSuchBucket': 'no such bucket',
               'NoSuchKey': 'no such object',
               '404': 'no such bucket or object',
               'NotFound': 'no such bucket or object'}


class S3ObjectStore(ObjectStore):
    """The buckets of an S3-protocol service, through boto3."""

    # Uploads here are build logs, which are small: parts are sent one
    # after the other instead of from a thread pool per upload.
    TRANSFER = transfer.TransferConfig(use_threads=False)

    def __init__(self, endpoint_url, region, access_key, secret_key,
                 max_attempts=4):
        """``endpoint_url`` None means AWS; keys None mean boto3's own
        lookup (environment, ~/.aws, instance metadata); ``max_attempts``
        counts the first try of each request and its retries."""
        self.endpoint_url = endpoint_url
        # Kept only to scrub it from error text, should a server echo it.
        self._secret_key = secret_key
        config = botocore_config.Config(
            # Path style (<endpoint>/<bucket>/<key>) works with OBS, MinIO,
            # Ceph RGW and moto; the virtual-host style needs DNS entries.
            s3={'addressing_style': 'path'},
            signature_version='s3v4',
            # botocore's "max_attempts" counts retries only.
            retries={'mode': 'standard', 'total_max_attempts': max_attempts},
            connect_timeout=10, read_timeout=60)
        # A session of its own: boto3's default session is shared and
        # creating clients from it is not thread-safe.
        self._client = boto3.session.Session().client(
            's3', endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=config)

    @contextlib.contextmanager
    def _reader(self, bucket, key):
        with self._translating('download', bucket, key):
            response = self._client.get_object(Bucket=bucket, Key=key)
            with contextlib.closing(response['Body']) as body:
                yield body, response.get('ContentLength')

    def upload(self, bucket, key, source_path):
        with open(source_path, 'rb') as source:
            with self._translating('upload', bucket, key):
                self._client.upload_fileobj(source, bucket, key,
                                            Config=self.TRANSFER)

    def size(self, bucket, key):
        with self._translating('read', bucket, key):
            return self._client.head_object(
                Bucket=bucket, Key=key)['ContentLength']

    def delete(self, bucket, key):
        with self._translating('delete', bucket, key):
            self._client.delete_object(Bucket=bucket, Key=key)

    @contextlib.contextmanager
    def _translating(self, action, bucket, key):
        """Turn boto3's errors, raised by the block, into ours."""
        try:
            yield
        except botocore_exc.ClientError as error:
            code = error.response.get('Error', {}).get('Code')
            if code in _S3_MISSING:
                raise exception.ObjectNotFound(
                    bucket=bucket, key=key,
                    reason=_S3_MISSING[code]) from error
            raise self._error(action, bucket, key, error) from error
        except botocore_exc.BotoCoreError as error:
            raise self._error(action, bucket, key, error) from error

    def _error(self, action, bucket, key, error):
        reason = str(error)
        if self._secret_key:
            reason = reason.replace(self._secret_key, '***')
        return exception.ObjectStoreError(
            action=action, bucket=bucket, key=key,
            reason='%s (endpoint %s)' % (reason, self.endpoint_url or 'AWS'))


def get_object_store(conf):
    """The object store ``[object_store]backend`` names."""
    opts = conf.object_store
    if opts.backend == 's3':
        return S3ObjectStore(opts.s3_endpoint_url, opts.s3_region,
                             opts.s3_access_key, opts.s3_secret_key,
                             max_attempts=opts.s3_max_attempts)
    return FileObjectStore(opts.file_root)
