"""Rewrites every error response into the API's wire format (api/errors.py),
whichever layer made it: Pecan's router, a middleware, keystonemiddleware.

Unexpected server errors never show their exception text to the client
(it is logged).
"""

import json

from oslo_log import log as logging
import webob
import webob.exc

from cyborg_clone.api import errors
from cyborg_clone.api import fpga_image_errors

LOG = logging.getLogger(__name__)

_GENERIC_SERVER_ERROR = ('The server has either erred or is incapable of '
                         'performing the requested operation.')


def _faultstring(response, family):
    try:
        body = json.loads(response.body)
    except ValueError:
        body = None
    if family and fpga_image_errors.is_family_body(body):
        return None  # already in the FPGA image API's format
    if isinstance(body, dict):
        if isinstance(body.get('faultstring'), str):
            return body['faultstring']
        error = body.get('error')
        if isinstance(error, dict) and error.get('message'):
            return error['message']
        if 'error_message' in body:
            return None
    detail = getattr(response, 'detail', None)
    return detail or response.status.split(' ', 1)[1]


class ErrorFormatMiddleware:
    """Rewrites error responses into the wire format; a plain WSGI
    middleware, so a success passes through without being wrapped in WebOb
    request and response objects."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            status, headers, app_iter = _call(self.application, environ)
        except webob.exc.HTTPException as error:
            # What webob.dec.wsgify, which this used to be, answers.
            return error(environ, start_response)
        except Exception:
            # A fault of the service (the request guard has turned away
            # what a client could get wrong): logged, answered without
            # detail.
            LOG.exception('%s %r failed', environ.get('REQUEST_METHOD'),
                          errors.shortened(environ.get('PATH_INFO', '')))
            status, headers, app_iter = (
                '500 Internal Server Error',
                [('Content-Type', 'application/json')], [b'{}'])
        if int(status.split(' ', 1)[0]) < 400:
            start_response(status, headers)
            return app_iter
        response = webob.Response(status=status, headerlist=list(headers),
                                  app_iter=app_iter)
        request = webob.Request(environ)
        return _reformat(request, response)(environ, start_response)


def _call(application, environ):
    """(status, headers, app_iter) of ``application``, the way WebOb's
    Request.call_application gets them: an exception handed to
    start_response is raised, and output written through write() or
    produced before start_response is collected first."""
    captured = []
    output = []

    def start_response(status, headers, exc_info=None):
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        captured[:] = [status, headers]
        return output.append

    app_iter = application(environ, start_response)
    if output or not captured:
        try:
            output.extend(app_iter)
        finally:
            if hasattr(app_iter, 'close'):
                app_iter.close()
        app_iter = output
    return captured[0], captured[1], app_iter


def _reformat(request, response):
    # The raw path: webob would decode it, and it may not be UTF-8.
    path = request.environ.get('PATH_INFO', '')
    faultstring = _faultstring(response, fpga_image_errors.in_family(path))
    if faultstring is None:
        return response  # already in the wire format
    if response.status_int >= 500:
        LOG.error('%s %r failed with %s: %s', request.method,
                  errors.shortened(path), response.status, faultstring)
        faultstring = _GENERIC_SERVER_ERROR
    response.body = errors.body_for(path, response.status_int,
                                    faultstring).encode()
    response.content_type = 'application/json'
    response.charset = None
    return response
