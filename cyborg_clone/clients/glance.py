"""Glance's image API (v2), as a source of FPGA bitstreams.

A keystoneauth1 Adapter loaded from the [glance] section (as for
[placement]). Conductors look images up (:meth:`GlanceClient.image`,
:meth:`GlanceClient.images_providing`); agents stream an image into a
private file and check it against the hash Glance recorded at upload
(:meth:`GlanceClient.download`). Errors are the service's exceptions of
``common.exception``, which cross RPC as themselves: Glance out of reach is
ServiceUnavailable, an id Glance does not know ImageNotFound, an image that
cannot be loaded Invalid, and bytes that do not match their hash
ImageCorrupt.
"""

import dataclasses
import hashlib
import urllib.parse
import uuid

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging
import requests

from cyborg_clone.clients import object_store
from cyborg_clone.clients import service_client
from cyborg_clone.common import exception
from cyborg_clone.common import fileutils

LOG = logging.getLogger(__name__)

GROUP = 'glance'
# The image property naming the function a bitstream gives a card, as
# upstream Cyborg's device profiles look it up.
FUNCTION_PROPERTY = 'accel:function_id'


def image_id_from(value):
    """Glance's spelling of the image id ``value`` (a UUID, dashed or as
    32 hexadecimal characters): the lowercase dashed UUID.

    :raises Invalid: when ``value`` is no UUID.
    """
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        raise exception.Invalid(
            reason='%r is not a Glance image id (a UUID).' % (value,)
        ) from None


@dataclasses.dataclass(frozen=True)
class Image:
    """What an agent needs to download a Glance image and verify it."""

    id: str
    size: int | None
    #: A hashlib algorithm name: Glance's ``os_hash_algo``, or ``md5``
    #: for its older ``checksum``.
    hash_algo: str
    hash_value: str

    @classmethod
    def from_glance(cls, body):
        """The record of an image as ``GET /v2/images/{id}`` shows it.

        :raises Invalid: when the image is not active (it has no data
            yet, or was deactivated) or Glance records no hash this host
            can compute, so what is downloaded could not be verified.
        """
        image_id = body['id']
        if body.get('status') != 'active':
            raise exception.Invalid(
                reason='Glance image %s is %s, not active.'
                       % (image_id, body.get('status')))
        algo, value = body.get('os_hash_algo'), body.get('os_hash_value')
        if not (algo and value and algo in hashlib.algorithms_available):
            algo, value = 'md5', body.get('checksum')
        if not value:
            raise exception.Invalid(
                reason='Glance records no hash of image %s that could '
                       'verify its download.' % image_id)
        return cls(id=image_id, size=body.get('size'), hash_algo=algo,
                   hash_value=value)

    def to_primitive(self):
        """A dict for RPC."""
        return dataclasses.asdict(self)

    @classmethod
    def from_primitive(cls, primitive):
        return cls(**primitive)


class GlanceClient(service_client.ServiceClient):
    """Image lookups and downloads; every call raises ServiceUnavailable
    when Glance cannot be reached or answers an unexpected status."""

    GROUP = GROUP

    def _request(self, method, path, ok=(200,), **kwargs):
        try:
            response = self.adapter.request(path, method, raise_exc=False,
                                            **kwargs)
        except ks_exc.ClientException as error:
            raise exception.ServiceUnavailable(
                reason='Glance could not be reached for %s %s: %s'
                       % (method, path, error)) from None
        if response.status_code not in ok:
            response.close()
            raise exception.ServiceUnavailable(
                reason='Glance answered %s %s with %s.'
                       % (method, path, response.status_code))
        return response

    def image(self, image_id):
        """The image ``image_id`` (any UUID spelling) as :class:`Image`.

        :raises ImageNotFound: when Glance has no such image (or does not
            show it to our account).
        :raises Invalid: see :meth:`Image.from_glance`.
        """
        glance_id = image_id_from(image_id)
        response = self._request('GET', '/v2/images/%s' % glance_id,
                                 ok=(200, 404))
        if response.status_code == 404:
            raise exception.ImageNotFound(
                message='Glance has no image %s.' % glance_id)
        return Image.from_glance(response.json())

    def images_providing(self, function_id):
        """The active images whose ``accel:function_id`` property equals
        ``function_id``, newest first, as :class:`Image`; those of them
        that could not be verified are left out."""
        query = urllib.parse.urlencode({
            FUNCTION_PROPERTY: function_id, 'status': 'active',
            'sort_key': 'created_at', 'sort_dir': 'desc'})
        body = self._request('GET', '/v2/images?' + query).json()
        found = []
        for listed in body['images']:
            try:
                found.append(Image.from_glance(listed))
            except exception.Invalid as error:
                LOG.warning('Glance image %s provides function %s but is '
                            'skipped: %s', listed.get('id'), function_id,
                            error.faultstring)
        return found

    def download(self, image, dest_path):
        """Stream ``image`` (an :class:`Image`) into ``dest_path``, hashing
        it on the way; ``dest_path`` appears only once the whole image is
        there and matches its size and hash.

        :raises ImageNotFound: when Glance no longer has it.
        :raises ImageCorrupt: when the bytes do not match the size or the
            hash Glance recorded; nothing is left behind.
        :raises ServiceUnavailable: when the download fails midway.
        :raises Invalid: when this host cannot compute the recorded hash.
        """
        try:
            # An integrity check against Glance's record, not a signature.
            digest = hashlib.new(image.hash_algo, usedforsecurity=False)
        except ValueError:
            raise exception.Invalid(
                reason='host %s cannot compute the %s hash Glance records '
                       'for image %s.' % (self.conf.host, image.hash_algo,
                                          image.id)) from None
        path = '/v2/images/%s/file' % image_id_from(image.id)
        response = self._request('GET', path, ok=(200, 404), stream=True)
        if response.status_code == 404:
            response.close()
            raise exception.ImageNotFound(
                message='Glance has no data for image %s.' % image.id)
        size = 0
        with response, fileutils.atomic_output(dest_path) as out:
            try:
                for chunk in response.iter_content(object_store.CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            except requests.RequestException as error:
                raise exception.ServiceUnavailable(
                    reason='downloading Glance image %s failed after %d '
                           'bytes: %s' % (image.id, size, error)) from None
            _check(image, size, digest.hexdigest())
        LOG.info('Downloaded Glance image %s (%d bytes, %s verified).',
                 image.id, size, image.hash_algo)
        return size


def _check(image, size, hexdigest):
    """:raises ImageCorrupt: unless ``size`` and ``hexdigest`` are what
    Glance recorded for ``image``."""
    if image.size is not None and size != image.size:
        reason = ('its size: Glance sent %d bytes and records %d'
                  % (size, image.size))
    elif hexdigest != image.hash_value.lower():
        reason = ('its %s hash: Glance sent data hashing to %s and records '
                  '%s' % (image.hash_algo, hexdigest, image.hash_value))
    else:
        return
    raise exception.ImageCorrupt(
        message='Glance image %s does not match %s; it is not loaded.'
                % (image.id, reason))
