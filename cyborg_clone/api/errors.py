"""Every error leaves the API as ``{"error_message": "<JSON string>"}``
(the FPGA image API's paths excepted: see fpga_image_errors).

The inner string is ``{"faultcode", "faultstring", "debuginfo"}``, which is
what python-cyborgclient and openstacksdk decode. Errors raised inside WSME
controllers arrive here already as that inner JSON; errors from Pecan's
router, the microversion middleware or keystonemiddleware arrive as HTML or
other JSON and are rewritten from their status line. Unexpected server
errors never show their exception text to the client (it is logged).
"""

import json

from oslo_log import log as logging
import webob
import webob.dec

from cyborg_clone.api import fpga_image_errors

LOG = logging.getLogger(__name__)

_GENERIC_SERVER_ERROR = ('The server has either erred or is incapable of '
                         'performing the requested operation.')


def error_body(status_code, faultstring):
    """The wire body for an error with this status and message."""
    fault = {'faultcode': 'Client' if status_code < 500 else 'Server',
             'faultstring': faultstring, 'debuginfo': None}
    return json.dumps({'error_message': json.dumps(fault)})


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
    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, request):
        response = request.get_response(self.application)
        if response.status_int < 400:
            return response
        family = fpga_image_errors.in_family(request.path_info)
        faultstring = _faultstring(response, family)
        if faultstring is None:
            return response  # already in the wire format
        if response.status_int >= 500:
            LOG.error('%s %s failed with %s: %s', request.method,
                      request.path, response.status, faultstring)
            faultstring = _GENERIC_SERVER_ERROR
        render = fpga_image_errors.body if family else error_body
        response.body = render(response.status_int, faultstring).encode()
        response.content_type = 'application/json'
        response.charset = None
        return response
