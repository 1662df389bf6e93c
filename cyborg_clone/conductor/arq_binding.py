"""Binding workflow: finish what the API started and tell Nova; any
conductor can resume it where another one died.

The API moved the ARQs to BindStarted with the chosen deployable. The
conductor that picks the cast up owns them (``bind_ownership``); when it
dies another adopts them (``bind_recovery``) and runs this same workflow.
Each ARQ, in its own short transaction, claims a free attach handle and
becomes Bound, or becomes BindFailed with a reason. When its device profile
group asks for a bitstream or function the deployable does not hold
(``required_image``), the claimed handle is recorded on the still
BindStarted ARQ, the host's agent loads the image
(``deployable_programming``, outside any transaction), and only then does
the ARQ become Bound; a failed load releases the handle and fails the ARQ
with the reason. An MDEV handle (a vGPU) is held the same way while the
agent creates its mediated device (``prepare_handle``, ``mdevctl
start``); the ARQ is Bound with the device's uuid as its attach_info, or
BindFailed with mdevctl's message. A resumed ARQ that holds a handle
already keeps it (it
never claims a second one) and asks the agent again; the agent re-reads
the card first and does not load again an image the card runs. Every write
first checks that this conductor still owns the ARQ
(``bind_ownership.hold``), so one taken for dead cannot undo its adopter's
work. Whatever happens every ARQ ends resolved.

Nova: once all ARQs of an instance are resolved, the owner of the resolved
ARQs sends one ``accelerator-request-bound`` event per ARQ, then records
``notified_at``. That is at-least-once: a conductor killed after Nova took
the events but before the record committed has them sent again by its
adopter, a window of one UPDATE. The other order (record, then send) would
be at-most-once, and a death in between would lose the events for good:
nova-compute would wait out its ``arq_binding_timeout`` and fail the build,
while an event nobody waits for any more is only logged by nova. Within a
process one thread at a time sends an instance's events.
"""

import dataclasses
import datetime
import json
import uuid as uuid_lib

from oslo_log import log as logging

from cyborg_clone.agent import rpcapi as agent_rpcapi
from cyborg_clone.clients import nova
from cyborg_clone.common import exception
from cyborg_clone.common import keyed_locks
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.conductor import required_image
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import attach_handle
from cyborg_clone.objects import base
from cyborg_clone.objects import bind_ownership
from cyborg_clone.objects import deployable as deployable_obj

LOG = logging.getLogger(__name__)

# The owner of binds run by a caller that is no registered conductor
# (tests, tools): one per process, in no conductors row, so a sweeping
# conductor adopts what it leaves unfinished.
UNREGISTERED = str(uuid_lib.uuid4())


@dataclasses.dataclass(frozen=True)
class _Claimed:
    """An ARQ holding a handle whose deployable must be programmed."""

    instance_uuid: str
    hostname: str
    deployable_name: str
    image_id: str


@dataclasses.dataclass(frozen=True)
class _Preparing:
    """An ARQ holding a handle the host must make real first (a vGPU's
    mediated device) before the ARQ is Bound."""

    instance_uuid: str
    hostname: str
    deployable_name: str
    attach_type: str
    attach_info: dict


_NOTIFYING = keyed_locks.KeyedLocks()


def bind_arqs(conf, context, arq_uuids, nova_client=None, agent_api=None,
              placement=None, owner=None):
    """Take the ARQs ``arq_uuids`` of a bind cast that nobody owns yet,
    resolve them and notify Nova for their instances.

    :param owner: the calling conductor's id (``conductor_lease``);
        UNREGISTERED when not given.
    """
    owner = owner or UNREGISTERED
    mine = bind_ownership.own(arq_uuids, owner)
    others = [uuid for uuid in arq_uuids if uuid not in mine]
    if others:
        LOG.info('ARQs %s are no longer binding or already have a '
                 'conductor; skipped.', ', '.join(others))
    resume(conf, context, mine, owner, nova_client=nova_client,
           agent_api=agent_api, placement=placement)


def resume(conf, context, arq_uuids, owner, nova_client=None,
           agent_api=None, placement=None):
    """Resolve the BindStarted ARQs ``arq_uuids`` that ``owner`` owns,
    from wherever their bind stopped, and notify Nova.

    ARQs are handled one after the other, so when several ARQs of an
    instance ask for the same bitstream on one deployable, the first loads
    it and the others find it loaded.
    """
    instances = set()
    for uuid in arq_uuids:
        instance = _bind_one(conf, context, agent_api, placement, uuid,
                             owner)
        if instance is not None:
            instances.add(instance)
    notify_resolved(nova_client or nova.NovaClient.shared(conf), instances,
                    owner)


