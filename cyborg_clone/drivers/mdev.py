"""Mediated devices (vGPUs): their types in sysfs, and mdevctl.

A parent device that can be split (a GPU under NVIDIA's vGPU manager)
lists what it offers in ``<function>/mdev_supported_types/<type id>/``:
``name`` (``GRID T4-2B``), ``available_instances`` (how many more it can
create now) and ``devices/`` (one link per mediated device of that type
that exists). A mediated device, once created, is
``sys/bus/mdev/devices/<uuid>``. ``mdevctl start`` creates one, ``mdevctl
stop`` removes it.
"""

import dataclasses
import os
import uuid

from cyborg_clone.drivers import pci
from cyborg_clone.drivers import tools

# Creating or removing one is a sysfs write; a minute means it hangs.
MDEVCTL_TIMEOUT = 60


@dataclasses.dataclass(frozen=True)
class MdevType:
    """One type of ``mdev_supported_types/``, as the parent reports it."""

    type_id: str
    name: str | None
    available: int
    existing: tuple

    @property
    def capacity(self):
        """How many instances the parent holds of it: those it can still
        create and those that exist."""
        return self.available + len(self.existing)


class UnreadableType(Exception):
    """A type directory whose ``available_instances`` says no number."""


def supported_types(function_path):
    """The type ids a parent offers (empty for a device that offers
    none), sorted."""
    base = os.path.join(function_path, 'mdev_supported_types')
    try:
        return sorted(name for name in os.listdir(base)
                      if os.path.isdir(os.path.join(base, name)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def read_type(function_path, type_id):
    """The MdevType ``type_id`` of the parent at ``function_path``.

    :raises UnreadableType: when the parent does not list it, or its
        ``available_instances`` is missing or not a number.
    """
    base = os.path.join(function_path, 'mdev_supported_types', type_id)
    available = pci.read_attr(base, 'available_instances')
    try:
        count = int(available)
    except (TypeError, ValueError):
        raise UnreadableType(
            '%s/available_instances holds %r, not a number'
            % (base, available)) from None
    try:
        existing = tuple(sorted(os.listdir(os.path.join(base, 'devices'))))
    except FileNotFoundError:
        existing = ()
    try:
        with open(os.path.join(base, 'name')) as name:
            type_name = name.read().strip() or None
    except FileNotFoundError:
        type_name = None
    return MdevType(type_id=type_id, name=type_name, available=count,
                    existing=existing)


def trait_name(mdev_type):
    """The part of a trait naming a type: its ``name`` without the vendor
    prefix (``GRID T4-2B`` -> ``T4-2B``), or its id when it has no name.
    ``trait_names.custom`` turns it into valid trait characters (``T4_2B``)."""
    if not mdev_type.name:
        return mdev_type.type_id
    words = mdev_type.name.split(None, 1)
    return words[-1]


def attach_info(parent_address, type_id, index):
    """The attach handle of instance ``index`` of a type: the parent's
    PCI address, ``asked_type`` and a ``vgpu_mark`` that tells the
    instances apart (upstream Cyborg's layout)."""
    return dict(pci.attach_info(parent_address), asked_type=type_id,
                vgpu_mark='%s_%d' % (type_id, index))


def bound_attach_info(parent_address, type_id, mdev_uuid):
    """What a Bound ARQ's ``attach_handle_info`` holds for a vGPU: the
    mediated device's uuid, ``asked_type`` and the parent's PCI address,
    from which nova's libvirt driver builds the guest's ``<hostdev
    type='mdev'>``."""
    return dict(pci.attach_info(parent_address), asked_type=type_id,
                uuid=mdev_uuid)


def is_active(sysfs_root, mdev_uuid):
    """Whether the mediated device exists now."""
    return os.path.lexists(os.path.join(
        sysfs_root, 'sys', 'bus', 'mdev', 'devices', mdev_uuid))


def canonical_uuid(value):
    """``value`` as a lowercase, dashed uuid.

    :raises ValueError: when it is not a uuid (so it never reaches
        mdevctl's command line as something else).
    """
    return str(uuid.UUID(str(value)))


def start(driver, mdevctl_path, parent_address, type_id, mdev_uuid):
    """``mdevctl start --uuid <uuid> --parent <address> --type <type>``.

    :raises DriverError: with mdevctl's message when it fails.
    """
    tools.run(driver, [mdevctl_path, 'start', '--uuid', mdev_uuid,
                       '--parent', parent_address, '--type', type_id],
              MDEVCTL_TIMEOUT)


def stop(driver, mdevctl_path, mdev_uuid):
    """``mdevctl stop --uuid <uuid>``.

    :raises DriverError: with mdevctl's message when it fails.
    """
    tools.run(driver, [mdevctl_path, 'stop', '--uuid', mdev_uuid],
              MDEVCTL_TIMEOUT)
