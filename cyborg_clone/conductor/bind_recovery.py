"""Binds whose conductor died: each conductor's heartbeat, and the sweep
that adopts and resumes the binds of dead conductors.

A conductor process registers a row in ``conductors`` when it starts
(``conductor_lease``), refreshes its heartbeat every
``[conductor]heartbeat_interval`` seconds and removes the row when it
stops. As often, it sweeps: it adopts, instance by instance, the pending
ARQs (``bind_ownership``) of conductors silent for longer than
``heartbeat_timeout`` and the BindStarted ARQs that no conductor picked up
within ``unclaimed_bind_grace`` (their cast was lost), resumes their binds
(``arq_binding.resume``) on worker threads, and sends Nova the events of
what a dead conductor resolved but did not send. What is orphaned is read
from the database alone, so a conductor started anew, or any other, finds it.
"""

import concurrent.futures
import os
import threading

from oslo_log import log as logging

from cyborg_clone.clients import nova
from cyborg_clone.conductor import arq_binding
from cyborg_clone.objects import bind_ownership
from cyborg_clone.objects import conductor_lease

LOG = logging.getLogger(__name__)

# Resumed binds wait for agents (up to [conductor]program_timeout each):
# enough threads that a few slow loads do not hold up the other binds.
_WORKERS = 16


class Lease:
    """This conductor's row in ``conductors``: its id and heartbeats."""

    def __init__(self, conf):
        self.host = conf.host
        self.pid = os.getpid()
        self._id = None
        self._lock = threading.Lock()

    @property
    def id(self):
        """The conductor's id, registering its row on first use."""
        with self._lock:
            if self._id is None:
                self._id = conductor_lease.register(self.host, self.pid)
                LOG.info('Conductor %s (host %s, pid %d) registered.',
                         self._id, self.host, self.pid)
            return self._id

    def register(self):
        """Register the row now rather than on first use; the id."""
        return self.id

    def beat(self):
        if not conductor_lease.beat(self.id, self.host, self.pid):
            LOG.warning('Conductor %s had been taken for dead; the binds '
                        'adopted meanwhile stay with their adopters.',
                        self.id)

    def leave(self):
        with self._lock:
            if self._id is not None:
                conductor_lease.leave(self._id)
                LOG.info('Conductor %s left.', self._id)
                self._id = None


class Recovery:
    """The sweep of one conductor, and the threads resuming what it
    adopted."""

    def __init__(self, conf, lease, agent_api=None, placement=None,
                 nova_client=None):
        self.conf = conf
        self.lease = lease
        self.agent_api = agent_api
        self.placement = placement
        self._nova = nova_client
        self._workers = concurrent.futures.ThreadPoolExecutor(
            max_workers=_WORKERS, thread_name_prefix='bind-recovery')
        # Instances whose events are queued or being sent from here, so a
        # slow Nova does not get them queued again at every sweep.
        self._notifying = set()
        self._lock = threading.Lock()

    @property
    def nova(self):
        if self._nova is None:
            self._nova = nova.NovaClient.shared(self.conf)
        return self._nova

    def sweep(self, context):
        """Adopt what dead conductors and lost casts left, resume it, and
        send the events this conductor still owes; what was adopted, as
        ``bind_ownership.Adopted``."""
        options = self.conf.conductor
        me = self.lease.id
        live_since = conductor_lease.cutoff(options.heartbeat_timeout)
        grace_since = conductor_lease.cutoff(options.unclaimed_bind_grace)
        conductor_lease.forget_dead(live_since, besides=me)
        adopted = []
        for instance, previous in bind_ownership.orphans(
                me, live_since, grace_since):
            taken = bind_ownership.adopt(instance, previous, me, live_since,
                                         grace_since)
            if not (taken.binding or taken.resolved):
                continue  # Another conductor was first.
            LOG.warning(
                'Adopted the ARQs of instance %s from %s: resuming %s, '
                'notifying Nova of %s.', instance,
                'conductor %s, which stopped' % previous if previous
                else 'a bind cast that never arrived',
                ', '.join(taken.binding) or 'none',
                ', '.join(taken.resolved) or 'none')
            adopted.append(taken)
            if taken.binding:
                self._workers.submit(self._resume, context, taken.binding)
        for instance in bind_ownership.instances_to_notify(me):
            with self._lock:
                if instance in self._notifying:
                    continue
                self._notifying.add(instance)
            self._workers.submit(self._notify, instance)
        return adopted

    def _resume(self, context, uuids):
        try:
            arq_binding.resume(self.conf, context, list(uuids), self.lease.id,
                               nova_client=self.nova,
                               agent_api=self.agent_api,
                               placement=self.placement)
        except Exception:
            # The stuck-bind timeout is the last resort for these.
            LOG.exception('Resuming the binds of ARQs %s failed.',
                          ', '.join(uuids))

    def _notify(self, instance):
        try:
            arq_binding.notify_resolved(self.nova, [instance], self.lease.id)
        finally:
            with self._lock:
                self._notifying.discard(instance)

    def stop(self):
        """Wait for the binds being resumed to end."""
        self._workers.shutdown(wait=True)
