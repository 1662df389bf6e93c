"""Every error leaves the API as ``{"error_message": "<JSON string>"}``
(the FPGA image API's paths excepted: see fpga_image_errors).

The inner string is ``{"faultcode", "faultstring", "debuginfo"}``, which is
what python-cyborgclient and openstacksdk decode. Errors raised inside WSME
controllers arrive at api/middleware/error_format.py already as that inner
JSON; that middleware rewrites every other error into it.
"""

import json

from cyborg_clone.api import fpga_image_errors

# Longest message an error carries. Messages quote what the client sent
# (a path, a query value, jsonschema's text about a body), and a client
# must not get most of its request back.
MESSAGE_LIMIT = 400


def shortened(message):
    """``message`` cut to MESSAGE_LIMIT characters."""
    if len(message) <= MESSAGE_LIMIT:
        return message
    return message[:MESSAGE_LIMIT] + '...'


def error_body(status_code, faultstring):
    """The wire body for an error with this status and message."""
    faultstring = shortened(faultstring)
    fault = {'faultcode': 'Client' if status_code < 500 else 'Server',
             'faultstring': faultstring, 'debuginfo': None}
    return json.dumps({'error_message': json.dumps(fault)})


def body_for(path, status_code, message):
    """The wire body of an error on ``path``, in the format of the API the
    path belongs to."""
    if fpga_image_errors.in_family(path):
        return fpga_image_errors.body(status_code, message)
    return error_body(status_code, message)


def render_error(status, message, path):
    """(content type, body) of an error answered before the app sees the
    request (bad framing, a body too large, a malformed request), for the
    HTTP server and the middleware."""
    return 'application/json', body_for(path, status, message).encode()
