"""Every route shape of the real app answers the same with the route memo
as without it: the controller reached, its arguments, 404 and 405 (with
their Allow header) alike, on the first request of a shape and on later
ones with other ids."""

import uuid

from pecan import core
import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.api import routing_cache
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import attribute
from cyborg_clone.objects import deployable
from cyborg_clone.objects import device
from cyborg_clone.objects import device_profile
from tests.conftest import Api
from tests.fixtures.hardware import report_fake_host

PROGRAM = [{'path': '/bitstream_id', 'op': 'replace',
            'value': [{'image_uuid': '0' * 32}]}]

# (method, path, body); {names} are filled from each of two id sets.
ROUTES = [
    ('GET', '/', None),
    ('GET', '/v2', None),
    ('GET', '/v2/', None),
    ('HEAD', '/v2', None),
    ('DELETE', '/v2', None),
    ('GET', '/v3', None),
    ('GET', '/v2/nothing_here', None),
    ('GET', '/v2/device_profiles', None),
    ('GET', '/v2/device_profiles?name={dp_name}', None),
    ('GET', '/v2/device_profiles/{dp}', None),
    ('GET', '/v2/device_profiles/{dp_name}', None),
    ('GET', '/device_profiles/{dp}', None),
    ('PUT', '/v2/device_profiles', {}),
    ('DELETE', '/v2/device_profiles/{missing}', None),
    ('GET', '/v2/accelerator_requests', None),
    ('GET', '/v2/accelerator_requests?instance={missing}', None),
    ('GET', '/v2/accelerator_requests/{arq}', None),
    ('GET', '/v2/accelerator_requests/{arq}/', None),
    ('GET', '/accelerator_requests/{arq}', None),
    ('GET', '/v2/accelerator_requests/{arq}/extra', None),
    ('GET', '/v2/accelerator_requests/new', None),
    ('GET', '/v2/accelerator_requests/{arq}/edit', None),
    ('GET', '/v2/accelerator_requests?_method=DELETE', None),
    ('POST', '/v2/accelerator_requests/{arq}', {}),
    ('PATCH', '/v2/accelerator_requests/{arq}', {}),
    ('DELETE', '/v2/accelerator_requests/{missing}', None),
    ('GET', '/v2/devices', None),
    ('GET', '/v2/devices/{dev}', None),
    ('POST', '/v2/devices/{dev}/enable', None),
    ('POST', '/v2/devices/{dev}/disable', {}),
    ('GET', '/v2/devices/{dev}/enable', None),
    ('PUT', '/v2/devices/{dev}/enable', {}),
    ('POST', '/v2/devices/{dev}/reboot', {}),
    ('GET', '/v2/devices/get_one', None),
    ('GET', '/v2/devices/_lookup', None),
    ('GET', '/v2/deployables', None),
    ('GET', '/v2/deployables/{dep}', None),
    ('PATCH', '/v2/deployables/{dep}/program', PROGRAM),
    ('PATCH', '/v2/deployables/{dep}/reset', PROGRAM),
    ('PATCH', '/v2/deployables/{dep}', PROGRAM),
    ('GET', '/v2/attributes', None),
    ('GET', '/v2/attributes/{attr}', None),
    ('GET', '/v2/attributes/{attr_id}', None),
    ('GET', '/v2/{project}/cloudservers/fpga_image', None),
    ('POST', '/v2/{project}/cloudservers/fpga_image', {}),
    ('GET', '/v1/{project}/cloudservers/fpga_image/detail', None),
    ('GET', '/v1/{project}/cloudservers/fpga_image/associations', None),
    ('DELETE', '/v1/{project}/cloudservers/fpga_image/{image}', None),
    ('POST', '/v1/{project}/cloudservers/fpga_image/{image}/association',
     {}),
    ('GET', '/v1/{project}/cloudservers/other', None),
    ('GET', '/v1', None),
]


def pecan_app(app):
    while not isinstance(app, core.PecanBase):
        app = app.application
    return app


