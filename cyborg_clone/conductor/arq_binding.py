"""Binding workflow: finish what the API started and tell Nova.

The API moved the ARQs to BindStarted with the chosen deployable. Here each
ARQ, in its own short transaction, claims a free attach handle and becomes
Bound, or becomes BindFailed with a reason. When its device profile group
asks for a bitstream or function the deployable does not hold
(``required_image``), the claimed handle is recorded on the still
BindStarted ARQ, the host's agent loads the image (``deployable_programming``,
outside any transaction), and only then does the ARQ become Bound; a failed
load releases the handle and fails the ARQ with the reason. Whatever
happens (no free handle, a lost race, a failed load, an unexpected error)
every ARQ ends resolved, and once all ARQs of an instance are resolved Nova
gets one event per ARQ, so Nova never waits for an event that will not
come.
"""

import dataclasses
import datetime
import json

from oslo_log import log as logging
import sqlalchemy as sa

from cyborg_clone.agent import rpcapi as agent_rpcapi
from cyborg_clone.clients import nova
from cyborg_clone.common import exception
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.conductor import required_image
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import attach_handle

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Claimed:
    """An ARQ holding a handle whose deployable must be programmed."""

    instance_uuid: str
    hostname: str
    deployable_name: str
    image_id: str


def bind_arqs(conf, context, arq_uuids, nova_client=None, agent_api=None,
              placement=None):
    """Resolve the ARQs ``arq_uuids`` and notify Nova for their instances.

    ARQs are handled one after the other, so when several ARQs of an
    instance ask for the same bitstream on one deployable, the first loads
    it and the others find it loaded.
    """
    instances = set()
    for uuid in arq_uuids:
        instance = _bind_one(conf, context, agent_api, placement, uuid)
        if instance is not None:
            instances.add(instance)
    notify_resolved(nova_client or nova.NovaClient(conf), instances)


def _bind_one(conf, context, agent_api, placement, uuid):
    """Bind one ARQ; the instance it belongs to, or None if it was
    unbound or deleted meanwhile."""
    try:
        with db_api.writer() as session:
            outcome = _claim(session, uuid)
    except exception.CyborgCloneException as error:
        # Typically a concurrent unbind/delete; nothing is held.
        LOG.info('ARQ %s not bound: %s', uuid, error)
        return None
    except Exception:
        LOG.exception('Binding ARQ %s failed unexpectedly.', uuid)
        return _fail_alone(uuid, 'internal error while binding')
    if not isinstance(outcome, _Claimed):
        return outcome
    return _program_then_bind(conf, context, agent_api, placement, uuid,
                              outcome)


def _claim(session, uuid):
    """In ``session``: bind the ARQ, fail it, or claim a handle for it
    while its deployable is programmed (then a _Claimed). Otherwise the
    instance uuid, or None when the ARQ is no longer binding."""
    arqs, deployables = models.AcceleratorRequest, models.Deployable
    row = session.execute(
        sa.select(arqs.state, arqs.instance_uuid,
                  arqs.device_profile_group_id,
                  models.DeviceProfile.profile_json,
                  deployables, models.Device.hostname)
        .join(models.DeviceProfile,
              models.DeviceProfile.id == arqs.device_profile_id)
        .outerjoin(deployables, deployables.id == arqs.deployable_id)
        .outerjoin(models.Device, models.Device.id == deployables.device_id)
        .where(arqs.uuid == uuid)).one_or_none()
    if row is None or row.state != arq_state.BIND_STARTED:
        LOG.info('ARQ %s is no longer binding (%s); skipped.', uuid,
                 row.state if row else 'deleted')
        return None
    deployable = row.Deployable
    if deployable is None or deployable.vanished_at is not None:
        # Gone since the API accepted the bind: the row left, or is kept
        # only for the ARQs already holding it.
        _fail(session, uuid, 'the chosen device is no longer reported by '
                             'its host')
        return row.instance_uuid
    group = json.loads(row.profile_json)[row.device_profile_group_id]
    try:
        image_id = required_image.image_to_load(session, group, deployable)
    except exception.Invalid as error:
        _fail(session, uuid, error.faultstring)
        return row.instance_uuid
    if image_id is not None and attach_handle.any_in_use(session,
                                                         deployable.id):
        # Loading would pull the running function from under the
        # instances using the other accelerators.
        _fail(session, uuid, 'the chosen device runs another function '
                             'and is in use; it cannot load image %s'
                             % image_id)
        return row.instance_uuid
    handle_id = attach_handle.claim(session, deployable.id)
    if handle_id is None:
        _fail(session, uuid, 'no free accelerator left on the chosen device')
        return row.instance_uuid
    if image_id is None:
        arq_state.transition(session, 'bind_succeeded', [uuid],
                             attach_handle_id=handle_id)
        LOG.info('ARQ %s bound to attach handle %d.', uuid, handle_id)
        return row.instance_uuid
    # Held by the ARQ, so an unbind or delete meanwhile releases it and a
    # PATCH .../program is refused while the load runs.
    session.execute(sa.update(arqs).where(arqs.uuid == uuid)
                    .values(attach_handle_id=handle_id))
    return _Claimed(instance_uuid=row.instance_uuid, hostname=row.hostname,
                    deployable_name=deployable.name, image_id=image_id)


def _program_then_bind(conf, context, agent_api, placement, uuid, claimed):
    LOG.info('ARQ %s waits for image %s to load onto %s.', uuid,
             claimed.image_id, claimed.deployable_name)
    try:
        deployable_programming.load(
            conf, context, agent_api or agent_rpcapi.AgentAPI(conf),
            claimed.hostname, claimed.deployable_name, claimed.image_id,
            placement)
    except exception.CyborgCloneException as error:
        return _fail_alone(uuid, 'loading image %s failed: %s'
                           % (claimed.image_id, error.faultstring))
    except Exception:
        LOG.exception('Loading image %s for ARQ %s failed unexpectedly.',
                      claimed.image_id, uuid)
        return _fail_alone(uuid, 'internal error while loading image %s'
                           % claimed.image_id)
    try:
        with db_api.writer() as session:
            arq_state.transition(session, 'bind_succeeded', [uuid])
    except exception.CyborgCloneException as error:
        # Unbound or deleted while the image loaded; that released the
        # handle.
        LOG.info('ARQ %s not bound after loading: %s', uuid, error)
        return None
    LOG.info('ARQ %s bound after loading image %s.', uuid, claimed.image_id)
    return claimed.instance_uuid


def _fail(session, uuid, reason):
    """BindFailed, letting go of any handle the ARQ was given."""
    attach_handle.release_for_arqs(session, [uuid])
    arq_state.transition(session, 'bind_failed', [uuid],
                         attach_handle_id=None, bind_failure=reason[:255])
    LOG.warning('ARQ %s failed to bind: %s', uuid, reason)


def _fail_alone(uuid, reason):
    """Mark BindFailed in a transaction of its own; the instance, or None
    (also when the ARQ stopped binding meanwhile)."""
    try:
        with db_api.writer() as session:
            _fail(session, uuid, reason)
        return arq_obj.ARQ.get(uuid).instance_uuid
    except exception.CyborgCloneException as error:
        LOG.info('ARQ %s not marked BindFailed: %s', uuid, error)
        return None
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
    cutoff = models.utcnow() - datetime.timedelta(
        seconds=conf.conductor.bind_timeout)
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
