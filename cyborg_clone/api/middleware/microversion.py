"""Chooses each request's API microversion (api/microversion.py) and stamps
the version headers on the response."""

import webob

from cyborg_clone.api import errors
from cyborg_clone.api import microversion as mv

_STAMPED = ('openstack-api-minimum-version',
            'openstack-api-maximum-version', 'vary')
_RANGE_HEADERS = [('OpenStack-API-Minimum-Version', str(mv.MIN_VERSION)),
                  ('OpenStack-API-Maximum-Version', str(mv.MAX_VERSION)),
                  ('Vary', mv.HEADER)]


class MicroversionMiddleware:
    """Chooses the request's version (400 for a header it cannot parse,
    406 for an unsupported version) and stamps the version headers."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not mv.is_versioned(environ.get('PATH_INFO', '')):
            return self.application(environ, start_response)
        raw = environ.get('HTTP_OPENSTACK_API_VERSION')
        try:
            version = mv.parse(raw)
        except mv.Malformed:
            return self._refuse(environ, start_response, 400, (
                'OpenStack-API-Version %s is not of the form "%s 2.N" or '
                '"%s latest".' % (raw, mv.SERVICE_TYPE, mv.SERVICE_TYPE)))
        except mv.Unsupported:
            return self._refuse(environ, start_response, 406, (
                'Version %s is not supported by the API. Minimum is %s '
                'and maximum is %s.' % (raw, mv.MIN_VERSION, mv.MAX_VERSION)))
        environ[mv.ENVIRON_KEY] = version
        return self.application(environ,
                                self._start(start_response, version))

    def _refuse(self, environ, start_response, status, message):
        error = webob.Response(
            status=status, content_type='application/json', charset=None,
            body=errors.error_body(status, message).encode())
        return error(environ, self._start(start_response, None))

    @staticmethod
    def _start(start_response, version):
        def _start_response(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() not in _STAMPED]
            headers.extend(_RANGE_HEADERS)
            if version is not None and int(status.split()[0]) < 400:
                headers.append((mv.HEADER, '%s %s' % (mv.SERVICE_TYPE,
                                                      version)))
            return start_response(status, headers, exc_info)
        return _start_response
