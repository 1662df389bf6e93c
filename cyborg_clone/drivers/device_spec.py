"""``[pci]device_spec`` values: parsing them, and matching PCI functions.

Values follow nova's ``[pci]device_spec``: a JSON object (or a list of
them) with ``vendor_id``, ``product_id`` and ``address``, the address a
glob string (``"0000:5e:00.*"``) or an object of regular expressions by
part. On top of nova's keys, ``resource_class``, ``traits`` and
``cleanup`` say how the ``pci`` driver reports and cleans the device.
"""

import dataclasses
import json
import re

from cyborg_clone.common import trait_names
from cyborg_clone.drivers import device_cleanup

KEYS = ('vendor_id', 'product_id', 'address', 'resource_class', 'traits',
        'cleanup')
DEFAULT_RESOURCE_CLASS = 'CUSTOM_PCI'
# Placement's standard classes a PCI device may be counted in; any other
# name becomes a custom class, as nova does with its device_spec's.
STANDARD_RESOURCE_CLASSES = frozenset(
    ('PCI_DEVICE', 'SRIOV_NET_VF', 'PGPU', 'VGPU', 'FPGA'))
_HEX_ID = re.compile(r'^[0-9a-f]{1,4}$')
_HEX = re.compile(r'^[0-9a-fA-F]+$')
_ADDRESS_PARTS = (('domain', 0xffff, 4), ('bus', 0xff, 2),
                  ('slot', 0x1f, 2), ('function', 0x7, 1))
_ANY = '*'


