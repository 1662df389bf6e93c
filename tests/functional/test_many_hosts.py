"""Many hosts, many processes: the API, a conductor and three agents as
separate OS processes over a real RabbitMQ, sharing one SQLite database.

- compute-0: two Alveo cards (xilinx) and two FP1 VU9P shells (huawei_vu9p)
- compute-1: a PAC Arria 10 with VFs and an N3000 (intel_opae)
- compute-2: the fake driver

Each agent reads its own fixture sysfs tree and runs the fake vendor tools
through a real oslo.privsep daemon, as in production. Nova is a recorder on
a loopback port.
"""

import contextlib
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from cyborg_clone.clients import image_store
from tests.fixtures import dcp
from tests.fixtures import opae_host
from tests.fixtures import vu9p_host
from tests.fixtures import xilinx_host
from tests.functional import processes
from tests.nova_recorder import NovaRecorder

pytestmark = pytest.mark.slow

SERVICE = {'X-User-Id': 'nova', 'X-Project-Id': 'service',
           'X-Roles': 'member', 'X-Service-Roles': 'service'}
MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
BUCKET = 'obs-fpga'
VU9P_SHELL = 'compute-0_' + vu9p_host.SHELLS[0].address
XILINX_CARD = 'compute-0_' + xilinx_host.U250.mgmt
ARRIA10 = 'compute-1_' + opae_host.ARRIA10.pf
FAKE_CARD = 'compute-2_FakeDevice'
UNCHANGED = re.compile(
    r'Report of host (compute-\d) unchanged \((\d+) SQL statements\)')


class Api:
    """A small JSON client of the API process."""

    def __init__(self, url):
        self.url = url

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers=dict({'Content-Type': 'application/json',
                          'OpenStack-API-Version': 'accelerator 2.3'},
                         **(headers or {})))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def ok(self, method, path, body=None, headers=None, status=200):
        got, answer = self.request(method, path, body, headers)
        assert got == status, (method, path, got, answer)
        return answer


@pytest.fixture
def cloud(tmp_path, rabbitmq_url):
    """The running processes; yields (Api, NovaRecorder, conductor)."""
    shared = tmp_path / 'cloud'
    shared.mkdir()
    common = {
        'DEFAULT': {'transport_url': rabbitmq_url, 'debug': 'true'},
        'database': {'connection': 'sqlite:///%s'
                                   % (shared / 'cyborg_clone.sqlite')},
        'image_store': {'file_root': str(shared / 'images')},
        'object_store': {'file_root': str(shared / 'buckets')},
        'agent': {'report_interval': 1},
    }
    with contextlib.ExitStack() as stack:
        nova = stack.enter_context(NovaRecorder())
        port = processes.free_port()
        control = _config(shared, common, {
            'api': {'port': port, 'auth_strategy': 'noauth'},
            'nova': {'auth_type': 'none', 'endpoint_override': nova.url,
                     'event_retry_delay': 0},
            'conductor': {'program_timeout': 60},
        })
        subprocess.run([os.path.join(processes.BIN_DIR,
                                     'cyborg-clone-dbsync'),
                        '--config-file', control, 'upgrade'],
                       check=True, capture_output=True)
        api = stack.enter_context(
            processes.Process('cyborg-clone-api', control, shared))
        conductor = stack.enter_context(
            processes.Process('cyborg-clone-conductor', control, shared))
        for host, drivers, overrides in _hosts(tmp_path, shared):
            directory = tmp_path / host
            config = _config(directory, common, {
                'DEFAULT': {'host': host},
                'agent': {'enabled_drivers': ','.join(drivers)},
                'privsep': {'helper_command': '%s --config-file %s' % (
                    os.path.join(processes.BIN_DIR, 'privsep-helper'),
                    directory / 'cyborg_clone.conf')},
            }, overrides)
            stack.enter_context(processes.Process(
                'cyborg-clone-agent', config, directory))
        url = 'http://127.0.0.1:%d' % port
        processes.wait_for_http(api, url + '/')
        yield Api(url), nova, conductor


