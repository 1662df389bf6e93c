"""Which conductor finishes each bind and tells Nova about it.

``accelerator_requests.bind_owner`` names a conductor (``conductor_lease``).
An ARQ is *pending* while its owner still has work for it: BindStarted, or
resolved (Bound, BindFailed) while Nova has not been told
(``notified_at`` is NULL). Ownership only changes by conditional UPDATEs:

- ``own``: a conductor picking a bind cast up takes the ARQs nobody owns;
- ``adopt``: a conductor takes the pending ARQs of one instance from a dead
  (or vanished) owner, or those nobody picked up within the grace period
  (their cast was lost);
- ``take``: the stuck-bind timeout takes an ARQ from whoever holds it.

Each conductor writes a bind's progress only through ``hold``, which fails
once the ARQ is no longer its own, so a conductor that was merely slow
(and taken for dead) cannot undo what its adopter did. On PostgreSQL and
MariaDB the UPDATE also locks the row until the transaction ends.
"""

import dataclasses

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import conductor_lease

# Resolved states Nova gets an event for (Deleting rows are gone at commit).
NOTIFIABLE = (arq_state.BOUND, arq_state.BIND_FAILED)


@dataclasses.dataclass(frozen=True)
class Adopted:
    """What ``adopt`` took over for one instance: ARQs still to bind, and
    ARQs resolved whose events Nova has not been sent yet."""

    instance_uuid: str
    binding: tuple
    resolved: tuple


def _arqs():
    return models.AcceleratorRequest


def _pending():
    arqs = _arqs()
    return sa.or_(arqs.state == arq_state.BIND_STARTED,
                  sa.and_(arqs.state.in_(NOTIFIABLE),
                          arqs.notified_at.is_(None)))


def _orphaned(live_since, grace_since):
    """Pending ARQs whose owner is dead or gone, or BindStarted ones that
    nobody picked up before ``grace_since``."""
    arqs = _arqs()
    return sa.and_(_pending(), sa.or_(
        sa.and_(arqs.bind_owner.is_(None),
                arqs.state == arq_state.BIND_STARTED,
                arqs.bind_started_at < grace_since),
        sa.and_(arqs.bind_owner.is_not(None),
                ~conductor_lease.is_live_clause(arqs.bind_owner,
                                                live_since))))


def _owned_by(owner):
    arqs = _arqs()
    return arqs.bind_owner.is_(None) if owner is None else (
        arqs.bind_owner == owner)


def _take(session, condition, owner):
    """Lock the ARQs matching ``condition`` and make them ``owner``'s, all
    or none; (uuid, state) of each: first those holding an attach handle
    (their load was under way, and the others of their instance may find
    its image loaded once it ends), then by id."""
    arqs = _arqs()
    rows = session.execute(
        sa.select(arqs.uuid, arqs.state).where(condition)
        .order_by(arqs.attach_handle_id.is_(None), arqs.id)
        .with_for_update()).all()
    if not rows:
        return []
    taken = session.execute(
        sa.update(arqs)
        .where(arqs.uuid.in_([row.uuid for row in rows]), condition)
        .values(bind_owner=owner)
        .execution_options(synchronize_session=False)).rowcount
    if taken != len(rows):
        raise exception.Conflict(reason='accelerator requests changed '
                                        'while being taken over; retry.')
    return [tuple(row) for row in rows]


def own(uuids, owner):
    """Take the BindStarted ARQs among ``uuids`` that nobody owns (a bind
    cast arrived); the uuids taken, in the order given. Those owned already
    (adopted while the cast was delayed, or a cast delivered twice) are
    left to their owner."""
    arqs = _arqs()

    def take():
        # Concurrent casts lock rows of one table; MariaDB may pick one
        # as a deadlock victim, which is safe to run again.
        with db_api.writer() as session:
            return {uuid for uuid, _state in _take(
                session, sa.and_(arqs.uuid.in_(list(uuids)),
                                 arqs.state == arq_state.BIND_STARTED,
                                 arqs.bind_owner.is_(None)), owner)}
    taken = db_api.retry_on_deadlock(take)
    return [uuid for uuid in uuids if uuid in taken]


