"""Device profiles: named accelerator requirements, like flavors."""

import dataclasses
import datetime
import json

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import base

SORT_KEYS = ('id', 'name', 'created_at', 'updated_at')


@dataclasses.dataclass(frozen=True)
class DeviceProfile:
    id: int
    uuid: str
    name: str
    description: str | None
    groups: list
    created_at: datetime.datetime
    updated_at: datetime.datetime | None

    @classmethod
    def _from_row(cls, row):
        return base.from_row(cls, row, groups=json.loads(row.profile_json))

    @classmethod
    def list(cls, names=None, page=None):
        with db_api.reader() as session:
            statement = sa.select(models.DeviceProfile)
            if names:
                statement = statement.where(
                    models.DeviceProfile.name.in_(names))
            statement = base.paginate(session, statement,
                                      models.DeviceProfile, page)
            return [cls._from_row(row)
                    for row in session.scalars(statement)]

    @classmethod
    def get_by_uuid(cls, uuid):
        return cls._get(models.DeviceProfile.uuid == uuid, uuid)

    @classmethod
    def get_by_name(cls, name):
        return cls._get(models.DeviceProfile.name == name, name)

    @classmethod
    def _get(cls, condition, ident):
        with db_api.reader() as session:
            row = session.scalars(
                sa.select(models.DeviceProfile).where(condition)
            ).one_or_none()
        if row is None:
            raise exception.DeviceProfileNotFound(ident=ident)
        return cls._from_row(row)

    @classmethod
    def create(cls, name, groups, description=None, uuid=None):
        """Store a new profile; Conflict when the name or uuid is taken."""
        row = models.DeviceProfile(
            uuid=uuid or base.new_uuid(), name=name,
            description=description, profile_json=json.dumps(groups))
        try:
            with db_api.writer() as session:
                session.add(row)
        except sa_exc.IntegrityError:
            raise exception.Conflict(
                reason='a device profile with name %s or uuid %s already '
                       'exists.' % (name, row.uuid)) from None
        return cls._from_row(row)

    @classmethod
    def destroy(cls, uuids=(), names=()):
        """Delete the profiles named by uuid or name, all or none.

        Raises DeviceProfileNotFound for any missing one and Conflict when
        accelerator requests still use one of them.
        """
        table = models.DeviceProfile
        with db_api.writer() as session:
            rows = session.execute(
                sa.select(table.id, table.uuid, table.name).where(
                    sa.or_(table.uuid.in_(uuids), table.name.in_(names)))
            ).all()
            found = {r.uuid for r in rows} | {r.name for r in rows}
            missing = [i for i in list(uuids) + list(names)
                       if i not in found]
            if missing:
                raise exception.DeviceProfileNotFound(
                    ident=', '.join(missing))
            ids = [r.id for r in rows]
            in_use = session.execute(
                sa.select(table.name).join(
                    models.AcceleratorRequest,
                    models.AcceleratorRequest.device_profile_id == table.id)
                .where(table.id.in_(ids)).distinct()).scalars().all()
            if in_use:
                raise exception.Conflict(
                    reason='device profile %s is used by accelerator '
                           'requests; delete them first.'
                           % ', '.join(sorted(in_use)))
            session.execute(sa.delete(table).where(table.id.in_(ids)))
