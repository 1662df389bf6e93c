"""A loopback HTTP server that answers like Nova's external-events API and
records what it was sent; it can also answer GETs with fixed documents, as
the Nova or Glance a client looks a server or an image up in."""

import http.server
import json
import threading


class NovaRecorder:
    """Serves POST /os-server-external-events on 127.0.0.1.

    ``answers`` is a list of (status, body) used in turn (the last one
    repeats); the default accepts every event with 200.

    ``documents`` maps a path (query string included) to the JSON a GET of
    it answers with 200; any other GET is a 404. Each GET is recorded in
    ``gets`` as (path, headers).
    """

    def __init__(self, answers=None, documents=None):
        self.answers = list(answers or [])
        self.requests = []
        self.documents = dict(documents or {})
        self.gets = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length', 0))
                body = json.loads(self.rfile.read(length))
                recorder.requests.append(
                    {'path': self.path, 'headers': dict(self.headers),
                     'body': body})
                status, answer = recorder._next_answer(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                recorder.gets.append((self.path, dict(self.headers)))
                if self.path in recorder.documents:
                    status = 200
                    answer = recorder.documents[self.path]
                else:
                    status = 404
                    answer = {'itemNotFound': {
                        'code': 404, 'message': self.path + ' not found'}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def _next_answer(self, body):
        if not self.answers:
            return 200, {'events': [dict(e, code=200)
                                    for e in body['events']]}
        if len(self.answers) > 1:
            return self.answers.pop(0)
        return self.answers[0]

    @property
    def events(self):
        return [e for r in self.requests for e in r['body']['events']]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def configure_nova(conf, recorder):
    """Point ``conf``'s [nova] section at the recorder, without auth."""
    conf.set_override('auth_type', 'none', group='nova')
    conf.set_override('endpoint_override', recorder.url, group='nova')
    conf.set_override('event_retry_delay', 0, group='nova')