def orphans(owner, live_since, grace_since):
    """``(instance_uuid, bind_owner)`` of the instances having orphaned
    ARQs (see ``adopt``), each with the owner those ARQs had."""
    arqs = _arqs()
    with db_api.reader() as session:
        return [tuple(row) for row in session.execute(
            sa.select(arqs.instance_uuid, arqs.bind_owner).where(
                _orphaned(live_since, grace_since),
                arqs.instance_uuid.is_not(None),
                sa.or_(arqs.bind_owner.is_(None),
                       arqs.bind_owner != owner))
            .distinct().order_by(arqs.instance_uuid))]


def adopt(instance_uuid, previous_owner, owner, live_since, grace_since):
    """Take the orphaned ARQs of ``instance_uuid`` that
    ``previous_owner`` (None: nobody) had, checking again, in the same
    transaction, that they are still orphaned; an Adopted, whose binds
    are to be resumed in the order given (see _take). Two conductors
    adopting at once never both get an ARQ: the second finds it owned."""
    arqs = _arqs()
    try:
        with db_api.writer() as session:
            rows = _take(session, sa.and_(
                arqs.instance_uuid == instance_uuid,
                _owned_by(previous_owner),
                _orphaned(live_since, grace_since)), owner)
    except exception.Conflict:
        rows = []
    return Adopted(
        instance_uuid,
        tuple(u for u, state in rows if state == arq_state.BIND_STARTED),
        tuple(u for u, state in rows if state != arq_state.BIND_STARTED))


def hold(session, uuid, owner):
    """In ``session``: check that ``owner`` still binds ARQ ``uuid``, and
    lock its row until the transaction ends.

    :raises Conflict: when the ARQ is gone, no longer BindStarted, or owned
        by another conductor now.
    """
    arqs = _arqs()
    held = session.execute(
        sa.update(arqs)
        .where(arqs.uuid == uuid, arqs.bind_owner == owner,
               arqs.state == arq_state.BIND_STARTED)
        .values(bind_owner=owner)
        .execution_options(synchronize_session=False)).rowcount
    if held != 1:
        raise exception.Conflict(
            reason='accelerator request %s is no longer being bound by this '
                   'conductor (unbound, deleted or adopted by another).'
                   % uuid)


def take(session, uuid, owner):
    """In ``session``: make BindStarted ARQ ``uuid`` ``owner``'s whoever
    held it (the stuck-bind timeout); the previous owner's later writes
    then fail ``hold``.

    :raises Conflict: when the ARQ is gone or no longer BindStarted.
    """
    arqs = _arqs()
    taken = session.execute(
        sa.update(arqs)
        .where(arqs.uuid == uuid, arqs.state == arq_state.BIND_STARTED)
        .values(bind_owner=owner)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise exception.Conflict(
            reason='accelerator request %s is no longer binding.' % uuid)


def unnotified(instance_uuid, owner):
    """The uuids of the ARQs of ``instance_uuid`` that ``owner`` must tell
    Nova about now: none until every ARQ of the instance is resolved, then
    the resolved ones it owns that Nova was not told about, by id."""
    arqs = _arqs()
    with db_api.reader() as session:
        rows = session.execute(
            sa.select(arqs.uuid, arqs.state, arqs.bind_owner,
                      arqs.notified_at)
            .where(arqs.instance_uuid == instance_uuid)
            .order_by(arqs.id)).all()
    if not rows or any(row.state not in arq_state.RESOLVED for row in rows):
        return []
    return [row.uuid for row in rows
            if row.state in NOTIFIABLE and row.notified_at is None
            and row.bind_owner == owner]


def instances_to_notify(owner):
    """Instances with resolved ARQs ``owner`` has not told Nova about."""
    arqs = _arqs()
    with db_api.reader() as session:
        return list(session.execute(
            sa.select(arqs.instance_uuid).where(
                arqs.state.in_(NOTIFIABLE), arqs.notified_at.is_(None),
                arqs.bind_owner == owner, arqs.instance_uuid.is_not(None))
            .distinct().order_by(arqs.instance_uuid)).scalars())


def mark_notified(uuids, owner):
    """Record that Nova was told about ARQs ``uuids`` (those ``owner``
    still owns and that were not recorded yet); how many were recorded."""
    arqs = _arqs()
    with db_api.writer() as session:
        return session.execute(
            sa.update(arqs)
            .where(arqs.uuid.in_(list(uuids)), arqs.bind_owner == owner,
                   arqs.notified_at.is_(None))
            .values(notified_at=models.utcnow())
            .execution_options(synchronize_session=False)).rowcount
