"""The header of an OPAE green bitstream (.gbs), read without OPAE.

The driver checks that an upload is a GBS, and that it was built for the
card's partial reconfiguration (PR) region, before it runs ``fpgaconf``:
a wrong file then fails with a reason naming both ids instead of the
tool's bare "No suitable slots found.". It also needs the image's AFU id,
which the card's port reports once the load worked.

Layout, as opae-sdk's libbitstream reads it (byte offsets):

====  ==================  ================================================
   0  GBS GUID, 16 bytes  ``58656F6E-4650-4741-B747-425376303031`` in
                          ``uuid_parse`` order, i.e. the string's bytes
                          as written: ``XeonFPGA\\xb7GBSv001`` (not the
                          little-endian-per-field order of a Windows GUID)
  16  metadata length     uint32, little-endian (x86 native)
  20  metadata            that many bytes of JSON
   …  bitstream           the raw PR bitstream, to the end of the file
====  ==================  ================================================

Metadata, version 1: ``{"version": 1, "platform-name": ..., "afu-image":
{"magic-no": 488605312, "interface-uuid": ..., "accelerator-clusters":
[{"name": ..., "total-contexts": 1, "accelerator-type-uuid": ...}],
"clock-frequency-high": ..., ...}}``. The first cluster's
accelerator-type-uuid is the AFU id the port reports after the load.
"""

import dataclasses
import json
import os
import struct
import uuid

GUID = uuid.UUID('58656f6e-4650-4741-b747-425376303031')
MAGIC = GUID.bytes
_PREFIX = struct.Struct('<16sI')
# afu-image.magic-no: the magic of the pre-metadata ("legacy") GBS
# format, which version-1 metadata must repeat.
MAGIC_NO = 0x1d1f8680
# OPAE reads 640 and 650 as 1: BBS 6.4.0/6.5.0-era packagers wrote them
# by mistake into version-1 metadata.
VERSIONS = frozenset({1, 640, 650})


class NotAGbs(ValueError):
    """The file is not a GBS a card can load; the message says why."""


@dataclasses.dataclass(frozen=True)
class Header:
    interface_id: str      # 32 lowercase hex digits, as sysfs prints it
    afu_id: str            # likewise
    afu_name: str | None
    platform_name: str | None
    bitstream_length: int


def normalise_uuid(text):
    """``text`` (with or without dashes, any case) as 32 lowercase hex
    digits, the form the kernel prints ids in.

    :raises ValueError: when ``text`` is not a uuid.
    """
    if not isinstance(text, str):
        raise ValueError('%r is not a uuid' % (text,))
    return uuid.UUID(text.strip()).hex


def read_header(path):
    """The Header of the GBS at ``path``.

    :raises NotAGbs: wrong GUID, truncated, unreadable or unsupported
        metadata, no bitstream.
    :raises OSError: when the file cannot be read.
    """
    name = os.path.basename(path)
    with open(path, 'rb') as image:
        size = os.fstat(image.fileno()).st_size
        prefix = image.read(_PREFIX.size)
        if len(prefix) < _PREFIX.size or not prefix.startswith(MAGIC):
            raise NotAGbs('%s does not start with the GBS GUID %s.'
                          % (name, str(GUID).upper()))
        length = _PREFIX.unpack(prefix)[1]
        if _PREFIX.size + length > size:
            raise NotAGbs('%s is truncated: its metadata length is %d '
                          'bytes, the file %d.' % (name, length, size))
        raw = image.read(length)
    bitstream_length = size - _PREFIX.size - length
    if not bitstream_length:
        raise NotAGbs('%s holds metadata but no bitstream.' % name)
    try:
        return _parse(json.loads(raw.decode('utf-8')), bitstream_length)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAGbs('%s has unreadable metadata: %s.'
                      % (name, error)) from None
    except NotAGbs as error:
        raise NotAGbs('%s: %s' % (name, error)) from None


def _parse(metadata, bitstream_length):
    if not isinstance(metadata, dict):
        raise NotAGbs('its metadata is not a JSON object.')
    version = metadata.get('version')
    # bool is an int to Python, not to OPAE's json-c.
    if type(version) is not int or version not in VERSIONS:
        raise NotAGbs('unsupported metadata version %r.' % (version,))
    image = metadata.get('afu-image')
    if not isinstance(image, dict):
        raise NotAGbs('its metadata has no "afu-image" object.')
    if image.get('magic-no') != MAGIC_NO:
        raise NotAGbs('afu-image magic-no is %r, not %d.'
                      % (image.get('magic-no'), MAGIC_NO))
    clusters = image.get('accelerator-clusters')
    if not (isinstance(clusters, list) and clusters
            and isinstance(clusters[0], dict)):
        raise NotAGbs('its metadata lists no accelerator-clusters.')
    platform = metadata.get('platform-name')
    return Header(
        interface_id=_uuid(image, 'interface-uuid'),
        afu_id=_uuid(clusters[0], 'accelerator-type-uuid'),
        afu_name=clusters[0].get('name'),
        platform_name=platform if isinstance(platform, str) else None,
        bitstream_length=bitstream_length)


def _uuid(section, key):
    try:
        return normalise_uuid(section.get(key))
    except ValueError:
        raise NotAGbs('%s %r is not a uuid.'
                      % (key, section.get(key))) from None
