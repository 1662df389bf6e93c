"""Pecan hooks: give each request its config, policy enforcer and
decisions, context, version and conductor client."""

from pecan import hooks

from cyborg_clone import policies
from cyborg_clone.api import auth
from cyborg_clone.api import microversion
from cyborg_clone.common import context

# WebOb keeps a request's own attributes in this environ key:
# ``request.x`` reads ``environ[ADHOC_ATTRS]['x']``.
ADHOC_ATTRS = 'webob.adhoc_attrs'


class _RequestAttributes(dict):
    """A request's own attributes, making ``context`` and ``policy`` when
    first read: a RequestContext costs an eighth of a version document
    request, which never reads it."""

    def __init__(self, values, environ, hook):
        super().__init__(values)
        self._environ = environ
        self._hook = hook

    def __missing__(self, name):
        if name == 'context':
            value = context.RequestContext.from_environ(
                self._environ,
                service_token_roles=self._hook.service_token_roles)
        elif name == 'policy':
            value = policies.Decisions(self._hook.enforcer, self['context'])
        else:
            raise KeyError(name)
        self[name] = value
        return value


class RequestStateHook(hooks.PecanHook):
    def __init__(self, conf, enforcer, conductor_api):
        self.conf = conf
        self.enforcer = enforcer
        self.conductor_api = conductor_api
        # Read once: the option is not mutable, and every request needs it.
        self.service_token_roles = auth.service_token_roles(conf)

    def before(self, state):
        environ = state.request.environ
        attributes = _RequestAttributes(environ.get(ADHOC_ATTRS, ()),
                                        environ, self)
        # Pecan set its own ``context`` (a dict); ours is made on demand.
        attributes.pop('context', None)
        attributes.pop('policy', None)
        attributes.update(
            conf=self.conf,
            enforcer=self.enforcer,
            conductor_api=self.conductor_api,
            version=environ.get(microversion.ENVIRON_KEY,
                                microversion.MIN_VERSION))
        environ[ADHOC_ATTRS] = attributes
