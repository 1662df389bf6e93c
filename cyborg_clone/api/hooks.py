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
        request = state.request
        request.conf = self.conf
        request.enforcer = self.enforcer
        request.conductor_api = self.conductor_api
        request.context = context.RequestContext.from_environ(
            request.environ, service_token_roles=self.service_token_roles)
        request.version = request.environ.get(
            microversion.ENVIRON_KEY, microversion.MIN_VERSION)
