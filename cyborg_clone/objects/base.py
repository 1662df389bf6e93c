"""What persistence objects share: row conversion and list paging."""

import dataclasses
import uuid as uuid_lib

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import models


def utcnow():
    """Now, as the database's timestamps are stored."""
    return models.utcnow()


def new_uuid():
    return str(uuid_lib.uuid4())


def from_row(cls, row, **extra):
    """An instance of dataclass ``cls`` from an ORM row plus ``extra``."""
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in extra:
            values[field.name] = extra[field.name]
        else:
            values[field.name] = getattr(row, field.name)
    return cls(**values)


@dataclasses.dataclass(frozen=True)
class Page:
    """How to page a list: at most ``limit`` rows after ``marker`` (a uuid),
    ordered by ``sort_key`` then id."""

    limit: int | None = None
    marker: str | None = None
    sort_key: str = 'id'
    sort_dir: str = 'asc'


def paginate(session, statement, model, page):
    """Apply ``page`` to ``statement`` (a select of ``model``)."""
    if page is None:
        return statement.order_by(model.id)
    column = getattr(model, page.sort_key)
    direction = sa.desc if page.sort_dir == 'desc' else sa.asc
    if page.marker is not None:
        marker = session.execute(
            sa.select(column, model.id).where(model.uuid == page.marker)
        ).one_or_none()
        if marker is None:
            raise exception.Invalid(
                reason='marker %s does not name an item of this list.'
                % page.marker)
        after = (sa.tuple_(column, model.id) > tuple(marker)
                 if page.sort_dir == 'asc'
                 else sa.tuple_(column, model.id) < tuple(marker))
        statement = statement.where(after)
    statement = statement.order_by(direction(column), direction(model.id))
    if page.limit is not None:
        statement = statement.limit(page.limit)
    return statement
