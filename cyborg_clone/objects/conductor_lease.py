"""Running conductors: one row per process, kept alive by its heartbeats.

A conductor whose ``heartbeat_at`` is older than the caller's cutoff is
dead, as is one with no row at all: the binds it owns are then adopted
(``bind_ownership``). Each process compares the heartbeats with its own
clock, as nova's database service group does with its services', so the
hosts' clocks must agree to well within ``[conductor]heartbeat_timeout``.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import base


@dataclasses.dataclass(frozen=True)
class Conductor:
    id: str
    host: str
    pid: int
    started_at: datetime.datetime
    heartbeat_at: datetime.datetime


def cutoff(seconds):
    """The oldest heartbeat of a live conductor, ``seconds`` ago."""
    return models.utcnow() - datetime.timedelta(seconds=seconds)


def register(host, pid):
    """A new row for this process; its id."""
    conductor_id = base.new_uuid()
    with db_api.writer() as session:
        session.add(models.Conductor(id=conductor_id, host=host, pid=pid))
    return conductor_id


def beat(conductor_id, host, pid):
    """Refresh the heartbeat. A row that another conductor removed (this
    one looked dead, e.g. while the database was unreachable) comes back;
    the binds adopted meanwhile stay with their adopter. Returns False in
    that case."""
    table = models.Conductor
    now = models.utcnow()
    with db_api.writer() as session:
        updated = session.execute(
            sa.update(table).where(table.id == conductor_id)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if updated:
            return True
        session.add(models.Conductor(id=conductor_id, host=host, pid=pid,
                                     started_at=now, heartbeat_at=now))
        return False


def leave(conductor_id):
    """Remove the row of a conductor that stops: what it still owns is
    adopted at once rather than after the heartbeat timeout."""
    table = models.Conductor
    with db_api.writer() as session:
        session.execute(sa.delete(table).where(table.id == conductor_id))


def live(since):
    """The conductors that beat at or after ``since``, oldest first."""
    table = models.Conductor
    with db_api.reader() as session:
        rows = session.execute(
            sa.select(table).where(table.heartbeat_at >= since)
            .order_by(table.started_at, table.id)).scalars().all()
    return [base.from_row(Conductor, row) for row in rows]


def forget_dead(since, besides=None):
    """Delete the rows of conductors that last beat before ``since``, but
    the caller's own (``besides``: it is obviously alive, if late); how
    many. Their binds count as orphaned either way."""
    table = models.Conductor
    condition = table.heartbeat_at < since
    if besides is not None:
        condition = sa.and_(condition, table.id != besides)
    with db_api.writer() as session:
        return session.execute(
            sa.delete(table).where(condition)
            .execution_options(synchronize_session=False)).rowcount


def is_live_clause(owner_column, since):
    """SQL true when ``owner_column`` names a conductor that beat at or
    after ``since``."""
    table = models.Conductor
    return sa.exists().where(table.id == owner_column,
                             table.heartbeat_at >= since)
