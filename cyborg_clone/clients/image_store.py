"""Where built and registered FPGA images are kept, by image id.

The file backend keeps the image at ``<root>/<id>`` and its metadata at
``<root>/<id>.json``. Agents ``fetch`` a private, verified copy before a
load, so on several hosts the root must be shared storage they all mount.
"""

import abc
import contextlib
import hashlib
import json
import os
import re
import uuid

from cyborg_clone.clients import object_store
from cyborg_clone.common import exception
from cyborg_clone.common import fileutils

IMAGE_ID = re.compile(r'[0-9a-f]{32}')


def check_image_id(image_id):
    """``image_id``, once proven an FPGA image id (32 lowercase hex).

    :raises Invalid: when it is not one.
    """
    if not isinstance(image_id, str) or not IMAGE_ID.fullmatch(image_id):
        raise exception.Invalid(
            reason='%r is not an FPGA image id (32 lowercase hexadecimal '
                   'characters).' % (image_id,))
    return image_id


def image_id_from(value):
    """The FPGA image id a Glance-style UUID or an image id names.

    Operators and device profiles may write the id as a dashed UUID (as
    for Glance images); the store knows its 32-hex form.

    :raises Invalid: when ``value`` is neither.
    """
    try:
        return check_image_id(uuid.UUID(value).hex)
    except (TypeError, ValueError, AttributeError):
        raise exception.Invalid(
            reason='%r is not an image id (a UUID, or 32 hexadecimal '
                   'characters).' % (value,)) from None


class ImageStore(abc.ABC):
    """Image files and their metadata, by image id.

    Every method raises ``Invalid`` for an id that is not an FPGA image id.
    """

    @abc.abstractmethod
    def put(self, image_id, source_path, metadata):
        """Store a local file as image ``image_id``, replacing any image
        of that id; readers see the old image or the whole new one.

        :param source_path: the image file to copy in.
        :param metadata: a JSON-serializable dict kept with the image.
        :returns: the stored metadata: ``metadata`` plus the ``size`` (in
            bytes) and ``sha256`` (hex digest) of the file, computed here.
        :raises TypeError: ``metadata`` cannot be stored as JSON; nothing
            is stored then.
        :raises OSError: ``source_path`` cannot be read.
        """

    @abc.abstractmethod
    def get_metadata(self, image_id):
        """The metadata ``put`` returned for the image.

        :raises ImageNotFound: no image has this id.
        :raises ImageCorrupt: the stored metadata cannot be read.
        """

    @abc.abstractmethod
    def fetch(self, image_id, dest_path):
        """Copy the image into a local file, checking its size and sha256.

        ``dest_path`` appears only once the whole, verified image is there.

        :returns: the image's metadata.
        :raises ImageNotFound: no image has this id.
        :raises ImageCorrupt: the stored file is missing or does not match
            its recorded size and sha256; ``dest_path`` is untouched.
        """

    @abc.abstractmethod
    def exists(self, image_id):
        """Whether an image has this id."""

    @abc.abstractmethod
    def delete(self, image_id):
        """Remove the image; removing a missing image is not an error."""


class FileImageStore(ImageStore):
    """Images as files in one directory; metadata is written last, so an
    image without its ``.json`` (an interrupted put) does not exist."""

    def __init__(self, root):
        self.root = root

    def image_path(self, image_id):
        """The file holding the image (which may not exist)."""
        return os.path.join(self.root, check_image_id(image_id))

    def put(self, image_id, source_path, metadata):
        path = self.image_path(image_id)
        # Fail on unstorable metadata before copying what may be gigabytes.
        json.dumps(metadata)
        os.makedirs(self.root, exist_ok=True)
        with open(source_path, 'rb') as source:
            with fileutils.atomic_output(path) as out:
                size, sha256 = _copy(source, out)
        stored = dict(metadata, size=size, sha256=sha256)
        with fileutils.atomic_output(path + '.json') as out:
            out.write(json.dumps(stored, sort_keys=True).encode())
        return stored

    def get_metadata(self, image_id):
        try:
            with open(self.image_path(image_id) + '.json', 'rb') as stored:
                metadata = json.load(stored)
        except FileNotFoundError:
            raise exception.ImageNotFound(image_id=image_id) from None
        except ValueError as error:
            raise exception.ImageCorrupt(
                image_id=image_id,
                reason='its metadata is not JSON: %s' % error) from error
        if not (isinstance(metadata, dict)
                and isinstance(metadata.get('size'), int)
                and isinstance(metadata.get('sha256'), str)):
            raise exception.ImageCorrupt(
                image_id=image_id,
                reason='its metadata has no size and sha256')
        return metadata

    def fetch(self, image_id, dest_path):
        metadata = self.get_metadata(image_id)
        try:
            source = open(self.image_path(image_id), 'rb')
        except FileNotFoundError:
            raise exception.ImageCorrupt(
                image_id=image_id,
                reason='its metadata is there but its file is not') from None
        with source, fileutils.atomic_output(dest_path) as out:
            size, sha256 = _copy(source, out)
            if (size, sha256) != (metadata['size'], metadata['sha256']):
                raise exception.ImageCorrupt(
                    image_id=image_id,
                    reason='its file has %d bytes of sha256 %s; %d bytes of '
                           'sha256 %s were stored'
                           % (size, sha256, metadata['size'],
                              metadata['sha256']))
        return metadata

    def exists(self, image_id):
        return os.path.isfile(self.image_path(image_id) + '.json')

    def delete(self, image_id):
        path = self.image_path(image_id)
        # Metadata first: the image stops existing before its file goes.
        for name in (path + '.json', path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def _copy(source, out):
    """Copy ``source`` into ``out`` in chunks; (size, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(object_store.CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


def get_image_store(conf):
    """The image store ``[image_store]backend`` names (only ``file``)."""
    return FileImageStore(conf.image_store.file_root)
