"""The request context every layer receives: who is asking."""

from oslo_context import context

# keystonemiddleware's default for [keystone_authtoken]service_token_roles.
DEFAULT_SERVICE_TOKEN_ROLES = ('service',)


class RequestContext(context.RequestContext):
    """oslo.context's context with two verdicts that policy reads.

    ``is_admin`` follows the admin role of the user token. ``is_service``
    is true only when the *service token* (``X-Service-Token``, whose roles
    keystonemiddleware puts in ``X-Service-Roles``) holds one of the
    service token roles: a ``service`` role on the user token alone does
    not make the caller a service, since any user given that role on some
    project would otherwise bind other projects' ARQs.
    """

    # Carried over RPC so the conductor sees the API's verdict instead of
    # recomputing it without the API's configuration.
    FROM_DICT_EXTRA_KEYS = ['is_service']

    def __init__(self, *args, is_service=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_admin:
            self.is_admin = 'admin' in (self.roles or [])
        self.is_service = bool(is_service)

    @classmethod
    def from_environ(cls, environ,
                     service_token_roles=DEFAULT_SERVICE_TOKEN_ROLES,
                     **kwargs):
        """The context of a request that authentication has identified.

        :param environ: the WSGI environ, with the X-* identity headers
            left by keystonemiddleware or the noauth middleware.
        :param service_token_roles: roles of which the service token must
            hold one for the caller to be a service
            (``[keystone_authtoken]service_token_roles``).
        :returns: a RequestContext.
        """
        ctx = super().from_environ(environ, **kwargs)
        ctx.is_service = holds_service_role(ctx.service_roles,
                                            service_token_roles)
        return ctx

    def to_dict(self):
        values = super().to_dict()
        values['is_service'] = self.is_service
        return values

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        values['is_service'] = self.is_service
        return values


def holds_service_role(service_roles, service_token_roles):
    """Whether the service token's roles include a service token role."""
    return bool(set(service_roles or ()) & set(service_token_roles))


def get_admin_context():
    """A context for the service's own work (conductor, agent)."""
    return RequestContext(is_admin=True, roles=['admin'],
                          overwrite=False)
