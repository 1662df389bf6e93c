"""Undoing a bind on the host, and cleaning a device between tenants.

An unbind or delete in the API only changes rows, then casts
``release_arqs`` with what the ARQs held (``arq.Released``). Here, for
each: a vGPU's mediated device is removed (agent ``release_handle``,
``mdevctl stop``); any other device of a driver that can clean goes
through ``clean``: its deployable becomes ``cleaning`` (the bind refuses
it and its Placement inventory is fully reserved), the agent runs the
cleanup its driver has configured for it (``clean_deployable``: an NVMe
secure erase, a PCI reset, or nothing), and the deployable is
``available`` again, or ``cleanup_failed`` with the tool's message, still
reserved, until an operator enables its device (``retry_failed``).

The ``cleaning`` state is in the database, so nothing is lost when a
process dies: an agent that restarts mid-cleanup falls silent and is
asked again, and runs it anew; a conductor that dies mid-cleanup leaves
the deployable ``cleaning``, and whichever conductor gets the host's next
report asks again (``resume``). A device is never offered uncleaned.
"""

import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import importutils

from cyborg_clone.common import exception
from cyborg_clone.conductor import arq_binding
from cyborg_clone.drivers import base as driver_base
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import deployable as deployable_obj

LOG = logging.getLogger(__name__)

# A call given less time than this could not even reach the agent.
_MIN_ASK_SECONDS = 2


def may_clean(driver_name):
    """Whether the driver ``driver_name`` has the ``cleanup`` capability
    (``drivers/base.py``); only its deployables go through ``cleaning``."""
    path = driver_base.DRIVERS.get(driver_name)
    if path is None:
        return False
    return callable(getattr(importutils.import_class(path), 'cleanup', None))


class Cleaning:
    """One per conductor: runs releases and cleanups, each deployable's
    cleanup at most once at a time in this process."""

    def __init__(self, conf, agent_api, placement):
        self.conf = conf
        self.agent_api = agent_api
        self.placement = placement
        self._lock = threading.Lock()
        self._running = set()
        # Hosts with no cleanup this process left unfinished since it
        # looked: their reports cost no query here.
        self._settled = set()

    def release(self, context, released):
        """Undo on the host what the ARQs ``released`` (primitives of
        ``arq.Released``) held, then clean their devices."""
        to_clean = {}
        for held in map(arq_obj.Released.from_primitive, released):
            if held.attach_type in arq_binding.MADE_AT_BIND:
                # The vGPU went with its mediated device; the GPU, shared
                # with other tenants, is not cleaned.
                self._release_handle(context, held)
            elif may_clean(held.driver_name):
                to_clean.setdefault(held.deployable_id, held)
        for deployable_id in to_clean:
            found = deployable_obj.Deployable.set_state(
                deployable_id, deployable_obj.CLEANING,
                only_from=(deployable_obj.AVAILABLE,))
            if found is not None:  # else gone, or cleaning already
                self._run(context, found)

    def _release_handle(self, context, held):
        try:
            self.agent_api.release_handle(
                context, held.hostname, held.deployable_name,
                held.attach_type, held.attach_info)
        except Exception as error:
            # The handle is free in the database already; the device left
            # behind is named so an operator can remove it.
            LOG.error('Could not remove the %s device %s of deployable %s '
                      '(ARQ %s): %s', held.attach_type,
                      held.attach_info.get('uuid'), held.deployable_name,
                      held.arq_uuid, _message(error))

    def resume(self, context, hostname=None):
        """Ask again for the cleanups of ``hostname`` (every host: the
        periodic sweep) that this conductor does not run (their
        conductor or agent died), each in a thread of its own; the agent
        joins a request for a cleanup it runs already to that one.

        A host's report looks only the first time, and again once a
        cleanup of it was left unfinished here; the periodic sweep finds
        those other conductors left.
        """
        if hostname is not None:
            with self._lock:
                if hostname in self._settled:
                    return
                self._settled.add(hostname)
        for found in deployable_obj.Deployable.in_state(
                (deployable_obj.CLEANING,), hostname=hostname):
            self._start(context, found)

    def retry_failed(self, context, device_uuid):
        """Clean again, in the background, the deployables of a device
        whose cleanup failed (an operator enables it)."""
        for found in deployable_obj.Deployable.in_state(
                (deployable_obj.CLEANUP_FAILED,), device_uuid=device_uuid):
            again = deployable_obj.Deployable.set_state(
                found.id, deployable_obj.CLEANING,
                only_from=(deployable_obj.CLEANUP_FAILED,))
            if again is not None:
                LOG.info('Retrying the cleanup of deployable %s.',
                         again.name)
                self._start(context, again)

    def _start(self, context, found):
        with self._lock:
            if found.id in self._running:
                return
        threading.Thread(target=self._run, args=(context, found),
                         name='clean-%s' % found.name, daemon=True).start()

    def _run(self, context, found):
        """Clean ``found`` (``cleaning`` already); not raising."""
        with self._lock:
            if found.id in self._running:
                return
            self._running.add(found.id)
        try:
            self.placement.host_changed(found.hostname)
            self._clean(context, found)
        except Exception:
            self._unsettle(found.hostname)
            LOG.exception('Cleaning deployable %s failed unexpectedly; it '
                          'stays reserved and is retried at its host\'s '
                          'next report.', found.name)
        finally:
            with self._lock:
                self._running.discard(found.id)

    def _clean(self, context, found):
        try:
            action = self._ask(context, found)
        except exception.CyborgCloneException as error:
            reason = error.faultstring
            LOG.error('Cleaning deployable %s failed: %s. It stays reserved '
                      'until its device is enabled again.', found.name,
                      reason)
            deployable_obj.Deployable.set_state(
                found.id, deployable_obj.CLEANUP_FAILED, reason=reason,
                only_from=(deployable_obj.CLEANING,))
            return
        except messaging.MessagingTimeout:
            self._unsettle(found.hostname)
            LOG.warning('The agent of host %s did not finish cleaning %s '
                        'in time; it stays reserved and is asked again at '
                        'the host\'s next report.', found.hostname,
                        found.name)
            return
        if deployable_obj.Deployable.set_state(
                found.id, deployable_obj.AVAILABLE,
                only_from=(deployable_obj.CLEANING,)) is not None:
            LOG.info('Deployable %s is available again (cleanup: %s).',
                     found.name, action or 'none configured')
            self.placement.host_changed(found.hostname)

    def _unsettle(self, hostname):
        with self._lock:
            self._settled.discard(hostname)

    def _ask(self, context, found):
        """The agent's answer, asking again each time it falls silent (it
        restarted: it runs the cleanup anew) until
        ``[conductor]program_timeout`` has passed."""
        timeout = self.conf.conductor.program_timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.agent_api.clean_deployable(
                    context, found.hostname, found.name, timeout=timeout)
            except messaging.MessagingTimeout:
                timeout = deadline - time.monotonic()
                if timeout < _MIN_ASK_SECONDS:
                    raise
            LOG.warning('The agent of host %s fell silent while cleaning %s; '
                        'asking it again.', found.hostname, found.name)
            time.sleep(min(1.0, timeout - _MIN_ASK_SECONDS))
            timeout = deadline - time.monotonic()


def _message(error):
    return getattr(error, 'faultstring', None) or str(error) or \
        type(error).__name__
