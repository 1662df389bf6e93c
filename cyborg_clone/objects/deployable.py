"""Deployables: the programmable units of a card, with their attributes."""

import collections
import dataclasses
import datetime
import uuid as uuid_lib

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import attach_handle
from cyborg_clone.objects import base

SORT_KEYS = ('id', 'name', 'device_id', 'created_at', 'updated_at')

# Deployable states: only an available one is offered and bound. One
# being cleaned between two tenants is ``cleaning``; one whose cleanup
# failed stays ``cleanup_failed`` until an operator enables its device.
AVAILABLE = 'available'
CLEANING = 'cleaning'
CLEANUP_FAILED = 'cleanup_failed'
STATES = (AVAILABLE, CLEANING, CLEANUP_FAILED)
_STATE_WORDS = {CLEANING: 'being cleaned',
                CLEANUP_FAILED: 'not cleaned: its cleanup failed'}


def bind_refusal(deployable, hostname):
    """Why no bind may land on ``deployable`` (its row: ``vanished_at``
    and ``state`` are read) of host ``hostname`` now, as the rest of a
    sentence about the device; None when one may.

    The API refuses such a bind, and the conductor fails one that was
    accepted before the device changed.
    """
    if deployable.vanished_at is not None:
        return 'is no longer reported by host %s' % hostname
    if deployable.state != AVAILABLE:
        return 'is %s%s; it cannot be bound until it is available again' % (
            _STATE_WORDS.get(deployable.state, deployable.state),
            ' (an operator enables its device to retry)'
            if deployable.state == CLEANUP_FAILED else '')
    return None


def rp_uuid_for(name):
    """The uuid of a deployable's Placement resource provider."""
    return str(uuid_lib.uuid3(uuid_lib.NAMESPACE_DNS, name))


@dataclasses.dataclass(frozen=True)
class Deployable:
    id: int
    uuid: str
    parent_id: int | None
    root_id: int | None
    name: str
    num_accelerators: int
    device_id: int
    driver_name: str | None
    bitstream_id: str | None
    rp_uuid: str | None
    state: str
    # Why the last cleanup failed; None unless cleanup_failed.
    state_reason: str | None
    # (key, value) pairs in creation order.
    attributes: tuple
    created_at: datetime.datetime
    updated_at: datetime.datetime | None

    @classmethod
    def list(cls, page=None):
        """Every deployable: one query for them, one for their
        attributes."""
        with db_api.reader() as session:
            statement = base.paginate(session, sa.select(models.Deployable),
                                      models.Deployable, page)
            rows = session.scalars(statement).all()
            return cls._with_attributes(session, rows)

    @classmethod
    def get_by_uuid(cls, uuid):
        with db_api.reader() as session:
            return cls._get(session, uuid)

    @classmethod
    def _get(cls, session, uuid):
        row = session.scalars(sa.select(models.Deployable).where(
            models.Deployable.uuid == uuid)).one_or_none()
        if row is None:
            raise exception.DeployableNotFound(ident=uuid)
        return cls._with_attributes(session, [row])[0]

    @classmethod
    def _with_attributes(cls, session, rows):
        attributes = collections.defaultdict(list)
        if rows:
            table = models.Attribute
            for dep_id, key, value in session.execute(
                    sa.select(table.deployable_id, table.key, table.value)
                    .where(table.deployable_id.in_([r.id for r in rows]))
                    .order_by(table.id)):
                attributes[dep_id].append((key, value))
        return [base.from_row(cls, row, attributes=tuple(attributes[row.id]))
                for row in rows]

    @classmethod
    def reported_on(cls, hostname):
        """The deployables ``hostname`` still reports, by name, each with
        its device's type and status; two queries.

        Vanished deployables (kept only while an ARQ holds them) are left
        out: nothing new should be scheduled on them.

        :returns: a list of ``OnHost``.
        """
        dev, dep = models.Device, models.Deployable
        with db_api.reader() as session:
            rows = session.execute(
                sa.select(dep, dev.type, dev.status)
                .join(dev, dev.id == dep.device_id)
                .where(dev.hostname == hostname, dep.vanished_at.is_(None))
                .order_by(dep.name)).all()
            deployables = cls._with_attributes(session,
                                               [row[0] for row in rows])
        return [OnHost(deployable, device_type, device_status)
                for deployable, (_, device_type, device_status)
                in zip(deployables, rows, strict=True)]

    @classmethod
    def program_target(cls, uuid):
        """The deployable and its host name, when it may be programmed.

        :raises DeployableNotFound: for an unknown uuid.
        :raises Conflict: while an accelerator request holds one of its
            attach handles (reprogramming would pull the function from
            under a running instance).
        """
        with db_api.reader() as session:
            deployable = cls._get(session, uuid)
            hostname = session.scalar(sa.select(models.Device.hostname).where(
                models.Device.id == deployable.device_id))
            in_use = attach_handle.count_in_use(session, deployable.id)
        if in_use:
            raise exception.Conflict(
                reason='deployable %s has %d attach handle(s) in use; it '
                       'cannot be programmed until they are released.'
                       % (uuid, in_use))
        return deployable, hostname


    @classmethod
    def set_state(cls, deployable_id, state, reason=None, only_from=None):
        """Put a deployable in ``state`` (one of STATES) with ``reason``
        (cut to the column); with ``only_from``, only when it is in one
        of those states now.

        :returns: ``Cleanable`` of the deployable, or None when it is gone
            or was not in ``only_from``.
        """
        if state not in STATES:
            raise ValueError(state)
        table = models.Deployable
        condition = [table.id == deployable_id]
        if only_from is not None:
            condition.append(table.state.in_(only_from))
        with db_api.writer() as session:
            changed = session.execute(
                sa.update(table).where(*condition)
                .values(state=state,
                        state_reason=reason[:255] if reason else None)
                .execution_options(synchronize_session=False)).rowcount
            if not changed:
                return None
            return _cleanable(session, [table.id == deployable_id])[0]

    @classmethod
    def in_state(cls, states, hostname=None, device_uuid=None):
        """``Cleanable`` of the deployables in one of ``states``,
        optionally only those of a host or of a device."""
        table = models.Deployable
        condition = [table.state.in_(states)]
        if hostname is not None:
            condition.append(models.Device.hostname == hostname)
        if device_uuid is not None:
            condition.append(models.Device.uuid == device_uuid)
        with db_api.reader() as session:
            return _cleanable(session, condition)


@dataclasses.dataclass(frozen=True)
class Cleanable:
    """What cleaning a deployable needs to know of it."""

    id: int
    uuid: str
    name: str
    hostname: str
    driver_name: str | None
    state: str
    state_reason: str | None


def _cleanable(session, condition):
    dep, dev = models.Deployable, models.Device
    rows = session.execute(
        sa.select(dep.id, dep.uuid, dep.name, dev.hostname,
                  dep.driver_name, dep.state, dep.state_reason)
        .join(dev, dev.id == dep.device_id).where(*condition)
        .order_by(dep.id)).all()
    return [Cleanable(*row) for row in rows]


@dataclasses.dataclass(frozen=True)
class OnHost:
    """A deployable with the state of its device."""

    deployable: Deployable
    device_type: str
    device_status: str
