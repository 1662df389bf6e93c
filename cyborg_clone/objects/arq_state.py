"""The ARQ state machine: the one place that says which transition is
allowed from which state.

::

    Initial --bind--> BindStarted --ok--> Bound
       ^                  \\--fail--> BindFailed
       |
    Unbound <--unbind-- (Initial | BindStarted | Bound | BindFailed)
    any --delete--> Deleting --> row gone

Every transition is one conditional UPDATE (``WHERE ... AND state IN
(allowed)``), so concurrent API workers and conductors can race freely: the
loser's UPDATE matches nothing and it gets a clear Conflict, never a 500.
"""

import sqlalchemy as sa

from cyborg_clone.common import exception
from cyborg_clone.db import models

INITIAL = 'Initial'
BIND_STARTED = 'BindStarted'
BOUND = 'Bound'
BIND_FAILED = 'BindFailed'
UNBOUND = 'Unbound'
DELETING = 'Deleting'

ALL = (INITIAL, BIND_STARTED, BOUND, BIND_FAILED, UNBOUND, DELETING)

# What Nova waits for: binding is over, one way or the other.
RESOLVED = frozenset((BOUND, BIND_FAILED, DELETING))

# action -> (states it may start from, state it ends in)
TRANSITIONS = {
    'bind': ((INITIAL, UNBOUND), BIND_STARTED),
    'bind_succeeded': ((BIND_STARTED,), BOUND),
    'bind_failed': ((BIND_STARTED,), BIND_FAILED),
    'unbind': ((INITIAL, BIND_STARTED, BOUND, BIND_FAILED, UNBOUND),
               UNBOUND),
    'delete': (ALL, DELETING),
}


def allowed_from(action):
    return TRANSITIONS[action][0]


def transition(session, action, uuids, **values):
    """Move the ARQs ``uuids`` through ``action`` in ``session``'s
    transaction, also setting ``values``.

    Raises ARQNotFound when one does not exist, ARQBadState when one is in
    a state ``action`` cannot start from, and Conflict when a concurrent
    writer changed one in between; the caller's transaction then rolls
    back, so either all move or none.
    """
    sources, target = TRANSITIONS[action]
    table = models.AcceleratorRequest
    states = dict(session.execute(
        sa.select(table.uuid, table.state).where(table.uuid.in_(uuids))
    ).all())
    for uuid in uuids:
        if uuid not in states:
            raise exception.ARQNotFound(uuid=uuid)
        if states[uuid] not in sources:
            raise exception.ARQBadState(
                uuid=uuid, state=states[uuid], action=action,
                expected=', '.join(sources))
    result = session.execute(
        sa.update(table)
        .where(table.uuid.in_(uuids), table.state.in_(sources))
        .values(state=target, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != len(set(uuids)):
        raise exception.Conflict(reason='accelerator requests changed '
                                        'while being updated; retry.')
