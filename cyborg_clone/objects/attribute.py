"""Attributes: key/value facts about a deployable (resource class, traits)."""

import dataclasses
import datetime
import re

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import base

SORT_KEYS = ('id', 'deployable_id', 'key', 'created_at', 'updated_at')

# Keys discovery owns: device sync rewrites them from each report and
# leaves every other key (operator-created ones) alone.
DERIVED_KEY = re.compile(r'^(rc|traits[1-9][0-9]*)$')


def derived(resource_class, traits):
    """The attributes discovery records for a deployable, in order:
    ``traits1``, ``traits2``, ... then ``rc`` (upstream's order)."""
    pairs = [('traits%d' % i, trait) for i, trait in enumerate(traits, 1)]
    pairs.append(('rc', resource_class))
    return pairs


@dataclasses.dataclass(frozen=True)
class Attribute:
    id: int
    uuid: str
    deployable_id: int
    key: str
    value: str
    created_at: datetime.datetime
    updated_at: datetime.datetime | None

    @classmethod
    def list(cls, deployable_id=None, key=None, page=None):
        table = models.Attribute
        with db_api.reader() as session:
            statement = sa.select(table)
            if deployable_id is not None:
                statement = statement.where(
                    table.deployable_id == deployable_id)
            if key is not None:
                statement = statement.where(table.key == key)
            statement = base.paginate(session, statement, table, page)
            return [base.from_row(cls, row)
                    for row in session.scalars(statement)]

    @staticmethod
    def _named(ident):
        # The integer id is accepted too: openstacksdk addresses an
        # attribute by its "id" field once it has read one.
        if isinstance(ident, int):
            return models.Attribute.id == ident
        return models.Attribute.uuid == ident

    @classmethod
    def get(cls, ident):
        """The attribute with this uuid (str) or id (int)."""
        with db_api.reader() as session:
            row = session.scalars(sa.select(models.Attribute).where(
                cls._named(ident))).one_or_none()
        if row is None:
            raise exception.AttributeNotFound(uuid=ident)
        return base.from_row(cls, row)

    @classmethod
    def create(cls, deployable_id, key, value):
        """Store an attribute; DeployableNotFound for an unknown
        deployable, Conflict when the deployable already has ``key``."""
        row = models.Attribute(uuid=base.new_uuid(),
                               deployable_id=deployable_id, key=key,
                               value=value)
        try:
            with db_api.writer() as session:
                exists = session.scalar(sa.select(models.Deployable.id).where(
                    models.Deployable.id == deployable_id))
                if exists is None:
                    raise exception.DeployableNotFound(ident=deployable_id)
                session.add(row)
        except sa_exc.IntegrityError:
            raise exception.Conflict(
                reason='deployable %s already has an attribute %s.'
                       % (deployable_id, key)) from None
        return base.from_row(cls, row)

    @classmethod
    def destroy(cls, ident):
        """Delete the attribute with this uuid (str) or id (int)."""
        with db_api.writer() as session:
            deleted = session.execute(sa.delete(models.Attribute).where(
                cls._named(ident))).rowcount
        if not deleted:
            raise exception.AttributeNotFound(uuid=ident)


def values_starting(session, deployable_id, prefix):
    """The values of ``deployable_id``'s attributes starting ``prefix``."""
    table = models.Attribute
    return list(session.scalars(sa.select(table.value).where(
        table.deployable_id == deployable_id,
        table.value.startswith(prefix))))
