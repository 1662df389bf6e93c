"""api.middleware.wrap stacks the layers in the order its docstring
explains, the body layers only for a WSGI server other than ours."""

import pytest

from cyborg_clone.api import middleware
from cyborg_clone.api.middleware import auth
from cyborg_clone.api.middleware import body_limit
from cyborg_clone.api.middleware import chunked_body
from cyborg_clone.api.middleware import drain_body
from cyborg_clone.api.middleware import error_format
from cyborg_clone.api.middleware import microversion
from cyborg_clone.api.middleware import request_guard
from cyborg_clone.api.middleware import uwsgi_chunked
from tests.conftest import make_conf

ALWAYS = [error_format.ErrorFormatMiddleware, auth.NoAuthMiddleware,
          chunked_body.ChunkedBodyMiddleware,
          request_guard.RequestGuardMiddleware,
          microversion.MicroversionMiddleware]
EXTERNAL = [uwsgi_chunked.UWSGIChunkedInput, drain_body.DrainRequestBody,
            body_limit.RefuseLargeBody]


def _app(environ, start_response):
    start_response('200 OK', [])
    return [b'']


def layers(stack):
    """The classes from the outermost layer in to the app."""
    found = []
    while stack is not _app:
        found.append(type(stack))
        stack = getattr(stack, 'application', None) or stack.app
    return found


@pytest.mark.parametrize('external, expected', [
    (False, ALWAYS), (True, EXTERNAL + ALWAYS)])
def test_the_layers_come_in_the_documented_order(tmp_path, external,
                                                 expected):
    conf = make_conf(tmp_path)
    assert layers(middleware.wrap(_app, conf, external)) == expected


def test_the_body_limit_is_the_configured_one(tmp_path):
    conf = make_conf(tmp_path, {('api', 'max_request_body_size'): 123})
    stack = middleware.wrap(_app, conf, external_server=True)
    assert stack.app.app.limit == 123