def _bind_one(conf, context, agent_api, placement, uuid, owner):
    """Bind one ARQ; the instance it belongs to, or None if it was
    unbound, deleted or taken over meanwhile."""
    try:
        with db_api.writer() as session:
            outcome = _claim(session, uuid, owner, conf)
    except exception.CyborgCloneException as error:
        # Typically a concurrent unbind/delete; nothing is held.
        LOG.info('ARQ %s not bound: %s', uuid, error)
        return None
    except Exception:
        LOG.exception('Binding ARQ %s failed unexpectedly.', uuid)
        return _fail_alone(uuid, 'internal error while binding', owner)
    if isinstance(outcome, _Preparing):
        return _prepare_then_bind(conf, context, agent_api, uuid, outcome,
                                  owner)
    if not isinstance(outcome, _Claimed):
        return outcome
    return _program_then_bind(conf, context, agent_api, placement, uuid,
                              outcome, owner)


def _claim(session, uuid, owner, conf=None):
    """In ``session``: bind the ARQ, fail it, or claim a handle for it
    while its deployable is programmed (then a _Claimed); otherwise the
    instance uuid. An ARQ that claimed a handle before (its bind is being
    resumed) goes on with that handle.

    :raises Conflict: when ``owner`` no longer binds the ARQ.
    """
    bind_ownership.hold(session, uuid, owner)
    row = arq_obj.binding_of(session, uuid)
    deployable = row.Deployable
    # The device may have changed since the API accepted the bind: gone
    # (its row deleted, or kept only for the ARQs holding it), or being
    # cleaned.
    refusal = ('is no longer reported by its host' if deployable is None
               else deployable_obj.bind_refusal(deployable, row.hostname))
    if refusal is not None:
        _fail(session, uuid, 'the chosen device ' + refusal)
        return row.instance_uuid
    group = json.loads(row.profile_json)[row.device_profile_group_id]
    try:
        image_id = required_image.image_to_load(session, group, deployable,
                                                conf)
    except exception.Invalid as error:
        _fail(session, uuid, error.faultstring)
        return row.instance_uuid
    held = row.attach_handle_id
    if image_id is not None and attach_handle.any_in_use(
            session, deployable.id, besides=held):
        # Loading would pull the running function from under the
        # instances using the other accelerators.
        _fail(session, uuid, 'the chosen device runs another function '
                             'and is in use; it cannot load image %s'
                             % image_id)
        return row.instance_uuid
    if held is not None:
        LOG.info('ARQ %s resumes binding with attach handle %d, claimed '
                 'before.', uuid, held)
        handle_id = held
    else:
        handle_id = attach_handle.claim(session, deployable.id)
    if handle_id is None:
        _fail(session, uuid, 'no free accelerator left on the chosen device')
        return row.instance_uuid
    attach_type, attach_info = attach_handle.kind_and_info(session,
                                                           handle_id)
    if image_id is None and attach_type in MADE_AT_BIND:
        # Held by the ARQ while the agent makes it, as for a load below.
        if held is None:
            arq_obj.hold_handle(session, uuid, handle_id)
        return _Preparing(instance_uuid=row.instance_uuid,
                          hostname=row.hostname,
                          deployable_name=deployable.name,
                          attach_type=attach_type, attach_info=attach_info)
    if image_id is None:
        arq_state.transition(session, 'bind_succeeded', [uuid],
                             attach_handle_id=handle_id)
        LOG.info('ARQ %s bound to attach handle %d.', uuid, handle_id)
        return row.instance_uuid
    # Held by the ARQ, so an unbind or delete meanwhile releases it, a
    # PATCH .../program is refused while the load runs, and a conductor
    # resuming the bind goes on with this handle.
    if held is None:
        arq_obj.hold_handle(session, uuid, handle_id)
    return _Claimed(instance_uuid=row.instance_uuid, hostname=row.hostname,
                    deployable_name=deployable.name, image_id=image_id)


def _program_then_bind(conf, context, agent_api, placement, uuid, claimed,
                       owner):
    LOG.info('ARQ %s waits for image %s to load onto %s.', uuid,
             claimed.image_id, claimed.deployable_name)
    try:
        deployable_programming.load(
            conf, context, agent_api or agent_rpcapi.AgentAPI(conf),
            claimed.hostname, claimed.deployable_name, claimed.image_id,
            placement)
    except exception.CyborgCloneException as error:
        return _fail_alone(uuid, 'loading image %s failed: %s'
                           % (claimed.image_id, error.faultstring), owner)
    except Exception:
        LOG.exception('Loading image %s for ARQ %s failed unexpectedly.',
                      claimed.image_id, uuid)
        return _fail_alone(uuid, 'internal error while loading image %s'
                           % claimed.image_id, owner)
    try:
        with db_api.writer() as session:
            bind_ownership.hold(session, uuid, owner)
            arq_state.transition(session, 'bind_succeeded', [uuid])
    except exception.CyborgCloneException as error:
        # Unbound or deleted while the image loaded, which released the
        # handle, or taken over by another conductor, which goes on.
        LOG.info('ARQ %s not bound after loading: %s', uuid, error)
        return None
    LOG.info('ARQ %s bound after loading image %s.', uuid, claimed.image_id)
    return claimed.instance_uuid


