"""oslo.messaging plumbing: one transport per process, servers, clients.

The transport URL comes from ``[DEFAULT]transport_url``; the all-in-one uses
oslo.messaging's in-process ``fake://`` transport. Request contexts travel
with every message through ``ContextSerializer``.
"""

import oslo_messaging as messaging

from cyborg_clone.common import context as cc_context
from cyborg_clone.common import exception

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
        get_transport(conf), target, endpoints, executor='threading',
        serializer=ContextSerializer())


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
