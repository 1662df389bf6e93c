"""Authentication: keystonemiddleware or the laptop ``noauth`` mode.

Both leave identity in the X-User-Id, X-Project-Id, X-Roles and
X-Service-Roles headers, from which the context hook builds the request
context, so the rest of the API does not know which one ran. X-Service-Roles
holds the roles of the service token (``X-Service-Token``); in noauth mode
the header is taken as given and plays that token.
"""

from keystonemiddleware import auth_token

_IDENTITY_HEADERS = ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES',
                     'HTTP_X_SERVICE_ROLES')

# Keystone's default implied roles; tokens list them expanded, so noauth
# expands them too and policy rules can stay literal.
_IMPLIED = {'admin': ('manager', 'member', 'reader'),
            'manager': ('member', 'reader'),
            'member': ('reader',)}


def expand_roles(roles):
    result = list(roles)
    for role in roles:
        for implied in _IMPLIED.get(role, ()):
            if implied not in result:
                result.append(implied)
    return result


def register_opts(conf):
    """Register keystonemiddleware's ``[keystone_authtoken]`` options.

    The middleware registers them itself when it starts, but the context
    hook and the noauth mode read ``service_token_roles`` too, also when
    the middleware never runs.
    """
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)


def service_token_roles(conf):
    """The roles of which a service token must hold one for its caller to
    be a service: ``[keystone_authtoken]service_token_roles``."""
    register_opts(conf)
    return tuple(conf.keystone_authtoken.service_token_roles)


class NoAuthMiddleware:
    """Trusts identity headers; no headers at all means an administrator
    that also holds a service token."""

    def __init__(self, application, service_roles):
        self.application = application
        self.service_roles = ','.join(service_roles)

    def __call__(self, environ, start_response):
        if not any(environ.get(h) for h in _IDENTITY_HEADERS):
            environ['HTTP_X_USER_ID'] = 'admin'
            environ['HTTP_X_PROJECT_ID'] = 'admin'
            environ['HTTP_X_ROLES'] = 'admin'
            environ['HTTP_X_SERVICE_ROLES'] = self.service_roles
        roles = [r.strip() for r in environ.get('HTTP_X_ROLES', '').split(',')
                 if r.strip()]
        environ['HTTP_X_ROLES'] = ','.join(expand_roles(roles))
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.application(environ, start_response)


class PublicPathsMiddleware:
    """Lets version discovery through without a token."""

    PUBLIC = ('', 'v2')

    def __init__(self, application, protected):
        self.application = application
        self.protected = protected

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '').strip('/')
        if environ.get('REQUEST_METHOD') == 'GET' and path in self.PUBLIC:
            return self.application(environ, start_response)
        return self.protected(environ, start_response)


def wrap(application, conf):
    """``application`` behind the configured authentication."""
    if conf.api.auth_strategy == 'noauth':
        return NoAuthMiddleware(application, service_token_roles(conf))
    protected = auth_token.AuthProtocol(
        application, {'oslo_config_config': conf})
    return PublicPathsMiddleware(application, protected)