# Attach handle types whose device the agent makes at bind and removes at
# unbind (agent ``prepare_handle`` / ``release_handle``).
MADE_AT_BIND = ('MDEV',)


def _prepare_then_bind(conf, context, agent_api, uuid, preparing, owner):
    """Have the agent make the handle's device (``mdevctl start``), then
    Bound with what it made as the ARQ's attach_info; a failure fails the
    ARQ with the agent's message, freeing the handle."""
    agent_api = agent_api or agent_rpcapi.AgentAPI(conf)
    try:
        made = agent_api.prepare_handle(
            context, preparing.hostname, preparing.deployable_name,
            preparing.attach_type, preparing.attach_info)
    except exception.CyborgCloneException as error:
        return _fail_alone(uuid, 'creating the %s device failed: %s'
                           % (preparing.attach_type, error.faultstring),
                           owner)
    except Exception as error:
        LOG.exception('Preparing the handle of ARQ %s failed.', uuid)
        return _fail_alone(uuid, 'creating the %s device failed: %s'
                           % (preparing.attach_type,
                              getattr(error, 'value', None) or
                              type(error).__name__), owner)
    try:
        with db_api.writer() as session:
            bind_ownership.hold(session, uuid, owner)
            arq_state.transition(session, 'bind_succeeded', [uuid],
                                 attach_info=json.dumps(made,
                                                        sort_keys=True))
    except exception.CyborgCloneException as error:
        # Unbound or deleted meanwhile (their release saw no device yet),
        # or taken over: what was made is nobody's, undo it.
        LOG.info('ARQ %s not bound after its %s device was made (%s); '
                 'removing it.', uuid, preparing.attach_type, error)
        try:
            agent_api.release_handle(context, preparing.hostname,
                                     preparing.deployable_name,
                                     preparing.attach_type, made)
        except Exception:
            LOG.exception('Could not remove the %s device %s made for ARQ '
                          '%s.', preparing.attach_type, made, uuid)
        return None
    LOG.info('ARQ %s bound to %s device %s.', uuid, preparing.attach_type,
             made.get('uuid'))
    return preparing.instance_uuid


def _fail(session, uuid, reason):
    """BindFailed, letting go of any handle the ARQ was given."""
    attach_handle.release_for_arqs(session, [uuid])
    arq_state.transition(session, 'bind_failed', [uuid],
                         attach_handle_id=None, attach_info=None,
                         bind_failure=reason[:255])
    LOG.warning('ARQ %s failed to bind: %s', uuid, reason)


def _fail_alone(uuid, reason, owner, take=False):
    """Mark BindFailed in a transaction of its own; the instance, or None
    (also when the ARQ stopped binding or is no longer ``owner``'s). With
    ``take`` the ARQ is taken from whoever owns it first."""
    try:
        with db_api.writer() as session:
            if take:
                bind_ownership.take(session, uuid, owner)
            else:
                bind_ownership.hold(session, uuid, owner)
            _fail(session, uuid, reason)
        return arq_obj.ARQ.get(uuid).instance_uuid
    except exception.CyborgCloneException as error:
        LOG.info('ARQ %s not marked BindFailed: %s', uuid, error)
        return None
    except Exception:
        LOG.exception('Could not mark ARQ %s BindFailed; the stuck-bind '
                      'sweep will.', uuid)
        return None


def notify_resolved(nova_client, instance_uuids, owner):
    """For each instance whose ARQs are all resolved, send Nova the events
    of the ARQs ``owner`` owns and has not notified yet, then record that
    they were sent (whatever Nova answered: the client retries and logs
    what it could not deliver)."""
    for instance in sorted(instance_uuids):
        try:
            with _NOTIFYING.hold(instance):
                uuids = bind_ownership.unnotified(instance, owner)
                if not uuids:
                    continue
                nova_client.send_bound_events(
                    instance, arq_obj.ARQ.list(uuids=uuids))
                bind_ownership.mark_notified(uuids, owner)
        except Exception:
            # The sweep of bind_recovery tries again.
            LOG.exception('Notifying Nova of instance %s failed.', instance)


def fail_stuck_binds(conf, context, nova_client=None, owner=None):
    """Fail ARQs stuck in BindStarted longer than [conductor]bind_timeout,
    whoever owns them: the last resort when even resuming did not end
    them (an agent that never answers, a conductor that hangs)."""
    owner = owner or UNREGISTERED
    stuck = arq_obj.binding_since_before(base.utcnow() - datetime.timedelta(
        seconds=conf.conductor.bind_timeout))
    instances = set()
    for uuid in stuck:
        instance = _fail_alone(
            uuid, 'binding did not finish within %d seconds'
            % conf.conductor.bind_timeout, owner, take=True)
        if instance is not None:
            instances.add(instance)
    if instances:
        notify_resolved(nova_client or nova.NovaClient.shared(conf), instances,
                        owner)
    return stuck
