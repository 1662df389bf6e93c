"""Builds the WSGI application: Pecan app wrapped in its middleware."""

import functools

import pecan
import pecan.compat
import pecan.util

from cyborg_clone import policies
from cyborg_clone.api import hooks
from cyborg_clone.api import json_renderer
from cyborg_clone.api import middleware
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


def setup_app(conf, conductor_api=None, external_server=False):
    """The API application for ``conf``, in the middleware that
    api/middleware/__init__.py stacks (``external_server``: served by a
    WSGI server other than cyborg-clone-api's own)."""
    _cache_pecan_argspecs()
    if conductor_api is None:
        conductor_api = conductor_rpcapi.ConductorAPI(conf)
    enforcer = policies.get_enforcer(conf)
    app = pecan.make_app(
        'cyborg_clone.api.controllers.root.RootController',
        hooks=[hooks.RequestStateHook(conf, enforcer, conductor_api)],
        custom_renderers=json_renderer.RENDERERS,
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False,
    )
    routing_cache.install(app)
    return middleware.wrap(app, conf, external_server=external_server)
