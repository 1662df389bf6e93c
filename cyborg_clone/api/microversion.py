"""API microversions: the one list of versions and how a request picks one.

Clients ask with ``OpenStack-API-Version: accelerator 2.N`` (``latest`` for
the newest). No header means the oldest version, which is what Nova sends.
"""

import functools
import re

from cyborg_clone.api import fpga_image_errors

SERVICE_TYPE = 'accelerator'
HEADER = 'OpenStack-API-Version'
ENVIRON_KEY = 'cyborg_clone.api_version'

# One line per version; a test checks this list against the history doc.
VERSIONS = [
    '2.0',  # The v2 API as released in Ussuri.
    '2.1',  # ARQ bind (PATCH) may set /project_id.
    '2.2',  # GET /v2/device_profiles/{name_or_uuid} accepts a name.
    '2.3',  # Devices carry "status" (enabled | maintaining).
    '2.4',  # Deployables carry "state" and "state_reason" (cleaning).
]

_VERSION_RE = re.compile(r'^(\d+)\.(\d+)$')


class Version(tuple):
    """A (major, minor) pair that compares and prints like '2.3'."""

    def __new__(cls, text):
        match = _VERSION_RE.match(text)
        if not match:
            raise ValueError(text)
        return super().__new__(cls, (int(match[1]), int(match[2])))

    def __str__(self):
        return '%d.%d' % self

    def matches(self, minimum):
        """True when this version is ``minimum`` ('2.N') or newer."""
        return self >= _parsed(minimum)


@functools.lru_cache(maxsize=64)
def _parsed(text):
    # matches() is asked per item of a list, always with a literal.
    return Version(text)


MIN_VERSION = Version(VERSIONS[0])
MAX_VERSION = Version(VERSIONS[-1])


class Malformed(ValueError):
    """The header names this service but no version it could mean."""


class Unsupported(ValueError):
    """A well-formed version outside MIN_VERSION..MAX_VERSION."""


def parse(header_value):
    """The version a header value asks for; raise Malformed (400) or
    Unsupported (406)."""
    if header_value is None:
        return MIN_VERSION
    for item in header_value.split(','):
        parts = item.strip().split()
        if not parts or parts[0].lower() != SERVICE_TYPE:
            continue
        if len(parts) != 2:
            raise Malformed(item.strip())
        requested = parts[1]
        if requested.lower() == 'latest':
            return MAX_VERSION
        try:
            version = Version(requested)
        except ValueError:
            raise Malformed(requested) from None
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise Unsupported(requested)
        return version
    # A header for other services only: this service's default applies.
    return MIN_VERSION


def is_versioned(path):
    """The Cyborg API is microversioned, except its root version document;
    the FPGA image API (/v1|v2/{project}/cloudservers/...) is not."""
    return path.strip('/') != '' and not fpga_image_errors.in_family(path)