def _hosts(tmp_path, shared):
    """(host name, drivers, {(group, option): value}) of each agent."""
    images = str(shared / 'images')
    os.makedirs(images, exist_ok=True)

    def paths(host):
        base = tmp_path / host
        return base / 'sys-root', base / 'bin', base / 'tools'

    root, bin_dir, tools = paths('compute-0')
    compute0 = dict(xilinx_host.build(root, bin_dir, tools / 'xrt',
                                      'compute-0', foreign_devices=False))
    # The FP1 tool loads by AEI id from Huawei's image service; here the
    # factory's image store plays that part.
    compute0.update(vu9p_host.build(root, bin_dir, tools / 'fp1', images))
    root, bin_dir, tools = paths('compute-1')
    compute1 = dict(opae_host.build(root, bin_dir, tools, 'compute-1'))
    return [('compute-0', ['xilinx', 'huawei_vu9p'], compute0),
            ('compute-1', ['intel_opae'], compute1),
            ('compute-2', ['fake'], {})]


def _config(directory, common, *layers):
    sections = {name: dict(options) for name, options in common.items()}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(key, tuple):
                group, option = key
                sections.setdefault(group, {})[option] = value
            else:
                sections.setdefault(key, {}).update(value)
    sections['DEFAULT'].setdefault('state_path', str(directory))
    os.makedirs(directory, exist_ok=True)
    return processes.write_config(str(directory), sections)


def deployables_by_name(api):
    return {d['name']: d for d in
            api.ok('GET', '/v2/deployables')['deployables']}


def build_vu9p_image(api, shared_buckets):
    """An FPGA image made by the factory from a DCP tarball; its id."""
    os.makedirs(os.path.join(shared_buckets, BUCKET, 'vu9p'), exist_ok=True)
    dcp.make_dcp_tarball(os.path.join(shared_buckets, BUCKET, 'vu9p',
                                      'dcp.tar'))
    image_id = api.ok('POST', '/v2/p1/cloudservers/fpga_image', {
        'fpga_image': {'dcp_location': BUCKET + ':vu9p/dcp.tar',
                       'log_directory': 'vu9p/log', 'name': 'vu9p-img'}},
        headers=MEMBER)['fpga_image']['id']

    def finished():
        [item] = api.ok('GET', '/v1/p1/cloudservers/fpga_image/detail'
                               '?fpga_image_id=' + image_id,
                        headers=MEMBER)['fpgaimages']
        return item if item['status'] in ('active', 'error') else None

    item = processes.wait_until(finished, timeout=60,
                                message='the FPGA image build')
    assert item['status'] == 'active', item
    return image_id


def bind(api, instance, deployable, group):
    """Create and bind one ARQ as nova does; the ARQ once resolved."""
    name = 'dp-' + instance[-4:]
    api.ok('POST', '/v2/device_profiles', [{'name': name, 'groups': [
        dict(group, **{'resources:FPGA': '1'})]}], status=201)
    [arq] = api.ok('POST', '/v2/accelerator_requests',
                   {'device_profile_name': name}, status=201)['arqs']
    host = deployable['name'].split('_', 1)[0]
    api.ok('PATCH', '/v2/accelerator_requests', {arq['uuid']: [
        {'op': 'add', 'path': '/hostname', 'value': host},
        {'op': 'add', 'path': '/device_rp_uuid',
         'value': deployable['rp_uuid']},
        {'op': 'add', 'path': '/instance_uuid', 'value': instance}]},
        headers=SERVICE, status=202)

    def resolved():
        status, answer = api.request(
            'GET', '/v2/accelerator_requests?instance=%s&bind_state='
                   'resolved' % instance)
        return answer['arqs'][0] if status == 200 else None

    return processes.wait_until(resolved, timeout=90,
                                message='binding of ' + instance)


