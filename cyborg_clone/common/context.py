"""The request context every layer receives: who is asking."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context; ``is_admin`` follows the admin role."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_admin:
            self.is_admin = 'admin' in (self.roles or [])

    @property
    def is_service(self):
        """True when a service (Nova) calls, i.e. bind/unbind is allowed."""
        return ('service' in (self.service_roles or [])
                or 'service' in (self.roles or []))

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values


def get_admin_context():
    """A context for the service's own work (conductor, agent)."""
    return RequestContext(is_admin=True, roles=['admin'],
                          overwrite=False)
