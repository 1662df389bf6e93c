"""Loading an image onto a deployable through its host's agent.

Two callers: an operator's ``PATCH /v2/deployables/{uuid}/program`` and a
bind whose device profile asks for a bitstream (``arq_binding``). Both ask
the agent with a blocking RPC call of at most
``[conductor]program_timeout`` seconds; the agent fetches the image, loads
and verifies it, and answers with a fresh discovery report, which is
applied here like any report, so the deployable's ``bitstream_id`` and
function trait change in one place only (device sync). Where the image
comes from is decided here, before the agent is asked
(``clients.image_source``): an image of our image store, or with [glance]
configured a Glance image, which the agent downloads and checks against
the hash Glance recorded.

While it works the agent says it is alive every half
``[conductor]agent_call_monitor_timeout`` (oslo.messaging's call
monitoring). When it falls silent (it died, or the message bus restarted
and took the answer along) the agent is asked again, until
``program_timeout`` has passed since the first ask: the agent re-reads the
card before loading and does not load again an image the card runs, so
asking twice loads once.
"""

import time

from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_clone.clients import image_source
from cyborg_clone.common import exception
from cyborg_clone.conductor import device_sync
from cyborg_clone.objects import deployable as deployable_obj

LOG = logging.getLogger(__name__)

# A call given less time than this could not even reach the agent.
_MIN_ASK_SECONDS = 2


def program(conf, context, agent_api, deployable_uuid, image_id,
            placement=None):
    """Load ``image_id`` onto a deployable that no ARQ holds (the PATCH).

    The check and the load are not one atomic step: an ARQ bound in
    between gets the newly loaded function, which is what a bind would
    check for anyway.

    :returns: the deployable's uuid.
    :raises DeployableNotFound: for an unknown deployable.
    :raises Conflict: while one of its attach handles is in use, and for
        the failures ``load`` raises Conflict for.
    :raises: the other errors of ``load``.
    """
    deployable, hostname = deployable_obj.Deployable.program_target(
        deployable_uuid)
    load(conf, context, agent_api, hostname, deployable.name, image_id,
         placement)
    return deployable_uuid


def load(conf, context, agent_api, hostname, deployable_name, image_id,
         placement=None):
    """Have ``hostname``'s agent load ``image_id`` onto a deployable, then
    apply the report it answers with (to ``placement`` too, when given:
    the function trait changes there at once).

    :param image_id: an image id (any UUID spelling), or an
        ``image_source.GlanceFunction`` to look up in Glance first.
    :returns: the function id the card runs now (None when it ran the
        image already and nothing was loaded).
    :raises Conflict: when the card or its driver refuses the image (the
        driver's reason is in the message: an image the card cannot take is
        a problem with the request, not with the service), or the host no
        longer reports the deployable.
    :raises ImageNotFound: when the image is in neither the image store
        nor Glance (the agent is not asked then), or the agent cannot
        fetch it.
    :raises ImageCorrupt: when what the agent fetched does not match its
        recorded hash; nothing is loaded.
    :raises Invalid: when a Glance image cannot be loaded (not active, no
        hash) or no Glance image provides the function.
    :raises ServiceUnavailable: when the agent does not answer in time, or
        Glance cannot be asked.
    """
    image_id, glance_image = image_source.ImageSources(conf).to_load(
        image_id)
    try:
        answer = _ask(conf, context, agent_api, hostname, deployable_name,
                      image_id, glance_image)
    except exception.DriverError as error:
        raise exception.Conflict(
            reason='deployable %s could not be programmed with image %s: %s'
                   % (deployable_name, image_id, error.faultstring)
        ) from None
    except exception.DeployableNotFound:
        raise exception.Conflict(
            reason='host %s no longer reports deployable %s.'
                   % (hostname, deployable_name)) from None
    if answer['report'] is not None:
        device_sync.apply_report(context, hostname, answer['report'],
                                 placement=placement)
    else:
        # A driver of the host fails to discover; the periodic report
        # will carry the new state once it recovers.
        LOG.warning('Host %s loaded image %s onto %s but sent no report.',
                    hostname, image_id, deployable_name)
    return answer['function_id']


def _ask(conf, context, agent_api, hostname, deployable_name, image_id,
         glance_image=None):
    """The agent's answer to ``program``, asking again each time it falls
    silent, until ``program_timeout`` seconds have passed.

    :raises ServiceUnavailable: once they have.
    """
    timeout = conf.conductor.program_timeout
    deadline = time.monotonic() + timeout
    # Only for Glance images: an agent of before 1.3 loads the others.
    source = ({'glance_image': glance_image.to_primitive()}
              if glance_image is not None else {})
    while True:
        try:
            return agent_api.program(context, hostname, deployable_name,
                                     image_id, timeout=timeout, **source)
        except messaging.MessagingTimeout:
            timeout = deadline - time.monotonic()
            if timeout < _MIN_ASK_SECONDS:
                raise exception.ServiceUnavailable(
                    reason='the agent of host %s did not answer within %d '
                           'seconds.' % (hostname,
                                         conf.conductor.program_timeout)
                ) from None
        LOG.warning('The agent of host %s fell silent while loading image %s '
                    'onto %s (it or the message bus restarted); asking it '
                    'again for the %d seconds left.', hostname, image_id,
                    deployable_name, timeout)
        # A bus that fails at once must not make this spin.
        time.sleep(min(1.0, timeout - _MIN_ASK_SECONDS))
        timeout = deadline - time.monotonic()
