"""Calling one middleware around an app that answers 201, as a server
would."""


def call(wrap, environ):
    """``wrap(app)`` called with ``environ``: ``(status, headers as a dict,
    body, whether the app ran)``."""
    ran = []

    def app(environ, start_response):
        ran.append(True)
        start_response('201 Created', [])
        return [b'']

    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    body = b''.join(wrap(app)(environ, start_response))
    return answer['status'], answer['headers'], body, bool(ran)