class MalformedSpec(ValueError):
    """A device_spec value that cannot be used; says why."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """One device_spec object, checked and normalized."""

    # Each is the text the option held, so errors can name it.
    source: str
    vendor_id: str | None        # 4 lowercase hex digits; None: any
    product_id: str | None
    address: object              # a matcher: .matches(address)
    resource_class: str
    traits: tuple
    cleanup: str | None

    def matches(self, function):
        """Whether ``pci.PciFunction`` ``function`` is one this names."""
        return (_id_matches(self.vendor_id, function.vendor)
                and _id_matches(self.product_id, function.device)
                and self.address.matches(function.address))


@dataclasses.dataclass(frozen=True)
class _AnyAddress:
    def matches(self, address):
        return True


@dataclasses.dataclass(frozen=True)
class _GlobAddress:
    """Each part an int, or None for any."""

    parts: tuple

    def matches(self, address):
        have = _split(address)
        return all(want is None or want == int(got, 16)
                   for want, got in zip(self.parts, have, strict=True))


@dataclasses.dataclass(frozen=True)
class _RegexAddress:
    """Each part a compiled expression, or None for any."""

    parts: tuple

    def matches(self, address):
        have = _split(address)
        return all(want is None or want.fullmatch(got)
                   for want, got in zip(self.parts, have, strict=True))


def parse_all(values, option='[pci]device_spec'):
    """Every Spec the option's values hold, in order.

    :raises MalformedSpec: naming the first bad value and what is wrong.
    """
    specs = []
    for value in values:
        try:
            specs.extend(parse(value))
        except MalformedSpec as error:
            raise MalformedSpec('%s value %s is malformed: %s'
                                % (option, value, error)) from None
    return specs


def parse(value):
    """The Specs of one option value: a JSON object or a list of them.

    :raises MalformedSpec: saying what is wrong with it.
    """
    try:
        loaded = json.loads(value)
    except ValueError as error:
        raise MalformedSpec('not JSON (%s)' % error) from None
    objects = loaded if isinstance(loaded, list) else [loaded]
    if not objects or not all(isinstance(o, dict) for o in objects):
        raise MalformedSpec('a JSON object (or a list of them) is needed')
    return [_spec(value, o) for o in objects]


def _spec(source, spec):
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise MalformedSpec('unknown key(s) %s; known keys are %s'
                            % (', '.join(unknown), ', '.join(KEYS)))
    cleanup = spec.get('cleanup')
    if cleanup is not None and cleanup not in device_cleanup.ACTIONS:
        raise MalformedSpec('cleanup must be one of %s, not %r'
                            % (', '.join(device_cleanup.ACTIONS), cleanup))
    return Spec(source=source,
                vendor_id=_id(spec, 'vendor_id'),
                product_id=_id(spec, 'product_id'),
                address=_address(spec.get('address')),
                resource_class=resource_class(spec.get('resource_class')),
                traits=_traits(spec.get('traits')),
                cleanup=cleanup)


def _id(spec, key):
    value = spec.get(key)
    if value is None or value == _ANY:
        return None
    if not isinstance(value, str):
        raise MalformedSpec('%s must be a string of hex digits' % key)
    text = value.lower()
    text = text[2:] if text.startswith('0x') else text
    if not _HEX_ID.match(text):
        raise MalformedSpec('%s %r is not a PCI id (up to 4 hex digits)'
                            % (key, value))
    return text.rjust(4, '0')


def _id_matches(want, have):
    return want is None or (have or '').lower().removeprefix('0x') == want


def _address(value):
    if value is None:
        return _AnyAddress()
    if isinstance(value, dict):
        return _regex_address(value)
    if isinstance(value, str):
        return _glob_address(value)
    raise MalformedSpec('address must be a string or an object')


def _glob_address(text):
    """nova's glob: ``[[[[domain]:]bus]:][slot][.[function]]``, a part
    left out or ``*`` meaning any."""
    dbs, dot, function = text.partition('.')
    fields = dbs.split(':')
    if len(fields) > 3:
        raise MalformedSpec('address %r has too many ":"' % text)
    fields = [''] * (3 - len(fields)) + fields + [function if dot else '']
    parts = []
    for field, (name, highest, _) in zip(fields, _ADDRESS_PARTS,
                                        strict=True):
        field = field.strip()
        if field in ('', _ANY):
            parts.append(None)
            continue
        number = int(field, 16) if _HEX.match(field) else None
        if number is None or number > highest:
            raise MalformedSpec('address %r: %s %r is not a hex number up '
                                'to %x (or "*")'
                                % (text, name, field, highest))
        parts.append(number)
    return _GlobAddress(tuple(parts))


def _regex_address(value):
    unknown = sorted(set(value) - {name for name, _, _ in _ADDRESS_PARTS})
    if unknown:
        raise MalformedSpec('address has unknown part(s) %s'
                            % ', '.join(unknown))
    parts = []
    for name, _, _ in _ADDRESS_PARTS:
        pattern = value.get(name)
        if pattern is None:
            parts.append(None)
            continue
        if not isinstance(pattern, str):
            raise MalformedSpec('address %s must be a string' % name)
        try:
            parts.append(re.compile(pattern, re.IGNORECASE))
        except re.error as error:
            raise MalformedSpec('address %s %r is not a regular '
                                'expression (%s)'
                                % (name, pattern, error)) from None
    return _RegexAddress(tuple(parts))


def _split(address):
    """``(domain, bus, slot, function)`` hex strings of a sysfs address."""
    dbs, _, function = address.partition('.')
    domain, bus, slot = dbs.split(':')
    return domain, bus, slot, function


def resource_class(value):
    """The Placement class a spec's ``resource_class`` names: a standard
    class as it is, anything else as a valid custom class
    (``nvme`` -> ``CUSTOM_NVME``); CUSTOM_PCI when unset."""
    if value is None:
        return DEFAULT_RESOURCE_CLASS
    if not isinstance(value, str) or not value.strip():
        raise MalformedSpec('resource_class must be a non-empty string')
    name = value.strip().upper()
    if name in STANDARD_RESOURCE_CLASSES:
        return name
    return _custom(name, 'resource_class')


def _traits(value):
    if value is None:
        return ()
    if not isinstance(value, str):
        raise MalformedSpec('traits must be a comma-separated string')
    return tuple(_custom(t.strip().upper(), 'traits')
                 for t in value.split(',') if t.strip())


def _custom(name, key):
    stem = name.removeprefix('CUSTOM_')
    built = trait_names.custom(stem)
    if built == 'CUSTOM_':
        raise MalformedSpec('%s %r holds no letter or digit' % (key, name))
    return built
