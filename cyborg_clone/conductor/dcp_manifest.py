"""The DCP manifest: which keys, chips and PCI ids a build accepts."""

import json
import re

MANIFEST_NAME = 'manifest.json'
# The manifest is parsed in memory; a real one is well under a kilobyte.
MAX_MANIFEST_BYTES = 1024 * 1024
# What the pipeline cannot do without. A missing dcp_sha256 has its own
# reason code (DCP_INTEGRITY_UNVERIFIED), so it is not listed here.
REQUIRED_KEYS = ('fpga_chip', 'pci_vendor_id', 'pci_device_id')
PCI_ID_KEYS = ('pci_vendor_id', 'pci_device_id', 'pci_subsystem_id',
               'pci_subsystem_vendor_id')

# VU9P-class: the short name or the Xilinx part number, with or without
# package/speed suffixes (vu9p, XCVU9P, xcvu9p-flgb2104-2-i); not the board
# name (vu9p_vb) nor other UltraScale+ parts (vu13p).
_VU9P = re.compile(r'(xc)?vu9p(-[a-z0-9]+)*', re.IGNORECASE)
_PCI_ID = re.compile(r'0x[0-9a-fA-F]{4}')
_SHA256 = re.compile(r'[0-9a-fA-F]{64}')


class DCPError(Exception):
    """A build input or step failed; ``code`` is the stable reason code
    shown to the tenant, ``message`` says what exactly was wrong."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self):
        return '%s: %s' % (self.code, self.message)


def parse(raw):
    """The manifest object in bytes ``raw``, with its required keys, a
    VU9P-class ``fpga_chip`` and well-formed PCI ids (``0x`` and 4 hex
    digits; the subsystem ones may be absent or null).

    Raises ``DCPError`` MANIFEST_PARSE_FAILED, UNSUPPORTED_CHIP or
    PCIID_SYNTAX_INVALID.
    """
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise _parse_failed('is not UTF-8 JSON (%s)' % error) from None
    if not isinstance(manifest, dict):
        raise _parse_failed('is not a JSON object')
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise _parse_failed('lacks required keys: %s' % ', '.join(missing))
    chip = manifest['fpga_chip']
    if not (isinstance(chip, str) and _VU9P.fullmatch(chip)):
        raise DCPError('UNSUPPORTED_CHIP', 'fpga_chip %r is not supported; '
                       'only Xilinx VU9P (vu9p, xcvu9p) is' % (chip,))
    for key in PCI_ID_KEYS:
        value = manifest.get(key)
        if value is not None and not (isinstance(value, str)
                                      and _PCI_ID.fullmatch(value)):
            raise DCPError('PCIID_SYNTAX_INVALID', '%s %r is not 0x followed '
                           'by 4 hex digits' % (key, value))
    return manifest


def expected_sha256(manifest):
    """The DCP's sha256 the manifest promises, in lowercase hex; raises
    ``DCPError`` DCP_INTEGRITY_UNVERIFIED when there is none to check."""
    value = manifest.get('dcp_sha256')
    if not (isinstance(value, str) and _SHA256.fullmatch(value)):
        raise DCPError('DCP_INTEGRITY_UNVERIFIED', 'the manifest has no '
                       'dcp_sha256 of 64 hex digits to check the DCP with')
    return value.lower()


def _parse_failed(why):
    return DCPError('MANIFEST_PARSE_FAILED', '%s %s' % (MANIFEST_NAME, why))
