"""Typed discovery records: what a driver reports about a host's cards.

Agents send them to the conductor as plain dicts (``to_primitive``) and the
conductor rebuilds them (``from_primitive``); nothing in between parses
JSON strings.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class AttachHandle:
    """One assignable accelerator, e.g. one PCI function.

    ``attach_type`` is PCI, MDEV or TEST_PCI; ``attach_info`` for PCI is
    ``{"domain": "0000", "bus": "5e", "device": "00", "function": "1"}``;
    for MDEV (one instance of a vGPU type a parent can hold) it is the
    parent's address plus ``asked_type`` (the mdev type id) and a
    ``vgpu_mark`` unique among the parent's instances (``nvidia-223_0``).
    """

    attach_type: str
    attach_info: dict


@dataclasses.dataclass(frozen=True)
class Deployable:
    """A programmable unit of a card (a region); accelerators come from it.

    ``name`` is unique cloud-wide (``<host>_<first BDF>``, or
    ``<host>_FakeDevice``); ``resource_class`` is FPGA, PGPU, VGPU or
    CUSTOM_*; ``traits`` are valid Placement trait names.
    """

    name: str
    num_accelerators: int
    resource_class: str
    traits: tuple = ()
    bitstream_id: str | None = None
    attach_handles: tuple = ()


@dataclasses.dataclass(frozen=True)
class ControlPath:
    """How the host reaches the card (for PCI: the management function)."""

    cpid_type: str
    cpid_info: dict


@dataclasses.dataclass(frozen=True)
class Device:
    """One physical card."""

    type: str
    vendor: str
    model: str
    driver_name: str
    controlpath: ControlPath
    std_board_info: dict = dataclasses.field(default_factory=dict)
    vendor_board_info: str = ''
    deployables: tuple = ()


def to_primitive(devices):
    """A JSON-able form of a list of Device records."""
    return [dataclasses.asdict(device) for device in devices]


def from_primitive(data):
    """The Device records ``to_primitive`` produced."""
    devices = []
    for item in data:
        deployables = tuple(
            Deployable(**dict(
                dep, traits=tuple(dep.get('traits', ())),
                attach_handles=tuple(AttachHandle(**h) for h in
                                     dep.get('attach_handles', ()))))
            for dep in item.get('deployables', ()))
        devices.append(Device(**dict(
            item, controlpath=ControlPath(**item['controlpath']),
            deployables=deployables)))
    return devices
