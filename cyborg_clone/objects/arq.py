"""Accelerator requests (ARQs): one accelerator asked for one instance.

Reads join the device profile (for its name) and the attach handle (for
where the accelerator is) in the same statement, so a list is one query
whatever its length. State changes go through ``arq_state``.
"""

import dataclasses
import datetime
import functools
import json

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import attach_handle
from cyborg_clone.objects import base
from cyborg_clone.objects import deployable as deployable_obj

SORT_KEYS = ('id', 'created_at', 'updated_at', 'state', 'instance_uuid')

# Fields every bind sets and an unbind clears.
BINDING_FIELDS = ('hostname', 'device_rp_uuid', 'instance_uuid')
# Fields a bind may set besides (from API 2.1); an unbind leaves them.
OPTIONAL_BINDING_FIELDS = ('project_id',)


@dataclasses.dataclass(frozen=True)
class ARQ:
    id: int
    uuid: str
    state: str
    device_profile_name: str
    device_profile_group_id: int
    device_profile_group: dict
    project_id: str | None
    hostname: str | None
    device_rp_uuid: str | None
    instance_uuid: str | None
    deployable_id: int | None
    attach_handle_type: str
    attach_handle_uuid: str | None
    attach_handle_info: dict
    bind_failure: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime | None

    @property
    def resolved(self):
        return self.state in arq_state.RESOLVED

    @classmethod
    @functools.cache
    def _select(cls):
        # Plain table columns, in field order, so the rows are tuples that
        # build an ARQ directly: no ORM entity per row. Built once; the
        # statement is immutable and list() adds to copies of it.
        arqs = models.AcceleratorRequest.__table__
        handles = models.AttachHandle.__table__
        profiles = models.DeviceProfile.__table__
        return (
            sa.select(arqs.c.id, arqs.c.uuid, arqs.c.state,
                      profiles.c.name, arqs.c.device_profile_group_id,
                      profiles.c.profile_json, arqs.c.project_id,
                      arqs.c.hostname, arqs.c.device_rp_uuid,
                      arqs.c.instance_uuid, arqs.c.deployable_id,
                      handles.c.attach_type, handles.c.uuid,
                      handles.c.attach_info, arqs.c.bind_failure,
                      arqs.c.created_at, arqs.c.updated_at,
                      arqs.c.attach_info)
            .select_from(
                arqs.join(profiles, profiles.c.id == arqs.c.device_profile_id)
                .outerjoin(handles, handles.c.id == arqs.c.attach_handle_id)))

    @classmethod
    @functools.cache
    def _field_names(cls):
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def _from_rows(cls, rows):
        """ARQs from rows of _select(); a profile's groups are parsed once
        per list, each ARQ getting its own copy of its group.

        Each ARQ gets its fields straight into its ``__dict__``: the
        generated ``__init__`` of a frozen dataclass sets them one by one
        through ``object.__setattr__``, two thirds of the cost of making an
        ARQ and a tenth of listing 300. No field has a default or a
        ``__post_init__`` to miss.
        """
        names = cls._field_names()
        new = object.__new__
        groups_of = {}
        arqs = []
        for (id_, uuid, state, profile_name, group_id, profile_json,
             project_id, hostname, rp_uuid, instance_uuid, deployable_id,
             handle_type, handle_uuid, handle_info, bind_failure,
             created_at, updated_at, bound_info) in rows:
            groups = groups_of.get(profile_json)
            if groups is None:
                groups = groups_of[profile_json] = json.loads(profile_json)
            shown_uuid, shown_info = _attached(handle_uuid, handle_info,
                                               bound_info)
            arq = new(cls)
            arq.__dict__.update(zip(names, (
                id_, uuid, state, profile_name, group_id,
                dict(groups[group_id]) if group_id < len(groups) else {},
                project_id, hostname, rp_uuid, instance_uuid, deployable_id,
                handle_type or '', shown_uuid, shown_info, bind_failure,
                created_at, updated_at), strict=True))
            arqs.append(arq)
        return arqs

    @classmethod
    def _build(cls, row, profile_name, profile_json, handle_type=None,
               handle_uuid=None, handle_info=None):
        groups = json.loads(profile_json)
        group_id = row.device_profile_group_id
        return base.from_row(
            cls, row,
            device_profile_name=profile_name,
            device_profile_group=(groups[group_id]
                                  if group_id < len(groups) else {}),
            attach_handle_type=handle_type or '',
            attach_handle_uuid=handle_uuid,
            attach_handle_info=json.loads(handle_info) if handle_info else {})

    @classmethod
    @functools.cache
    def _filtered(cls, filters, paged):
        """_select() narrowed by ``filters`` (column names, or 'uuids' for
        an IN, each compared with the bound parameter of that name),
        ordered by id unless ``paged``. One statement object per shape,
        so SQLAlchemy computes its cache key once, not on every list."""
        arqs = models.AcceleratorRequest.__table__.c
        statement = cls._select()
        for name in filters:
            if name == 'uuids':
                statement = statement.where(arqs.uuid.in_(
                    sa.bindparam('uuids', expanding=True)))
            else:
                statement = statement.where(arqs[name] == sa.bindparam(name))
        if not paged:
            # Without a page paginate() only orders: it reads no marker.
            statement = base.paginate(None, statement, arqs, None)
        return statement

    @classmethod
    def list(cls, project_id=None, instance_uuid=None, uuids=None,
             page=None):
        """ARQs, optionally of one project, one instance or by uuid."""
        params = {name: value for name, value in (
            ('project_id', project_id), ('instance_uuid', instance_uuid))
            if value is not None}
        if uuids is not None:
            uuids = list(uuids)
            if len(uuids) == 1:
                params['uuid'] = uuids[0]  # an equality, not a 1-item IN
            else:
                params['uuids'] = uuids
        statement = cls._filtered(tuple(params), page is not None)
        if page is None:
            return cls._from_rows(db_api.read(statement, params))
        with db_api.reader() as session:
            # The marker's row and the page: one snapshot.
            statement = base.paginate(
                session, statement, models.AcceleratorRequest.__table__.c,
                page)
            rows = session.execute(statement, params).all()
        return cls._from_rows(rows)

    @classmethod
    def get(cls, uuid):
        found = cls.list(uuids=[uuid])
        if not found:
            raise exception.ARQNotFound(uuid=uuid)
        return found[0]

    @classmethod
    def create_from_profile(cls, profile_name, project_id, group_id=None):
        """One ARQ per accelerator the profile asks for: for every group
        (or only group ``group_id``), as many as the sum of its
        ``resources:*`` amounts. Raises DeviceProfileNotFound, or Invalid
        when the profile has no group ``group_id``."""
        profiles = models.DeviceProfile
        with db_api.writer() as session:
            profile = session.execute(
                sa.select(profiles.id, profiles.profile_json)
                .where(profiles.name == profile_name)).one_or_none()
            if profile is None:
                raise exception.DeviceProfileNotFound(
                    ident=profile_name or '""')
            groups = list(enumerate(json.loads(profile.profile_json)))
            if group_id is not None:
                if group_id >= len(groups):
                    raise exception.Invalid(
                        reason='device_profile_group_id %d is out of range: '
                               'device profile %s has %d group(s), numbered '
                               'from 0.' % (group_id, profile_name,
                                            len(groups)))
                groups = [groups[group_id]]
            rows = []
            for number, group in groups:
                count = sum(int(amount) for key, amount in group.items()
                            if key.startswith('resources:'))
                rows.extend(models.AcceleratorRequest(
                    uuid=base.new_uuid(), state=arq_state.INITIAL,
                    device_profile_id=profile.id,
                    device_profile_group_id=number,
                    project_id=project_id) for _ in range(count))
            session.add_all(rows)
            session.flush()
            return [cls._build(row, profile_name, profile.profile_json)
                    for row in rows]

    @classmethod
    def bind(cls, bindings):
        """Start binding: ``bindings`` maps ARQ uuid to its hostname,
        device_rp_uuid, instance_uuid (and optionally project_id).

        The device_rp_uuid alone names the accelerator: Nova sends its
        compute node name as hostname, which need not be the agent's host,
        so hostname is only recorded. All ARQs move to BindStarted or none
        do. Raises Invalid when a device_rp_uuid names no accelerator,
        Conflict when its host no longer reports it (kept only for the ARQs
        holding it) or when the instance already has other ARQs, and the
        errors of ``arq_state.transition``.
        """
        arqs = models.AcceleratorRequest
        with db_api.writer() as session:
            deployables = cls._deployables_by_rp(
                session, {b['device_rp_uuid'] for b in bindings.values()})
            for binding in bindings.values():
                found = deployables.get(binding['device_rp_uuid'])
                if found is None:
                    raise exception.Invalid(
                        reason='device_rp_uuid %s names no accelerator.'
                               % binding['device_rp_uuid'])
                refusal = deployable_obj.bind_refusal(found, found.hostname)
                if refusal is not None:
                    raise exception.Conflict(
                        reason='the device of device_rp_uuid %s %s.'
                               % (binding['device_rp_uuid'], refusal))
            instances = {b['instance_uuid'] for b in bindings.values()}
            others = session.execute(
                sa.select(arqs.uuid, arqs.instance_uuid).where(
                    arqs.instance_uuid.in_(instances),
                    arqs.uuid.not_in(list(bindings)))).first()
            if others is not None:
                raise exception.Conflict(
                    reason='instance %s already has accelerator request %s; '
                           'unbind or delete it first.'
                           % (others.instance_uuid, others.uuid))
            now = models.utcnow()
            for uuid, binding in bindings.items():
                values = dict(binding)
                values['deployable_id'] = deployables[
                    binding['device_rp_uuid']].id
                # A new bind: no conductor has it yet, Nova is to be told.
                arq_state.transition(session, 'bind', [uuid],
                                     bind_started_at=now, bind_failure=None,
                                     bind_owner=None, notified_at=None,
                                     **values)

    @staticmethod
    def _deployables_by_rp(session, rp_uuids):
        deployables = models.Deployable
        rows = session.execute(
            sa.select(deployables.id, deployables.rp_uuid,
                      deployables.vanished_at, deployables.state,
                      models.Device.hostname)
            .join(models.Device, models.Device.id == deployables.device_id)
            .where(deployables.rp_uuid.in_(rp_uuids))).all()
        return {row.rp_uuid: row for row in rows}

    @classmethod
    def unbind(cls, uuids):
        """Unbind ARQs, releasing their attach handles, all or none.

        :returns: a ``Released`` per ARQ that held a handle, read in the
            same transaction: what is left to undo on the host.
        """
        with db_api.writer() as session:
            released = _released(session, uuids)
            attach_handle.release_for_arqs(session, uuids)
            arq_state.transition(
                session, 'unbind', uuids, deployable_id=None,
                attach_handle_id=None, bind_started_at=None,
                bind_failure=None, attach_info=None,
                **dict.fromkeys(BINDING_FIELDS))
        return released

    @classmethod
    def destroy(cls, uuids):
        """Delete ARQs (any state), releasing their handles.

        :returns: a ``Released`` per ARQ that held a handle.
        """
        arqs = models.AcceleratorRequest
        with db_api.writer() as session:
            arq_state.transition(session, 'delete', uuids)
            released = _released(session, uuids)
            attach_handle.release_for_arqs(session, uuids)
            session.execute(sa.delete(arqs).where(arqs.uuid.in_(uuids)))
        return released


