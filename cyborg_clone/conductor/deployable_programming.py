"""Programming a deployable on an operator's request (PATCH .../program).

The conductor checks that no accelerator request holds the deployable, asks
the host's agent to load the image (a blocking RPC call of at most
``[conductor]program_timeout`` seconds) and records what the card reports
holding afterwards. The check and the load are not one atomic step: an ARQ
bound in between gets the newly loaded function, which is also what the
bind flow itself would check for.
"""

import oslo_messaging as messaging

from cyborg_clone.common import exception
from cyborg_clone.objects import deployable as deployable_obj

# Time the API allows the conductor beyond the agent's own deadline, for
# the database work on either side of the call.
_BOOKKEEPING_SECONDS = 30


def api_timeout(conf):
    """How long the API should wait for ``program`` to answer."""
    return conf.conductor.program_timeout + _BOOKKEEPING_SECONDS


def program(conf, context, agent_api, deployable_uuid, image_id):
    """Load ``image_id`` onto a deployable and record it.

    :returns: the deployable's uuid.
    :raises DeployableNotFound: for an unknown deployable.
    :raises Conflict: while one of its attach handles is in use, when its
        host no longer reports it, or when the card or its driver refuses
        the image (the driver's reason is in the message: an image the card
        cannot take is a problem with the request, not with the service).
    :raises ServiceUnavailable: when the host's agent does not answer.
    """
    deployable, hostname = deployable_obj.Deployable.program_target(
        deployable_uuid)
    try:
        loaded = agent_api.program(
            context, hostname, deployable.name, image_id,
            timeout=conf.conductor.program_timeout)
    except exception.DriverError as error:
        raise exception.Conflict(
            reason='deployable %s could not be programmed with image %s: %s'
                   % (deployable_uuid, image_id, error.faultstring)
        ) from None
    except exception.DeployableNotFound:
        raise exception.Conflict(
            reason='host %s no longer reports deployable %s (%s).'
                   % (hostname, deployable_uuid, deployable.name)) from None
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(
            reason='the agent of host %s did not answer within %d seconds.'
                   % (hostname, conf.conductor.program_timeout)) from None
    deployable_obj.Deployable.set_bitstream(deployable_uuid, loaded)
    return deployable_uuid
