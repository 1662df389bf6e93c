"""Authentication: keystonemiddleware or the laptop ``noauth`` mode.

Both leave identity in the X-User-Id, X-Project-Id, X-Roles and
X-Service-Roles headers, from which the context hook builds the request
context, so the rest of the API does not know which one ran.
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


class NoAuthMiddleware:
    """Trusts identity headers; no headers at all means an administrator."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not any(environ.get(h) for h in _IDENTITY_HEADERS):
            environ['HTTP_X_USER_ID'] = 'admin'
            environ['HTTP_X_PROJECT_ID'] = 'admin'
            environ['HTTP_X_ROLES'] = 'admin'
            environ['HTTP_X_SERVICE_ROLES'] = 'service'
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
        return NoAuthMiddleware(application)
    protected = auth_token.AuthProtocol(
        application, {'oslo_config_config': conf})
    return PublicPathsMiddleware(application, protected)