def _attached(handle_uuid, handle_info, bound_info):
    """``(attach_handle_uuid, attach_handle_info)`` an ARQ shows: what its
    bind made (a vGPU: the mediated device's uuid, which is what nova's
    libvirt driver reads as ``attach_handle_uuid``) over the handle's."""
    if bound_info:
        info = json.loads(bound_info)
        return info.get('uuid', handle_uuid), info
    return handle_uuid, json.loads(handle_info) if handle_info else {}


@dataclasses.dataclass(frozen=True)
class Released:
    """An ARQ's hold on a device, as it was before its unbind or delete:
    what the conductor undoes on the host (``device_cleaning``)."""

    arq_uuid: str
    deployable_id: int
    deployable_name: str
    driver_name: str | None
    # The agent's host (not the nova node name an ARQ records).
    hostname: str
    attach_type: str
    attach_info: dict

    def to_primitive(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_primitive(cls, value):
        return cls(**value)


def _released(session, uuids):
    arqs, handles = models.AcceleratorRequest, models.AttachHandle
    deps, devs = models.Deployable, models.Device
    rows = session.execute(
        sa.select(arqs.uuid, deps.id, deps.name, deps.driver_name,
                  devs.hostname,
                  handles.attach_type, handles.attach_info, arqs.attach_info)
        .join(handles, handles.id == arqs.attach_handle_id)
        .join(deps, deps.id == handles.deployable_id)
        .join(devs, devs.id == deps.device_id)
        .where(arqs.uuid.in_(uuids)).order_by(arqs.id)).all()
    return [Released(uuid, dep_id, name, driver, hostname, attach_type,
                     _attached(None, handle_info, bound_info)[1])
            for (uuid, dep_id, name, driver, hostname, attach_type,
                 handle_info, bound_info) in rows]


def binding_of(session, uuid):
    """What the conductor needs to bind ARQ ``uuid``: its instance_uuid,
    device_profile_group_id, attach_handle_id, the profile's
    profile_json, its Deployable row (None once gone) and that device's
    hostname."""
    arqs, deployables = models.AcceleratorRequest, models.Deployable
    return session.execute(
        sa.select(arqs.instance_uuid, arqs.device_profile_group_id,
                  arqs.attach_handle_id,
                  models.DeviceProfile.profile_json,
                  deployables, models.Device.hostname)
        .join(models.DeviceProfile,
              models.DeviceProfile.id == arqs.device_profile_id)
        .outerjoin(deployables, deployables.id == arqs.deployable_id)
        .outerjoin(models.Device, models.Device.id == deployables.device_id)
        .where(arqs.uuid == uuid)).one()


def hold_handle(session, uuid, handle_id):
    """Record on the still binding ARQ ``uuid`` the handle it claimed."""
    arqs = models.AcceleratorRequest
    session.execute(sa.update(arqs).where(arqs.uuid == uuid)
                    .values(attach_handle_id=handle_id))


def binding_since_before(cutoff):
    """Uuids of the ARQs in BindStarted since before ``cutoff``."""
    arqs = models.AcceleratorRequest
    with db_api.reader() as session:
        return session.execute(sa.select(arqs.uuid).where(
            arqs.state == arq_state.BIND_STARTED,
            arqs.bind_started_at < cutoff)).scalars().all()
