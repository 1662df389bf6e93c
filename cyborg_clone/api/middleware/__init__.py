"""The API's WSGI middleware, one module each, and ``wrap``, the one place
that stacks them."""

from cyborg_clone.api.middleware import auth
from cyborg_clone.api.middleware import body_limit
from cyborg_clone.api.middleware import chunked_body
from cyborg_clone.api.middleware import drain_body
from cyborg_clone.api.middleware import error_format
from cyborg_clone.api.middleware import microversion
from cyborg_clone.api.middleware import request_guard
from cyborg_clone.api.middleware import uwsgi_chunked


def wrap(app, conf, external_server=False):
    """``app`` (Pecan with the WSME controllers) inside the middleware.

    Outermost first, and why in this order:

    Under a WSGI server other than cyborg-clone-api's own
    (``external_server``: uWSGI, gunicorn, mod_wsgi, through api/wsgi.py),
    which neither limits nor reads the request body for the app:

    1. UWSGIChunkedInput: under uWSGI's HTTP router, a chunked body made
       readable from ``wsgi.input`` before any layer reads it.
    2. DrainRequestBody: counts what the layers below read of the body and
       reads the rest once they have answered, so that a keep-alive
       connection carries the client's next request.
    3. RefuseLargeBody: 413 for a body announced larger than
       ``[api]max_request_body_size``, before anything reads it.

    Always:

    4. ErrorFormatMiddleware: sees every response, so errors made by any
       layer below (including authentication's 401) share one wire format.
    5. Authentication (keystonemiddleware or noauth): rejects or identifies
       the caller before any work is done.
    6. ChunkedBodyMiddleware: a 411 for a body the app could not read
       (once the caller is known, so strangers still get their 401).
    7. RequestGuardMiddleware: 400 for a method, path, query or body no
       route can take (undecodable, repeated, too deeply nested), before
       anything parses them; it reads the body once.
    8. MicroversionMiddleware: picks the version (400 for a header it
       cannot parse, 406 for an unsupported one) and stamps the version
       headers on every versioned response.

    The layers of this package are plain WSGI callables that make WebOb
    objects only to answer an error: a WebOb request and response per
    layer would cost every request.
    """
    app = microversion.MicroversionMiddleware(app)
    app = request_guard.RequestGuardMiddleware(app)
    app = chunked_body.ChunkedBodyMiddleware(app)
    app = auth.wrap(app, conf)
    app = error_format.ErrorFormatMiddleware(app)
    if external_server:
        app = body_limit.RefuseLargeBody(app, conf.api.max_request_body_size)
        app = drain_body.DrainRequestBody(app)
        app = uwsgi_chunked.UWSGIChunkedInput(app)
    return app
