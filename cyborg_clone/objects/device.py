"""Devices: the physical cards agents report."""

import dataclasses
import datetime

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import base

SORT_KEYS = ('id', 'type', 'vendor', 'model', 'hostname', 'created_at',
             'updated_at')
ENABLED = 'enabled'
MAINTAINING = 'maintaining'


@dataclasses.dataclass(frozen=True)
class Device:
    id: int
    uuid: str
    type: str
    vendor: str
    model: str
    std_board_info: str | None
    vendor_board_info: str | None
    hostname: str
    driver_name: str | None
    status: str
    created_at: datetime.datetime
    updated_at: datetime.datetime | None

    @classmethod
    def list(cls, type=None, vendor=None, hostname=None, page=None):
        table = models.Device
        filters = {'type': type, 'vendor': vendor, 'hostname': hostname}
        with db_api.reader() as session:
            statement = sa.select(table).where(*(
                getattr(table, column) == value
                for column, value in filters.items() if value is not None))
            statement = base.paginate(session, statement, table, page)
            return [base.from_row(cls, row)
                    for row in session.scalars(statement)]

    @classmethod
    def get_by_uuid(cls, uuid):
        with db_api.reader() as session:
            row = session.scalars(sa.select(models.Device).where(
                models.Device.uuid == uuid)).one_or_none()
        if row is None:
            raise exception.DeviceNotFound(uuid=uuid)
        return base.from_row(cls, row)

    @classmethod
    def set_status(cls, uuid, status):
        """Put a device in ``status`` (ENABLED or MAINTAINING).

        :returns: the device's host name.
        :raises DeviceNotFound: for an unknown uuid.
        """
        if status not in (ENABLED, MAINTAINING):
            raise ValueError(status)
        table = models.Device
        with db_api.writer() as session:
            # Not UPDATE ... RETURNING: MySQL has no such thing.
            hostname = session.scalar(sa.select(table.hostname).where(
                table.uuid == uuid))
            if hostname is None:
                raise exception.DeviceNotFound(uuid=uuid)
            session.execute(sa.update(table).where(table.uuid == uuid)
                            .values(status=status))
        return hostname
