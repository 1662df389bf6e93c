"""The route memo on its own: hits, misses, what it refuses to keep, and
its bound. (test_routing_cache_routes.py checks that every route
of the real app answers as without it.)"""

import pecan
from pecan import rest
import pytest
from webob import exc

from cyborg_clone.api import routing_cache

U1 = '0d7b9a6c-6a3f-4a53-9a4e-8f0e0c6f5f11'
U2 = 'f3c1f1c4-2d6a-4b0e-a4a3-2c9d8d5a7e22'
HEX1 = '9a3c0f1e2d4b4c6e8f0a1b2c3d4e5f60'
HEX2 = '0f1e2d3c4b5a69788796a5b4c3d2e1f0'


class Child(rest.RestController):
    @pecan.expose()
    def get_one(self, ident):
        return ident

    @pecan.expose()
    def enable(self, ident):
        return ident


class Root(rest.RestController):
    child = Child()

    @pecan.expose('json')
    def get_all(self):
        return {}

    @pecan.expose(generic=True, template='json')
    def index(self):
        return {}


class PerRequest:
    """Like the FPGA image API's controllers: made for one request."""

    @pecan.expose()
    def index(self):
        return ''


class Request:
    def __init__(self, method='GET', query='', content_type=None,
                 accept=None):
        self.environ = {'REQUEST_METHOD': method, 'QUERY_STRING': query}
        if content_type is not None:
            self.environ['CONTENT_TYPE'] = content_type
        if accept is not None:
            self.environ['HTTP_ACCEPT'] = accept
        self.pecan = {'content_type': None}


