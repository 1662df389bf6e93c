"""oslo.messaging plumbing: one transport per process, servers, clients.

The transport URL comes from ``[DEFAULT]transport_url``; the all-in-one uses
oslo.messaging's in-process ``fake://`` transport. Request contexts travel
with every message through ``ContextSerializer``.
"""

import functools

from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_clone.common import context as cc_context
from cyborg_clone.common import exception

LOG = logging.getLogger(__name__)

_TRANSPORTS = {}


def get_transport(conf):
    """The RPC transport for ``conf``, created once per process."""
    key = id(conf)
    if key not in _TRANSPORTS:
        # Our exceptions cross RPC as themselves (keeping their HTTP code)
        # instead of a generic RemoteError.
        _TRANSPORTS[key] = messaging.get_rpc_transport(
            conf, allowed_remote_exmods=[exception.__name__])
    return _TRANSPORTS[key]


def cleanup():
    for transport in _TRANSPORTS.values():
        transport.cleanup()
    _TRANSPORTS.clear()


class ContextSerializer(messaging.NoOpSerializer):
    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return cc_context.RequestContext.from_dict(ctxt)


def get_client(conf, topic, server=None, timeout=None):
    target = messaging.Target(topic=topic, server=server)
    return messaging.get_rpc_client(
        get_transport(conf), target, serializer=ContextSerializer(),
        timeout=timeout)


def get_server(conf, topic, server, endpoints):
    target = messaging.Target(topic=topic, server=server)
    return messaging.get_rpc_server(
        get_transport(conf), target,
        [RefusalsExpected(endpoint) for endpoint in endpoints],
        executor='threading', serializer=ContextSerializer())


class RefusalsExpected:
    """``endpoint`` as an RPC server sees it: a refusal (one of our
    exceptions below 500: a busy device, an image that is gone, a bad
    argument) reaches the caller as before, but the server logs it in one
    line instead of as an ERROR with its traceback. oslo.messaging does
    that for ExpectedException; raising it from the endpoint's own methods
    would change what they raise when called directly."""

    def __init__(self, endpoint):
        self._endpoint = endpoint
        self.target = getattr(endpoint, 'target', None)

    def __getattr__(self, name):
        value = getattr(self._endpoint, name)
        if name.startswith('_') or not callable(value):
            return value

        @functools.wraps(value)
        def call(*args, **kwargs):
            try:
                return value(*args, **kwargs)
            except exception.CyborgCloneException as error:
                if error.code >= 500:
                    raise
                LOG.info('Refused %s (%d): %s', name, error.code,
                         error.faultstring)
                raise messaging.ExpectedException() from error
        return call


class ClientAPI:
    """Base of the client side of an RPC API: the client on ``topic`` is
    made on first use, so building an API object needs no transport."""

    def __init__(self, conf, topic):
        self.conf = conf
        self.topic = topic
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = get_client(self.conf, self.topic)
        return self._client
