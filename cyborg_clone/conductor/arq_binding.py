"""Binding workflow: finish what the API started and tell Nova.

The API moved the ARQs to BindStarted with the chosen deployable. Here each
ARQ, in its own short transaction, claims a free attach handle and becomes
Bound, or becomes BindFailed with a reason. Whatever happens (no free
handle, a lost race, an unexpected error) every ARQ ends resolved, and once
all ARQs of an instance are resolved Nova gets one event per ARQ, so Nova
never waits for an event that will not come.
"""

import datetime

from oslo_log import log as logging
import sqlalchemy as sa

from cyborg_clone.clients import nova
from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import attach_handle

LOG = logging.getLogger(__name__)


def bind_arqs(conf, context, arq_uuids, nova_client=None):
    """Resolve the ARQs ``arq_uuids`` and notify Nova for their instances."""
    instances = set()
    for uuid in arq_uuids:
        instance = _bind_one(uuid)
        if instance is not None:
            instances.add(instance)
    notify_resolved(nova_client or nova.NovaClient(conf), instances)


def _bind_one(uuid):
    """Bind one ARQ; the instance it belongs to, or None if it was
    unbound or deleted meanwhile."""
    table = models.AcceleratorRequest
    try:
        with db_api.writer() as session:
            row = session.execute(
                sa.select(table.state, table.deployable_id,
                          table.instance_uuid)
                .where(table.uuid == uuid)).one_or_none()
            if row is None or row.state != arq_state.BIND_STARTED:
                LOG.info('ARQ %s is no longer binding (%s); skipped.', uuid,
                         row.state if row else 'deleted')
                return None
            handle_id = attach_handle.claim(session, row.deployable_id)
            if handle_id is None:
                _fail(session, uuid, 'no free accelerator left on the '
                                     'chosen device')
            else:
                arq_state.transition(session, 'bind_succeeded', [uuid],
                                     attach_handle_id=handle_id)
                LOG.info('ARQ %s bound to attach handle %d.', uuid,
                         handle_id)
            return row.instance_uuid
    except exception.CyborgCloneException as error:
        # Typically a concurrent unbind/delete; nothing is held.
        LOG.info('ARQ %s not bound: %s', uuid, error)
        return None
    except Exception:
        LOG.exception('Binding ARQ %s failed unexpectedly.', uuid)
        return _fail_alone(uuid, 'internal error while binding')


def _fail(session, uuid, reason):
    arq_state.transition(session, 'bind_failed', [uuid],
                         bind_failure=reason[:255])
    LOG.warning('ARQ %s failed to bind: %s', uuid, reason)


def _fail_alone(uuid, reason):
    """Mark BindFailed in a transaction of its own; the instance, or None."""
    try:
        with db_api.writer() as session:
            _fail(session, uuid, reason)
        return arq_obj.ARQ.get(uuid).instance_uuid
    except Exception:
        LOG.exception('Could not mark ARQ %s BindFailed; the stuck-bind '
                      'sweep will.', uuid)
        return None


def notify_resolved(nova_client, instance_uuids):
    """Send Nova the events of every instance whose ARQs are resolved."""
    for instance in sorted(instance_uuids):
        arqs = arq_obj.ARQ.list(instance_uuid=instance)
        if arqs and all(arq.resolved for arq in arqs):
            nova_client.send_bound_events(instance, arqs)


def fail_stuck_binds(conf, context, nova_client=None):
    """Fail ARQs stuck in BindStarted longer than [conductor]bind_timeout
    (their conductor died or the cast was lost)."""
    table = models.AcceleratorRequest
    cutoff = (datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(seconds=conf.conductor.bind_timeout))
    with db_api.reader() as session:
        stuck = session.execute(
            sa.select(table.uuid).where(
                table.state == arq_state.BIND_STARTED,
                table.bind_started_at < cutoff)).scalars().all()
    instances = set()
    for uuid in stuck:
        instance = _fail_alone(
            uuid, 'binding did not finish within %d seconds'
            % conf.conductor.bind_timeout)
        if instance is not None:
            instances.add(instance)
    if instances:
        notify_resolved(nova_client or nova.NovaClient(conf), instances)
    return stuck