class FakeRoute:
    """Pecan's route(req, node, path), answering from ``answer(path)``
    and counting its calls."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def __call__(self, req, node, path):
        self.calls.append(path)
        return self.answer(req, path)


@pytest.fixture
def root():
    return Root()


def child_get_one(root):
    def answer(req, path):
        return root.child.get_one, [path.split('/')[-1]]
    return answer


def test_a_path_of_the_same_shape_is_a_hit(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    first = cache(Request(), root, '/child/' + U1)
    second = cache(Request(), root, '/child/' + U2)
    assert route.calls == ['/child/' + U1]
    assert first == (root.child.get_one, [U1])
    assert second == (root.child.get_one, [U2])
    assert len(cache) == 1


@pytest.mark.parametrize('first, second', [
    (HEX1, HEX2),        # project ids, image ids
    ('12', '345'),       # attribute ids
    (U1, U2.upper()),
])
def test_each_id_shape_is_a_slot(root, first, second):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    cache(Request(), root, '/child/' + first)
    assert cache(Request(), root, '/child/' + second)[1] == [second]
    assert len(route.calls) == 1


def test_other_segments_are_part_of_the_key(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    for name in ('gpu', 'fpga', 'gpu'):
        assert cache(Request(), root, '/child/' + name)[1] == [name]
    assert route.calls == ['/child/gpu', '/child/fpga']


def test_the_method_is_part_of_the_key(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    cache(Request('GET'), root, '/child/' + U1)
    cache(Request('DELETE'), root, '/child/' + U2)
    assert len(route.calls) == 2


def test_a_custom_action_keeps_its_id_argument(root):
    def answer(req, path):
        return root.child.enable, [path.split('/')[2]]
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    json_post = 'application/json'
    cache(Request('POST', content_type=json_post), root,
          '/child/%s/enable' % U1)
    assert cache(Request('POST', content_type=json_post), root,
                 '/child/%s/enable' % U2) == (
        root.child.enable, [U2])
    assert len(route.calls) == 1


def test_literal_arguments_are_replayed(root):
    def answer(req, path):
        return root.child.get_one, ['', path.split('/')[2], 'program']
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    cache(Request('PATCH'), root, '/child/%s/program' % U1)
    assert cache(Request('PATCH'), root, '/child/%s/program' % U2)[1] == [
        '', U2, 'program']


@pytest.mark.parametrize('error', [exc.HTTPNotFound, exc.HTTPMethodNotAllowed])
def test_errors_are_raised_afresh_and_not_kept(root, error):
    def answer(req, path):
        raise error()
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    for _ in range(2):
        with pytest.raises(error):
            cache(Request(), root, '/child/' + U1)
    assert len(route.calls) == 2
    assert len(cache) == 0


def test_a_controller_made_per_request_is_not_kept(root):
    def answer(req, path):
        return PerRequest().index, []
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    first = cache(Request(), root, '/v2/%s/images' % HEX1)
    second = cache(Request(), root, '/v2/%s/images' % HEX2)
    assert len(route.calls) == 2
    assert first[0].__self__ is not second[0].__self__
    assert len(cache) == 0


def test_nested_routing_arguments_are_not_kept(root):
    def answer(req, path):
        req.pecan['routing_args'] = [path.split('/')[2]]
        return root.child.get_one, []
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    cache(Request(), root, '/child/%s/x' % U1)
    cache(Request(), root, '/child/%s/x' % U2)
    assert len(route.calls) == 2


def test_an_ambiguous_argument_is_not_kept(root):
    # The id is in the path twice: which segment it came from is unknown.
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    cache(Request(), root, '/child/%s/%s' % (U1, U1))
    assert len(cache) == 0


def test_an_argument_not_from_the_path_is_not_kept(root):
    def answer(req, path):
        return root.child.get_one, [U2]
    route = FakeRoute(answer)
    cache = routing_cache.RouteCache(route, root)
    cache(Request(), root, '/child/' + U1)
    assert len(cache) == 0


@pytest.mark.parametrize('request_', [
    Request(query='_method=DELETE'),
    Request('POST'),  # no content type: WebOb parses it as a form
    Request('POST', content_type='application/x-www-form-urlencoded'),
    Request('PATCH', content_type='multipart/form-data; boundary=x'),
], ids=['_method', 'bare POST', 'urlencoded', 'multipart'])
def test_requests_that_may_change_their_method_go_to_pecan(root, request_):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    for _ in range(2):
        cache(request_, root, '/child/' + U1)
    assert len(route.calls) == 2
    assert len(cache) == 0


def test_a_json_post_is_kept(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    for uuid in (U1, U2):
        cache(Request('POST', content_type='application/json'), root,
              '/child/' + uuid)
    assert len(route.calls) == 1


def test_routing_below_the_root_goes_to_pecan(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root)
    for _ in range(2):
        cache(Request(), root.child, '/' + U1)
    assert len(route.calls) == 2


def test_made_up_paths_cannot_grow_it(root):
    route = FakeRoute(child_get_one(root))
    cache = routing_cache.RouteCache(route, root, max_entries=3)
    for number in range(10):
        cache(Request(), root, '/child/name%d' % number)
    assert len(cache) == 3
    cache(Request(), root, '/child/name9')  # the newest are kept
    assert len(route.calls) == 10


@pytest.mark.parametrize('accept, negotiated', [
    ('application/json', 'application/json'),
    (None, None),
    ('*/*', None),
    ('application/json, text/html', None),
    ('application/json;q=0.9', None),
    ('text/html', None),  # not one the controller offers
])
def test_a_single_offered_accept_type_is_settled(root, accept, negotiated):
    cache = routing_cache.RouteCache(
        FakeRoute(lambda req, path: (root.get_all, [])), root)
    for _ in range(2):  # on the miss, then on the hit
        request = Request(accept=accept)
        cache(request, root, '/')
        assert request.pecan['content_type'] == negotiated
    assert len(cache) == 1


def test_a_generic_controller_is_left_to_pecan(root):
    cache = routing_cache.RouteCache(
        FakeRoute(lambda req, path: (root.index, [])), root)
    for _ in range(2):
        request = Request(accept='application/json')
        cache(request, root, '/')
        assert request.pecan['content_type'] is None


def test_static_controllers_are_those_reachable_from_the_root(root):
    found = routing_cache.static_controllers(root)
    assert {id(c) for c in found} == {id(root), id(root.child)}


def test_a_secure_controller_is_left_out():
    class Guarded(rest.RestController):
        @classmethod
        def check_permissions(cls):
            return True

    class Top(rest.RestController):
        guarded = Guarded()

    top = Top()
    assert routing_cache.static_controllers(top) == [top]


def test_install_replaces_the_route_of_a_pecan_app():
    app = pecan.make_app(Root(), force_canonical=False)
    cache = routing_cache.install(app)
    assert app.application.route is cache


def test_install_refuses_what_is_not_a_pecan_app():
    with pytest.raises(TypeError):
        routing_cache.install(object())
