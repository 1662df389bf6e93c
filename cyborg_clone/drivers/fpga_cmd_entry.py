"""Reading what Huawei's FpgaCmdEntry prints (DF -D and IF -S blocks).

The tool prints each record as a block between dashed rules: a title rule
(`` ----FPGA Information----`` for DF, `` ----Image Information----`` for
IF), then one ``     <key><TABs><value>`` line per field, then a plain
rule; ``Command execution is complete.`` ends a successful run. Keys may
hold single spaces (``AEI ID``, ``FPGA PR status``), so a key ends at the
first tab, or at a run of two spaces in hand-copied output; an empty value
(``AEI ID`` of an empty slot) leaves only the key.
"""

import dataclasses
import re

# Image-store ids and AEI ids share one format: the product's image factory
# uses the AEI id as the image id.
AEI_ID = re.compile(r'[0-9a-f]{32}')

PR_STATUSES = frozenset(
    ('NOT_PROGRAMMED', 'PROGRAMMED', 'EXCEPTION', 'PROGRAMMING'))
OPS_STATUSES = frozenset(('INITIALIZED', 'SUCCESS', 'FAILURE', 'PROCESSING'))

COMPLETE = 'Command execution is complete.'

_RULE = re.compile(r'^-{10,}(?P<title>[A-Za-z ]*?)-*$')
_KEY_VALUE = re.compile(r'\t+| {2,}')


class ParseError(ValueError):
    """The tool printed something this module cannot read."""


@dataclasses.dataclass(frozen=True)
class Slot:
    """One ``DF -D`` block: the slot number the tool gives a shell."""

    slot: int
    vendor_id: str
    device_id: str
    dbdf: str


@dataclasses.dataclass(frozen=True)
class ImageStatus:
    """One ``IF -S`` block."""

    slot: int
    dbdf: str
    device_id: str
    aei_id: str | None
    shell_id: str | None
    pr_status: str
    ops_status: str
    ops_error: str | None = None

    @property
    def loaded_aei_id(self):
        """The AEI id the shell runs, or None unless it is PROGRAMMED."""
        return self.aei_id if self.pr_status == 'PROGRAMMED' else None

    def describe(self):
        """The fields a person needs, in the tool's own words."""
        text = ('Load/ClearOpsStatus %s, FPGA PR status %s, AEI ID %s'
                % (self.ops_status, self.pr_status, self.aei_id or '(none)'))
        if self.ops_error:
            text += ', Load/ClearOpsError %s' % self.ops_error
        return text


def parse_slots(output):
    """The ``Slot`` records of ``FpgaCmdEntry DF -D`` output.

    :raises ParseError: when a block lacks a field or the run did not end
        with the completion line.
    """
    slots = []
    for fields in _blocks(output, 'FPGA Information'):
        slots.append(Slot(slot=_slot_number(fields),
                          vendor_id=_required(fields, 'VendorId').lower(),
                          device_id=_required(fields, 'DeviceId').lower(),
                          dbdf=_required(fields, 'DBDF').lower()))
    return slots


def parse_status(output):
    """The ``ImageStatus`` of ``FpgaCmdEntry IF -S <slot>`` output.

    :raises ParseError: unless the output holds exactly one block with a
        slot, a known PR status and a known ops status, and ends with the
        completion line.
    """
    blocks = _blocks(output, 'Image Information')
    if len(blocks) != 1:
        raise ParseError('expected one Image Information block, found %d'
                         % len(blocks))
    [fields] = blocks
    pr_status = _required(fields, 'FPGA PR status')
    ops_status = _required(fields, 'Load/ClearOpsStatus')
    if pr_status not in PR_STATUSES:
        raise ParseError('unknown FPGA PR status %r' % pr_status)
    if ops_status not in OPS_STATUSES:
        raise ParseError('unknown Load/ClearOpsStatus %r' % ops_status)
    return ImageStatus(
        slot=_slot_number(fields),
        dbdf=_required(fields, 'DBDF').lower(),
        device_id=_required(fields, 'DeviceId').lower(),
        aei_id=fields.get('AEI ID') or None,
        shell_id=fields.get('Shell ID') or None,
        pr_status=pr_status,
        ops_status=ops_status,
        ops_error=fields.get('Load/ClearOpsError') or None)


def _blocks(output, title):
    """The ``{key: value}`` of each block titled ``title``."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines or lines[-1] != COMPLETE:
        raise ParseError('the output does not end with %r' % COMPLETE)
    blocks, current = [], None
    for line in lines:
        rule = _RULE.match(line)
        if rule:
            if rule.group('title').strip() == title:
                current = {}
                blocks.append(current)
            else:
                # A closing rule, or a block of a kind we do not read.
                current = None
        elif current is not None:
            key, *value = _KEY_VALUE.split(line, maxsplit=1)
            current[key] = value[0].strip() if value else ''
    return blocks


def _required(fields, key):
    value = fields.get(key)
    if not value:
        raise ParseError('a block has no %r' % key)
    return value


def _slot_number(fields):
    slot = _required(fields, 'Slot')
    if not slot.isdigit():
        raise ParseError('slot %r is not a number' % slot)
    return int(slot)
