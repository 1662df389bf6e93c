"""Authentication: keystonemiddleware, or the laptop ``noauth`` mode that
trusts identity headers (api/auth.py says which headers)."""

from keystonemiddleware import auth_token

from cyborg_clone.api import auth

_IDENTITY_HEADERS = ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES',
                     'HTTP_X_SERVICE_ROLES')


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
        environ['HTTP_X_ROLES'] = ','.join(auth.expand_roles(roles))
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
        return NoAuthMiddleware(application, auth.service_token_roles(conf))
    protected = auth_token.AuthProtocol(
        application, {'oslo_config_config': conf})
    return PublicPathsMiddleware(application, protected)
