"""Builds the WSGI application: Pecan app wrapped in its middleware."""

import functools

import pecan
import pecan.compat
import pecan.util

from cyborg_clone import policies
from cyborg_clone.api import auth
from cyborg_clone.api import errors
from cyborg_clone.api import hooks
from cyborg_clone.api import microversion
from cyborg_clone.api import request_body
from cyborg_clone.api import request_guard
from cyborg_clone.api import routing_cache
from cyborg_clone.conductor import rpcapi as conductor_rpcapi


def _cache_pecan_argspecs():
    # Pecan inspects controller signatures several times per request and
    # its getargspec builds a new namedtuple class on every call: a quarter
    # of a simple GET's time (bench/api_bench.py). Signatures never change,
    # so remember them. pecan.util looks the helper up at call time.
    if not hasattr(pecan.util._getargspec, 'cache_info'):
        pecan.util._getargspec = functools.lru_cache(maxsize=1024)(
            pecan.compat.getargspec)


def setup_app(conf, conductor_api=None):
    """The API application for ``conf``.

    Middleware, outermost first, and why in this order:

    1. ErrorFormatMiddleware: sees every response, so errors made by any
       layer below (including authentication's 401) share one wire format.
    2. Authentication (keystonemiddleware or noauth): rejects or identifies
       the caller before any work is done.
    3. ChunkedBodyMiddleware: a 411 for a body the app could not read
       (once the caller is known, so strangers still get their 401).
    4. RequestGuardMiddleware: 400 for a method, path, query or body no
       route can take (undecodable, repeated, too deeply nested), before
       anything parses them; it reads the body once.
    5. MicroversionMiddleware: picks the version (400 for a header it
       cannot parse, 406 for an unsupported one) and stamps the version
       headers on every versioned response.
    6. Pecan with the WSME controllers.
    """
    _cache_pecan_argspecs()
    if conductor_api is None:
        conductor_api = conductor_rpcapi.ConductorAPI(conf)
    enforcer = policies.get_enforcer(conf)
    app = pecan.make_app(
        'cyborg_clone.api.controllers.root.RootController',
        hooks=[hooks.RequestStateHook(conf, enforcer, conductor_api)],
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False,
    )
    routing_cache.install(app)
    app = microversion.MicroversionMiddleware(app)
    app = request_guard.RequestGuardMiddleware(app)
    app = request_body.ChunkedBodyMiddleware(app)
    app = auth.wrap(app, conf)
    return errors.ErrorFormatMiddleware(app)
