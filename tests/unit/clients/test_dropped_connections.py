"""Our clients resend a request that met a connection the server had
closed, against a loopback server that drops connections on purpose."""

import http.server
import json
import threading

from keystoneauth1 import loading as ks_loading
import pytest

from cyborg_clone.clients import nova
from cyborg_clone.clients import object_store
from cyborg_clone.clients import placement
from cyborg_clone.common import exception
from tests.fixtures import placement as placement_fixture
from tests.nova_recorder import configure_nova

RP = '4e8e5957-649f-4b68-b2fa-3a8c14bd1c2e'
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'
TOKEN = 'a-keystone-token'


class DroppingServer:
    """Answers the first request on each connection (HTTP/1.1, with a
    length, no ``Connection: close``) and drops the connection when a
    second one comes on it, unanswered: what a client whose pooled
    connection the server closed at that moment sees. ``drop_first``
    drops the first requests the server gets, whatever the connection.

    ``answered`` and ``dropped`` list the (method, path) of requests.
    """

    def __init__(self, drop_first=0):
        self.drop_first = drop_first
        self.answered = []
        self.dropped = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # Idle pooled connections end with the test.
            timeout = 5

            def setup(self):
                super().setup()
                self.has_answered = False

            def handle_request(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                request = (self.command, self.path)
                if self.has_answered or server.drop_first:
                    # Read in full, so that the client sees the
                    # connection end, not a reset.
                    server.drop_first = max(server.drop_first - 1, 0)
                    server.dropped.append(request)
                    self.close_connection = True
                    return
                self.has_answered = True
                server.answered.append(request)
                status, headers, data = server.answer(self.command,
                                                      self.path, body)
                self.send_response(status)
                headers.setdefault('Content-Length', str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_request

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def answer(self, method, path, body):
        """(status, headers, body) for a request answered."""
        if path == '/v3/auth/tokens':
            return 201, {'X-Subject-Token': TOKEN}, _json(_token(self.url))
        if method == 'HEAD':
            return 200, {'Content-Length': '5'}, b''
        if method == 'DELETE':
            return 204, {}, b''
        if path == '/os-server-external-events':
            return 200, {}, _json({'events': [
                dict(e, code=200) for e in json.loads(body)['events']]})
        return 200, {}, _json({'uuid': RP, 'resource_provider_generation': 1,
                               'parent_provider_uuid': None})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def _json(document):
    return json.dumps(document).encode()


def _token(url):
    """A Keystone v3 token whose catalog has Placement at ``url``."""
    domain = {'id': 'default', 'name': 'Default'}
    return {'token': {
        'methods': ['password'], 'expires_at': '2999-01-01T00:00:00.000000Z',
        'issued_at': '2024-01-01T00:00:00.000000Z',
        'user': {'id': 'u1', 'name': 'cyborg', 'domain': domain},
        'project': {'id': 'p1', 'name': 'service', 'domain': domain},
        'roles': [{'id': 'r1', 'name': 'service'}],
        'catalog': [{'id': 's1', 'type': 'placement', 'name': 'placement',
                     'endpoints': [{'id': 'e1', 'interface': 'internal',
                                    'region': 'RegionOne',
                                    'region_id': 'RegionOne',
                                    'url': url}]}]}}


@pytest.fixture
def server():
    with DroppingServer() as running:
        yield running


def placement_client(conf, server, **overrides):
    placement_fixture.configure(conf, server.url)
    for name, value in overrides.items():
        conf.set_override(name, value, group='placement')
    return placement.PlacementClient(conf)


def _calls(client):
    """One request of each method, in a row on one connection."""
    client.create_provider(RP, 'host_0000:5e:00.0', RP)
    assert client.provider(RP)['uuid'] == RP
    assert client.set_traits(RP, 0, {'CUSTOM_A'}) == 1
    assert client.delete_provider(RP)


def test_each_group_retries_connections_by_default(conf):
    for group in (conf.placement, conf.nova):
        assert (group.connect_retries, group.connect_retry_delay) == (3, 0.1)
    assert conf.object_store.s3_max_attempts == 4


def test_placement_requests_of_every_method_are_resent(conf, server):
    client = placement_client(conf, server)
    _calls(client)
    sent = [('POST', '/resource_providers'),
            ('GET', '/resource_providers/' + RP),
            ('PUT', '/resource_providers/%s/traits' % RP),
            ('DELETE', '/resource_providers/' + RP)]
    assert server.answered == sent
    # Each after the first met the connection its predecessor used.
    assert server.dropped == sent[1:]


def test_without_retries_a_dropped_connection_fails_the_call(conf, server):
    client = placement_client(conf, server, connect_retries=0)
    client.create_provider(RP, 'host_0000:5e:00.0', RP)
    with pytest.raises(placement.PlacementUnreachable) as caught:
        client.provider(RP)
    assert 'Remote end closed connection without response' in str(
        caught.value)


def test_keystone_requests_are_resent(conf):
    with DroppingServer(drop_first=1) as server:
        conf.set_override('auth_type', 'v3password', group='placement')
        conf.register_opts(
            ks_loading.get_auth_plugin_conf_options('v3password'),
            group='placement')
        for name, value in {'auth_url': server.url + '/v3',
                            'username': 'cyborg', 'password': 'secret',
                            'user_domain_name': 'Default',
                            'project_name': 'service',
                            'project_domain_name': 'Default'}.items():
            conf.set_override(name, value, group='placement')
        client = placement.PlacementClient(conf)
        assert client.provider(RP)['uuid'] == RP
    token = ('POST', '/v3/auth/tokens')
    assert server.dropped == [token, ('GET', '/resource_providers/' + RP)]
    assert server.answered == [token, ('GET', '/resource_providers/' + RP)]


def test_nova_events_are_resent_on_a_new_connection(conf, server):
    configure_nova(conf, server)
    # Only keystoneauth1's retry is left to save the second delivery.
    conf.set_override('event_retries', 0, group='nova')
    client = nova.NovaClient(conf)
    arq = type('ARQ', (), {'uuid': RP, 'state': 'Bound'})()
    assert client.send_bound_events(INSTANCE, [arq])
    assert client.send_bound_events(INSTANCE, [arq])
    assert len(server.answered) == 2
    assert len(server.dropped) == 1


@pytest.mark.parametrize('attempts, succeeds', [(None, True), (1, False)])
def test_s3_requests_are_resent(conf, attempts, succeeds):
    with DroppingServer(drop_first=1) as server:
        conf.set_override('backend', 's3', group='object_store')
        conf.set_override('s3_endpoint_url', server.url,
                          group='object_store')
        conf.set_override('s3_access_key', 'key', group='object_store')
        conf.set_override('s3_secret_key', 'secret', group='object_store')
        if attempts:
            conf.set_override('s3_max_attempts', attempts,
                              group='object_store')
        store = object_store.get_object_store(conf)
        if succeeds:
            assert store.size('bucket', 'key') == 5
        else:
            with pytest.raises(exception.ObjectStoreError):
                store.size('bucket', 'key')
    assert server.dropped == [('HEAD', '/bucket/key')]
    assert server.answered == ([('HEAD', '/bucket/key')] if succeeds else [])
