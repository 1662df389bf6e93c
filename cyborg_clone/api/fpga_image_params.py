"""Validation of the FPGA image API's request fields, one rule each.

Every violation is an Invalid (400) whose message names the field. The
rules are those of the public cloud API this family follows (bucket and
object naming of its object store, name and description alphabets, paging
bounds).
"""

import ipaddress
import re

from cyborg_clone.api import validation
from cyborg_clone.common import exception

_NAME = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
# Letters, digits, - _ . , space; also CJK ideographs and the full-width
# full stop and comma, which the Chinese edition of the API allows.
_DESCRIPTION = re.compile(r'^[A-Za-z0-9_.,\- \u4e00-\u9fff\u3002\uff0c]*$')
_BUCKET = re.compile(r'^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')
_PATH_CHARS = re.compile(r'^[A-Za-z0-9_./-]+$')
IMAGE_ID = re.compile(r'[0-9a-f]{32}')


def _invalid(field, reason):
    return exception.Invalid(reason='%s %s' % (field, reason))


def name(value):
    if not isinstance(value, str) or not _NAME.match(value):
        raise _invalid('name', 'must be 1 to 64 letters, digits, "_" or '
                               '"-".')
    return value


def description(value):
    if value is None:
        return ''
    if (not isinstance(value, str) or len(value) > 255
            or not _DESCRIPTION.match(value)):
        raise _invalid('description', 'must be at most 255 letters, '
                                      'digits, spaces or "-_.,".')
    return value


def bucket(field, value):
    if (not _BUCKET.match(value) or '..' in value or '.-' in value
            or '-.' in value or _is_ipv4(value)):
        raise _invalid(field, 'has an invalid bucket name %r: 3 to 63 '
                              'lowercase letters, digits, "-" or ".", '
                              'starting and ending with a letter or digit, '
                              'not an IP address.' % value)
    return value


def _is_ipv4(value):
    try:
        ipaddress.IPv4Address(value)
        return True
    except ValueError:
        return False


def _segments_ok(path):
    return all(segment and not segment.startswith('.')
               and not segment.endswith('.') for segment in path.split('/'))


def object_key(field, value, suffixes):
    if (not 4 <= len(value) <= 128 or not _PATH_CHARS.match(value)
            or value.startswith('/') or not value.endswith(suffixes)
            or not _segments_ok(value)):
        raise _invalid(field, 'has an invalid object name %r: 4 to 128 '
                              'letters, digits or "-_/.", no leading "/", '
                              'no empty or dot-edged directory, ending in '
                              '%s.' % (value, ' or '.join(suffixes)))
    return value


def location(field, value, suffixes):
    """(bucket, object key) from "bucket:object"."""
    if not isinstance(value, str) or value.count(':') != 1:
        raise _invalid(field, 'must be "<bucket>:<object>".')
    bucket_name, key = value.split(':')
    return bucket(field, bucket_name), object_key(field, key, suffixes)


def log_directory(value, dcp_key):
    """The log directory in the DCP's bucket; empty means the DCP's own
    directory."""
    if value is None or value == '':
        return dcp_key.rpartition('/')[0]
    if (not isinstance(value, str) or len(value) > 64
            or not _PATH_CHARS.match(value) or value.startswith('/')
            or value.endswith('/') or not _segments_ok(value)):
        raise _invalid('log_directory', 'must be at most 64 letters, '
                                        'digits or "-_/.", without leading '
                                        'or trailing "/" or empty or '
                                        'dot-edged directories.')
    return value


def metadata(value):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 255
            and len(v) <= 255 for k, v in value.items()):
        raise _invalid('metadata', 'must be an object of strings.')
    return value


def image_id(value):
    if not isinstance(value, str) or not IMAGE_ID.fullmatch(value):
        raise _invalid('fpga_image_id', 'must be 32 lowercase hexadecimal '
                                        'characters.')
    return value


def vm_image_id(value):
    if not validation.is_uuid(value):
        raise _invalid('image id', 'must be a UUID.')
    return value.lower()


def paging(page, size):
    """(offset, limit) from page and size, given together or not at all;
    (0, None) without them."""
    if page is None and size is None:
        return 0, None
    if page is None or size is None:
        raise _invalid('page and size', 'must be given together.')
    page = _decimal('page', page, 65534)
    size = _decimal('size', size, 100)
    return (page - 1) * size, size


def _decimal(field, value, maximum):
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise _invalid(field, 'must be a decimal number from 1 to %d.'
                       % maximum)
    return int(value)