@pytest.fixture
def ids(conf):
    """Two sets of ids, each naming a real resource of every kind."""
    for name in ('gpu-a', 'gpu-b'):
        device_profile.DeviceProfile.create(
            name=name, groups=[{'resources:FPGA': '1'}])
    arqs = [arq_obj.ARQ.create_from_profile(name, 'admin')[0]
            for name in ('gpu-a', 'gpu-b')]
    for host in ('host-a', 'host-b'):
        report_fake_host(conf, host)
    devices = device.Device.list()
    deployables = deployable.Deployable.list()
    attributes = [attribute.Attribute.create(d.id, 'k', 'v')
                  for d in deployables]
    profiles = device_profile.DeviceProfile.list()
    return [
        {'dp': profiles[n].uuid, 'dp_name': profiles[n].name,
         'arq': arqs[n].uuid, 'dev': devices[n].uuid,
         'dep': deployables[n].uuid, 'attr': attributes[n].uuid,
         'attr_id': str(attributes[n].id), 'missing': str(uuid.uuid4()),
         'project': uuid.uuid4().hex, 'image': uuid.uuid4().hex}
        for n in (0, 1)]


@pytest.fixture
def apps(conf, conductor):
    """(app with the memo, its memo, the same app without it)."""
    cached = api_app.setup_app(conf, conductor_api=conductor)
    plain = api_app.setup_app(conf, conductor_api=conductor)
    del pecan_app(plain).route  # back to Pecan's own method
    return (Api(webtest.TestApp(cached)), pecan_app(cached).route,
            Api(webtest.TestApp(plain)))


def answer(api, method, path, body, accept=None):
    headers = {'OpenStack-API-Version': 'accelerator latest'}
    if accept is not None:
        headers['Accept'] = accept
    response = api.request(method, path, body=body, headers=headers)
    return (response.status, response.headers.get('Allow'),
            response.content_type, response.body)


@pytest.mark.parametrize('accept', [
    None, 'application/json', '*/*', 'text/html', 'text/plain',
    'application/json, text/html;q=0.5', 'text/html,application/json'])
def test_every_route_answers_as_without_the_memo(ids, apps, accept):
    cached, memo, plain = apps
    counting = CountingRoute(memo)
    for id_set in ids + ids:  # first time (misses), then hits
        for method, template, body in ROUTES:
            path = template.format(**id_set)
            assert answer(cached, method, path, body, accept) == answer(
                plain, method, path, body, accept), (method, path)
    assert counting.calls < 2 * len(ROUTES)  # the memo did answer some


class CountingRoute:
    """Counts the calls the memo makes to Pecan's routing."""

    def __init__(self, memo):
        self.calls = 0
        original = memo._route

        def route(*args):
            self.calls += 1
            return original(*args)
        memo._route = route


def test_a_request_of_a_known_shape_skips_pecans_routing(ids, apps):
    cached, memo, _ = apps
    counting = CountingRoute(memo)
    for id_set in ids:
        cached.get('/v2/accelerator_requests/%s' % id_set['arq'],
                   status=200)
        cached.post('/v2/devices/%s/enable' % id_set['dev'], body={},
                    status=200)
    assert counting.calls == 2


@pytest.mark.parametrize('method, path, status, allow', [
    ('GET', '/v2/nothing_here', 404, None),
    ('GET', '/v1', 404, None),
    ('GET', '/v2/%s/cloudservers/other' % ('5e' * 16), 404, None),
    ('DELETE', '/v2', 405, 'GET'),
    ('PUT', '/v2/device_profiles', 405, 'DELETE, GET, POST'),
])
def test_refusals_are_unchanged_and_never_kept(apps, method, path, status,
                                               allow):
    cached, memo, plain = apps
    before = len(memo)
    for _ in range(2):
        response = cached.request(method, path, status=status)
        assert response.headers.get('Allow') == allow
        assert answer(cached, method, path, None) == answer(
            plain, method, path, None)
    assert len(memo) == before


def test_made_up_names_cannot_grow_it(conf, conductor):
    app = api_app.setup_app(conf, conductor_api=conductor)
    pecan = pecan_app(app)
    del pecan.route
    memo = routing_cache.install(pecan, max_entries=8)
    api = Api(webtest.TestApp(app))
    for number in range(40):
        api.get('/v2/device_profiles/made-up-%d' % number, status=406)
    assert len(memo) == 8
