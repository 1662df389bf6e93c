"""Nova's external-events API: tells nova-compute its ARQs are resolved.

nova-compute waits (up to 300 s by default) for one
``accelerator-request-bound`` event per ARQ before it boots the instance.
Events are sent at compute microversion 2.82, the first that knows them.
"""

import time

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from cyborg_clone.clients import service_client
from cyborg_clone.objects import arq_state

LOG = logging.getLogger(__name__)

EVENT_NAME = 'accelerator-request-bound'
MICROVERSION = '2.82'
GROUP = 'nova'


def bound_events(instance_uuid, arqs):
    """The event bodies for the resolved ``arqs`` of one instance."""
    return [{'name': EVENT_NAME, 'server_uuid': instance_uuid,
             'tag': arq.uuid,
             'status': 'completed' if arq.state == arq_state.BOUND
             else 'failed'}
            for arq in arqs]


class NovaClient(service_client.ServiceClient):
    GROUP = GROUP

    def send_bound_events(self, instance_uuid, arqs):
        """Send one event per ARQ; True when Nova took them.

        A 207 whose failed events say 422 is accepted: the instance is not
        on a host (yet, or any more), so nobody waits for them. Server
        errors and connection failures are retried with backoff; anything
        still failing is logged, never dropped silently.
        """
        events = bound_events(instance_uuid, arqs)
        if not self.configured:
            LOG.info('Nova is not configured ([nova]auth_type is unset); '
                     'skipped %d %s event(s) for instance %s.',
                     len(events), EVENT_NAME, instance_uuid)
            return False
        delay = self.conf.nova.event_retry_delay
        for attempt in range(self.conf.nova.event_retries + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            outcome = self._post(instance_uuid, events)
            if outcome is not None:
                return outcome
        LOG.error('Gave up sending %s events for instance %s after %d '
                  'attempts: %s', EVENT_NAME, instance_uuid,
                  self.conf.nova.event_retries + 1, events)
        return False

    def _post(self, instance_uuid, events):
        """True/False when Nova answered for good, None to retry."""
        try:
            response = self.adapter.post(
                '/os-server-external-events', json={'events': events},
                microversion=MICROVERSION, raise_exc=False)
        except ks_exc.ClientException as error:
            LOG.warning('Sending %s events for instance %s failed: %s',
                        EVENT_NAME, instance_uuid, error)
            return None
        if response.status_code == 200:
            LOG.info('Sent %d %s event(s) for instance %s.', len(events),
                     EVENT_NAME, instance_uuid)
            return True
        if response.status_code == 207:
            return self._partial(instance_uuid, response)
        if response.status_code >= 500:
            LOG.warning('Nova answered %s to %s events for instance %s; '
                        'will retry.', response.status_code, EVENT_NAME,
                        instance_uuid)
            return None
        LOG.error('Nova refused %s events for instance %s: %s %s',
                  EVENT_NAME, instance_uuid, response.status_code,
                  response.text)
        return False

    @staticmethod
    def _partial(instance_uuid, response):
        try:
            answered = response.json().get('events', [])
        except ValueError:
            answered = []
        refused = [e for e in answered if e.get('code') not in (200, 422)]
        if refused:
            LOG.error('Nova refused some %s events for instance %s: %s',
                      EVENT_NAME, instance_uuid, refused)
            return False
        LOG.info('Nova accepted %s events for instance %s (instance not on '
                 'a host: 422).', EVENT_NAME, instance_uuid)
        return True
