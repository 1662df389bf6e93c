"""Pecan hooks: give each request its config, policy, context, version and
conductor client."""

from pecan import hooks

from cyborg_clone.api import auth
from cyborg_clone.api import microversion
from cyborg_clone.common import context


class RequestStateHook(hooks.PecanHook):
    def __init__(self, conf, enforcer, conductor_api):
        self.conf = conf
        self.enforcer = enforcer
        self.conductor_api = conductor_api
        # Read once: the option is not mutable, and every request needs it.
        self.service_token_roles = auth.service_token_roles(conf)

    def before(self, state):
        environ = state.request.environ
        # WebOb keeps a request's own attributes in this environ key; one
        # update sets all five for a fraction of five attribute writes.
        environ.setdefault('webob.adhoc_attrs', {}).update(
            conf=self.conf,
            enforcer=self.enforcer,
            conductor_api=self.conductor_api,
            context=context.RequestContext.from_environ(
                environ, service_token_roles=self.service_token_roles),
            version=environ.get(microversion.ENVIRON_KEY,
                                microversion.MIN_VERSION))
