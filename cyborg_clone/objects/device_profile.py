"""Device profiles: named accelerator requirements, like flavors."""

import dataclasses
import datetime
import functools
import json

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import base

SORT_KEYS = ('id', 'name', 'created_at', 'updated_at')

# The keys of a group that ask for an image: its id (in the image store or
# Glance), or the function a card must run (conductor/required_image.py).
BITSTREAM_KEY = 'accel:bitstream_id'
FUNCTION_KEY = 'accel:function_id'


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
    @functools.cache
    def _select(cls, where=None, paged=False):
        """The profiles' columns in field order (groups as its JSON), one
        statement object per shape so SQLAlchemy keys it once. ``where``:
        'names' (an IN of the ``names`` parameter), 'uuid' or 'name' (equal
        to the parameter of that name); unpaged lists are ordered by id."""
        table = models.DeviceProfile.__table__.c
        statement = sa.select(table.id, table.uuid, table.name,
                              table.description, table.profile_json,
                              table.created_at, table.updated_at)
        if where == 'names':
            statement = statement.where(table.name.in_(
                sa.bindparam('names', expanding=True)))
        elif where is not None:
            statement = statement.where(table[where] == sa.bindparam(where))
        if where in (None, 'names') and not paged:
            # Without a page paginate() only orders: it reads no marker.
            statement = base.paginate(None, statement, table, None)
        return statement

    @classmethod
    def _from_rows(cls, rows):
        return [cls(id_, uuid, name, description, json.loads(groups),
                    created_at, updated_at)
                for (id_, uuid, name, description, groups, created_at,
                     updated_at) in rows]

    @classmethod
    def list(cls, names=None, page=None):
        where, params = ('names', {'names': list(names)}) if names else (
            None, {})
        statement = cls._select(where, page is not None)
        if page is None:
            return cls._from_rows(db_api.read(statement, params))
        with db_api.reader() as session:
            # The marker's row and the page: one snapshot.
            statement = base.paginate(
                session, statement, models.DeviceProfile.__table__.c, page)
            rows = session.execute(statement, params).all()
        return cls._from_rows(rows)

    @classmethod
    def get_by_uuid(cls, uuid):
        return cls._get('uuid', uuid)

    @classmethod
    def get_by_name(cls, name):
        return cls._get('name', name)

    @classmethod
    def _get(cls, column, ident):
        rows = db_api.read(cls._select(column), {column: ident})
        if not rows:
            raise exception.DeviceProfileNotFound(ident=ident)
        return cls._from_rows(rows)[0]

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
