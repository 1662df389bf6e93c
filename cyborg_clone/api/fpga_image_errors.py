"""The FPGA image API's error body: ``{"error": {"code", "message"}}``.

Its clients parse that shape, not the Cyborg ``error_message`` one, so
every error on its paths (including the router's 404 and authentication's
401) is written this way. Codes are stable; api-ref lists them.
"""

import json

FAMILY_MARKER = '/cloudservers/fpga_image'

# Codes of errors that carry no error_code of their own, by HTTP status.
STATUS_CODES = {
    400: 'FPGA.0400',  # invalid parameter
    401: 'FPGA.0401',  # no or bad token
    403: 'FPGA.0403',  # policy refused, or another project's path
    404: 'FPGA.0404',  # no such image (or route)
    405: 'FPGA.0405',  # method not allowed
    409: 'FPGA.0409',  # conflicting concurrent change
    411: 'FPGA.0411',  # a chunked body the server cannot read
    413: 'FPGA.0413',  # a body over [api]max_request_body_size
    415: 'FPGA.0415',  # a body not declared JSON
    500: 'FPGA.0500',  # internal error
    503: 'FPGA.0503',  # a backend service is unavailable
}


def in_family(path):
    return FAMILY_MARKER in path


def is_family_body(body):
    """True for a body this module wrote (keystonemiddleware's 401 also
    says {"error": ...}, with an integer code and a title)."""
    error = body.get('error') if isinstance(body, dict) else None
    return (isinstance(error, dict) and set(error) == {'code', 'message'}
            and str(error['code']).startswith('FPGA.'))


def code_for(status, error=None):
    return getattr(error, 'error_code', None) or STATUS_CODES.get(
        status, 'FPGA.%04d' % status)


def body(status, message, error=None):
    return json.dumps({'error': {'code': code_for(status, error),
                                 'message': message}})