def instance_uuid(number):
    return '00000000-0000-4000-8000-%012d' % number


def test_three_hosts_discover_bind_and_program(cloud, tmp_path):
    api, nova, conductor = cloud
    expected = {XILINX_CARD, 'compute-0_' + xilinx_host.U280.mgmt,
                VU9P_SHELL, 'compute-0_' + vu9p_host.SHELLS[1].address,
                ARRIA10, 'compute-1_' + opae_host.N3000.pf, FAKE_CARD}
    found = processes.wait_until(
        lambda: (lambda d: d if set(d) >= expected else None)(
            deployables_by_name(api)),
        timeout=60, message='discovery from the three hosts')
    assert set(found) == expected
    by_host = {name.split('_', 1)[0] for name in found}
    assert by_host == {'compute-0', 'compute-1', 'compute-2'}
    assert found[ARRIA10]['num_accelerators'] == len(opae_host.ARRIA10.vfs)

    # An image built by the factory loads onto the VU9P card at bind time.
    image_id = build_vu9p_image(api, str(tmp_path / 'cloud' / 'buckets'))
    vu9p = bind(api, instance_uuid(1), found[VU9P_SHELL],
                {'accel:bitstream_id': image_id})
    assert vu9p['state'] == 'Bound', vu9p
    assert vu9p['attach_handle_type'] == 'PCI'
    programmed = deployables_by_name(api)[VU9P_SHELL]
    assert programmed['bitstream_id'] == image_id
    assert programmed['uuid'] == found[VU9P_SHELL]['uuid']

    # An image built for another region is refused by the OPAE host.
    wrong = tmp_path / 'wrong.gbs'
    opae_host.make_gbs(str(wrong), 'f' * 32, 'a' * 32)
    wrong_id = 'badbadbadbadbadbadbadbadbadbad00'
    image_store.FileImageStore(str(tmp_path / 'cloud' / 'images')).put(
        wrong_id, str(wrong), {})
    opae = bind(api, instance_uuid(2), found[ARRIA10],
                {'accel:bitstream_id': wrong_id})
    assert opae['state'] == 'BindFailed', opae
    [reason] = re.findall('ARQ %s failed to bind: (.*)' % opae['uuid'],
                          conductor.log())
    assert wrong_id in reason and 'interface' in reason, reason

    # Binds without a bitstream succeed on every host, unharmed.
    for number, name in ((3, XILINX_CARD), (4, FAKE_CARD),
                         (5, 'compute-1_' + opae_host.N3000.pf)):
        arq = bind(api, instance_uuid(number), found[name], {})
        assert arq['state'] == 'Bound', (name, arq)
    arqs = api.ok('GET', '/v2/accelerator_requests')['arqs']
    assert {a['instance_uuid']: a['state'] for a in arqs} == {
        instance_uuid(1): 'Bound', instance_uuid(2): 'BindFailed',
        instance_uuid(3): 'Bound', instance_uuid(4): 'Bound',
        instance_uuid(5): 'Bound'}

    # Nova heard about every instance, the failed one included.
    def all_events():
        events = {e['server_uuid']: e['status'] for e in nova.events}
        return events if len(events) == 5 else None

    events = processes.wait_until(all_events, timeout=30,
                                  message="nova's events")
    assert events[instance_uuid(2)] == 'failed'
    assert events[instance_uuid(1)] == 'completed'

    # Unchanged reports (every second) cost the same few statements.
    def unchanged_counts():
        counts = {}
        for host, count in UNCHANGED.findall(conductor.log()):
            counts.setdefault(host, []).append(int(count))
        return counts if all(len(counts.get('compute-%d' % i, ())) >= 3
                             for i in range(3)) else None

    counts = processes.wait_until(unchanged_counts, timeout=30,
                                  message='three unchanged reports per host')
    flat = [c for host_counts in counts.values() for c in host_counts]
    assert len(set(flat)) == 1, counts
    assert flat[0] <= 3, counts
