"""Attach handles: claiming and releasing accelerators for ARQs.

A claim is a conditional UPDATE (``... SET in_use = true WHERE id = ? AND
in_use = false``), so two conductors can never take the same handle; the
unique ``accelerator_requests.attach_handle_id`` column backs that up. Both
functions run inside the caller's transaction, next to the ARQ's state
change, so a handle is never held without an ARQ holding it.
"""

import json

import sqlalchemy as sa

from cyborg_clone.db import models


def claim(session, deployable_id):
    """Mark one free handle of the deployable in use; its id, or None when
    none is free.

    Racing claims all see the same lowest free handle and one gets it.
    Each that lost it (its UPDATE matched no row: someone else's commit
    came first) looks again past the handles it lost, so a claim ends with
    a handle or with none left however many claims race, after at most one
    try per handle of the deployable: a fixed number of tries would let a
    claim that keeps losing say "no free accelerator" with handles still
    free. (SQLite's writers take turns, so there a claim never loses.)
    """
    table = models.AttachHandle
    lost = []
    while True:
        statement = sa.select(table.id).where(
            table.deployable_id == deployable_id, table.in_use.is_(False))
        if lost:
            statement = statement.where(table.id.not_in(lost))
        handle_id = session.execute(
            statement.order_by(table.id).limit(1)).scalar_one_or_none()
        if handle_id is None:
            return None
        taken = session.execute(
            sa.update(table)
            .where(table.id == handle_id, table.in_use.is_(False))
            .values(in_use=True)
            .execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            return handle_id
        lost.append(handle_id)


def in_use_on(deployable_id, besides=None):
    """The condition selecting the handles of a deployable that ARQs hold
    (other than handle ``besides``): the one test of "the device is in
    use". ``deployable_id`` is a value, or a column such as
    ``models.Deployable.id`` to test each row of a statement on it."""
    table = models.AttachHandle
    condition = sa.and_(table.deployable_id == deployable_id,
                        table.in_use.is_(True))
    if besides is not None:
        condition = sa.and_(condition, table.id != besides)
    return condition


def any_in_use(session, deployable_id, besides=None):
    """Whether an ARQ holds one of the deployable's handles (other than
    handle ``besides``, the caller's own)."""
    return session.scalar(sa.select(sa.exists().where(
        in_use_on(deployable_id, besides))))


def count_in_use(session, deployable_id):
    """How many of the deployable's handles ARQs hold."""
    return session.scalar(
        sa.select(sa.func.count()).select_from(models.AttachHandle)
        .where(in_use_on(deployable_id)))


def release_for_arqs(session, arq_uuids):
    """Free the handles that the ARQs ``arq_uuids`` hold."""
    arqs = models.AcceleratorRequest
    held = sa.select(arqs.attach_handle_id).where(
        arqs.uuid.in_(arq_uuids), arqs.attach_handle_id.is_not(None))
    session.execute(
        sa.update(models.AttachHandle)
        .where(models.AttachHandle.id.in_(held.scalar_subquery()))
        .values(in_use=False)
        .execution_options(synchronize_session=False))


def kind_and_info(session, handle_id):
    """(attach_type, attach_info as a dict) of handle ``handle_id``."""
    table = models.AttachHandle
    row = session.execute(sa.select(table.attach_type, table.attach_info)
                          .where(table.id == handle_id)).one()
    return row.attach_type, json.loads(row.attach_info)
