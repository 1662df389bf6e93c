"""The header of an xclbin (XRT's "axlf" container), read without XRT.

The driver needs two things before it hands a file to ``xbmgmt``: that the
file is an xclbin at all (so a wrong upload fails with a clear reason
instead of a tool's cryptic one) and the xclbin's uuid (the function id the
card reports once the file is loaded). Layout, from XRT's ``xclbin.h``
(``struct axlf`` then ``struct axlf_header``), little-endian, byte offsets:

====  =======================  ==========================================
   0  ``m_magic[8]``           ``xclbin2\\0``
   8  ``m_signature_length``   int32, -1 when unsigned
  12  ``reserved[28]``
  40  ``m_keyBlock[256]``
 296  ``m_uniqueId``           uint64
 304  ``m_length``             uint64, size of the whole file
 312  ``m_timeStamp``          uint64
 320  ``m_featureRomTimeStamp``  uint64
 328  ``m_versionPatch``       uint16, then major and minor (uint8 each)
 332  ``m_mode``               uint16, ``XCLBIN_MODE``
 334  ``m_actionMask``         uint16
 336  ``m_interface_uuid[16]``  the shell interface it was linked against
 352  ``m_platformVBNV[64]``   NUL-padded platform name
 416  ``uuid[16]``             the xclbin's own uuid (union m_next_axlf)
 432  ``m_debug_bin[16]``
 448  ``m_numSections``        uint32; section headers start at 456
====  =======================  ==========================================
"""

import dataclasses
import os
import struct
import uuid

MAGIC = b'xclbin2\0'
_LAYOUT = struct.Struct('<8si28x256xQQQQHBBHH16s64s16s16xI')
# struct axlf ends with one axlf_section_header (40 bytes) at offset 456,
# so no real xclbin is shorter than this.
MIN_SIZE = 496

# XCLBIN_MODE values; emulation images describe no bitstream at all.
MODES = {0: 'flat', 1: 'pr', 2: 'tandem_stage2', 3: 'tandem_stage2_with_pr',
         4: 'hw_emu', 5: 'sw_emu', 6: 'hw_emu_pr'}
EMULATION_MODES = frozenset({'hw_emu', 'sw_emu', 'hw_emu_pr'})


class NotAnXclbin(ValueError):
    """The file is not an xclbin a card can load; the message says why."""


@dataclasses.dataclass(frozen=True)
class Header:
    xclbin_uuid: str       # 8-4-4-4-12, lowercase, as xbutil prints it
    interface_uuid: str    # 32 hex digits, as xclbinutil prints it
    platform_vbnv: str
    mode: str
    length: int
    version: str


def read_header(path):
    """The Header of the xclbin at ``path``.

    :raises NotAnXclbin: when the file is not an xclbin (wrong magic, too
        short, truncated, built for emulation, without a uuid).
    :raises OSError: when the file cannot be read.
    """
    size = os.path.getsize(path)
    with open(path, 'rb') as image:
        head = image.read(_LAYOUT.size)
    if not head.startswith(MAGIC):
        raise NotAnXclbin('%s does not start with the xclbin magic %r.'
                          % (os.path.basename(path), MAGIC))
    if size < MIN_SIZE:
        raise NotAnXclbin('%s is %d bytes, shorter than an xclbin header.'
                          % (os.path.basename(path), size))
    (_, _, _, length, _, _, patch, major, minor, mode, _, interface, vbnv,
     own_uuid, _) = _LAYOUT.unpack(head)
    # A partial download keeps the header's length but not the bytes.
    if length > size:
        raise NotAnXclbin('%s is truncated: its header says %d bytes, the '
                          'file has %d.' % (os.path.basename(path), length,
                                            size))
    mode_name = MODES.get(mode, 'unknown(%d)' % mode)
    if mode_name in EMULATION_MODES:
        raise NotAnXclbin('%s was built for %s, not for hardware.'
                          % (os.path.basename(path), mode_name))
    if not any(own_uuid):
        raise NotAnXclbin('%s has no xclbin uuid.' % os.path.basename(path))
    return Header(xclbin_uuid=str(uuid.UUID(bytes=own_uuid)),
                  interface_uuid=interface.hex(),
                  platform_vbnv=vbnv.rstrip(b'\0').decode(errors='replace'),
                  mode=mode_name, length=length,
                  version='%d.%d.%d' % (major, minor, patch))
