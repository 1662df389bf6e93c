"""Identity as the API reads it, whichever authentication ran (api/
middleware/auth.py): keystonemiddleware or the laptop ``noauth`` mode.

Both leave identity in the X-User-Id, X-Project-Id, X-Roles and
X-Service-Roles headers, from which the context hook builds the request
context, so the rest of the API does not know which one ran. X-Service-Roles
holds the roles of the service token (``X-Service-Token``); in noauth mode
the header is taken as given and plays that token.
"""

from keystonemiddleware import auth_token

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
