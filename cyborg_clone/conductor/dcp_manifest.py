"""The DCP manifest: which files, keys, chips and PCI ids a build accepts."""

import json
import re

# Huawei's FP1 kit writes a JSON object; AWS F1's HDK writes key=value
# lines (version 2 of its format), as manifest.txt or, from its build
# scripts, <timestamp>.manifest.txt. manifest.json wins when both are there.
MANIFEST_JSON = 'manifest.json'
MANIFEST_TXT = 'manifest.txt'
MANIFEST_TXT_SUFFIX = '.' + MANIFEST_TXT
# The manifest is parsed in memory; a real one is well under a kilobyte.
MAX_MANIFEST_BYTES = 1024 * 1024
# What the pipeline cannot do without. A missing hash has its own reason
# code (DCP_INTEGRITY_UNVERIFIED), so it is not listed here.
REQUIRED_KEYS = ('fpga_chip', 'pci_vendor_id', 'pci_device_id')
SUBSYSTEM_ID_KEYS = ('pci_subsystem_id', 'pci_subsystem_vendor_id')
PCI_ID_KEYS = ('pci_vendor_id', 'pci_device_id') + SUBSYSTEM_ID_KEYS
# Huawei's kit writes "-" for a subsystem id it does not set.
NOT_SET = '-'
# The DCP's sha256, by manifest format.
HASH_KEYS = {MANIFEST_JSON: 'dcp_sha256', MANIFEST_TXT: 'dcp_hash'}
DCP_FILE_NAME_KEY = 'dcp_file_name'
TXT_FORMAT_VERSION = '2'
# F1 runs the same chip as FP1; an F1 manifest does not name it.
DEFAULT_TXT_CHIP = 'vu9p'

# VU9P-class: the short name or the Xilinx part number, with or without
# package/speed suffixes (vu9p, XCVU9P, xcvu9p-flgb2104-2-i); not the board
# name (vu9p_vb) nor other UltraScale+ parts (vu13p).
_VU9P = re.compile(r'(xc)?vu9p(-[a-z0-9]+)*', re.IGNORECASE)
_PCI_ID = re.compile(r'0x[0-9a-fA-F]{4}')
_SHA256 = re.compile(r'[0-9a-fA-F]{64}')
_TXT_KEY = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


class DCPError(Exception):
    """A build input or step failed; ``code`` is the stable reason code
    shown to the tenant, ``message`` says what exactly was wrong."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self):
        return '%s: %s' % (self.code, self.message)


def format_of(file_name):
    """The manifest format (``MANIFEST_JSON`` or ``MANIFEST_TXT``) a file
    of this name holds, or None when it is not a manifest."""
    if file_name == MANIFEST_JSON:
        return MANIFEST_JSON
    if file_name == MANIFEST_TXT or (
            file_name.endswith(MANIFEST_TXT_SUFFIX)
            and len(file_name) > len(MANIFEST_TXT_SUFFIX)):
        return MANIFEST_TXT
    return None


def parse(raw, manifest_format=MANIFEST_JSON):
    """The manifest in bytes ``raw`` as a dict, checked: its required keys,
    a VU9P-class ``fpga_chip`` (an F1 manifest.txt without one means
    VU9P) and well-formed PCI ids (``0x`` and 4 hex digits). The subsystem
    ids may be absent, null or ``"-"``, all meaning "not set": such a key
    is left out of the dict, so nothing downstream sees a "-".

    Raises ``DCPError`` MANIFEST_PARSE_FAILED, UNSUPPORTED_CHIP or
    PCIID_SYNTAX_INVALID.
    """
    if manifest_format == MANIFEST_TXT:
        manifest = _parse_txt(raw)
        manifest.setdefault('fpga_chip', DEFAULT_TXT_CHIP)
    else:
        manifest = _parse_json(raw)
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise _parse_failed(manifest_format, 'lacks required keys: %s'
                            % ', '.join(missing))
    chip = manifest['fpga_chip']
    if not (isinstance(chip, str) and _VU9P.fullmatch(chip)):
        raise DCPError('UNSUPPORTED_CHIP', 'fpga_chip %r is not supported; '
                       'only Xilinx VU9P (vu9p, xcvu9p) is' % (chip,))
    for key in SUBSYSTEM_ID_KEYS:
        if manifest.get(key, NOT_SET) in (None, NOT_SET):
            manifest.pop(key, None)
    for key in PCI_ID_KEYS:
        value = manifest.get(key)
        if value is not None and not (isinstance(value, str)
                                      and _PCI_ID.fullmatch(value)):
            raise DCPError('PCIID_SYNTAX_INVALID', '%s %r is not 0x followed '
                           'by 4 hex digits%s' % (
                               key, value, _dash_hint(key, value)))
    name = manifest.get(DCP_FILE_NAME_KEY)
    if name is not None and not (isinstance(name, str) and name):
        raise _parse_failed(manifest_format, '%s %r is not a file name'
                            % (DCP_FILE_NAME_KEY, name))
    return manifest


def expected_sha256(manifest, manifest_format=MANIFEST_JSON):
    """The DCP's sha256 the manifest promises (``dcp_sha256`` in
    manifest.json, ``dcp_hash`` in manifest.txt), in lowercase hex;
    raises ``DCPError`` DCP_INTEGRITY_UNVERIFIED when there is none."""
    key = HASH_KEYS[manifest_format]
    value = manifest.get(key)
    if not (isinstance(value, str) and _SHA256.fullmatch(value)):
        raise DCPError('DCP_INTEGRITY_UNVERIFIED', 'the %s has no %s of 64 '
                       'hex digits to check the DCP with'
                       % (manifest_format, key))
    return value.lower()


def _parse_json(raw):
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise _parse_failed(MANIFEST_JSON, 'is not UTF-8 JSON (%s)'
                            % error) from None
    if not isinstance(manifest, dict):
        raise _parse_failed(MANIFEST_JSON, 'is not a JSON object')
    return manifest


def _parse_txt(raw):
    """AWS F1's format: one ``key=value`` a line, blank lines ignored (its
    Tcl build script leaves one after each), format version 2."""
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise _parse_failed(MANIFEST_TXT, 'is not UTF-8 text (%s)'
                            % error) from None
    manifest = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, equals, value = line.partition('=')
        key = key.strip()
        if not equals or not _TXT_KEY.fullmatch(key):
            raise _parse_failed(MANIFEST_TXT, 'line %d is not key=value '
                                'with a key of letters, digits and _: %r'
                                % (number, line[:80]))
        if key in manifest:
            raise _parse_failed(MANIFEST_TXT, 'line %d sets %s a second '
                                'time' % (number, key))
        manifest[key] = value.strip()
    version = manifest.get('manifest_format_version')
    if version is None:
        raise _parse_failed(MANIFEST_TXT, 'lacks manifest_format_version=%s'
                            % TXT_FORMAT_VERSION)
    if version != TXT_FORMAT_VERSION:
        raise _parse_failed(MANIFEST_TXT, 'has manifest_format_version %r; '
                            'only %s is supported'
                            % (version, TXT_FORMAT_VERSION))
    return manifest


def _dash_hint(key, value):
    if value == NOT_SET:
        return ' (only the subsystem ids may be "-", not set)'
    return ''


def _parse_failed(manifest_format, why):
    return DCPError('MANIFEST_PARSE_FAILED', '%s %s' % (manifest_format,
                                                         why))
