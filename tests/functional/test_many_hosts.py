"""Many hosts, many processes: the API, a conductor and three agents as
separate OS processes over a real RabbitMQ (``tests/functional/multi_host``),
discovering, binding and programming. Nova is a recorder on a loopback port.
"""

import contextlib
import os
import re

import pytest

from cyborg_clone.clients import image_store
from tests.fixtures import dcp
from tests.fixtures import opae_host
from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import bind_patch
from tests.functional import multi_host
from tests.functional import processes
from tests.functional.multi_host import ARRIA10
from tests.functional.multi_host import FAKE_CARD
from tests.functional.multi_host import N3000
from tests.functional.multi_host import VU9P_SHELL
from tests.functional.multi_host import XILINX_CARD
from tests.functional.multi_host import deployables_by_name
from tests.functional.multi_host import instance_uuid
from tests.nova_recorder import NovaRecorder

pytestmark = pytest.mark.slow

MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
BUCKET = 'obs-fpga'
UNCHANGED = re.compile(
    r'Report of host (compute-\d) unchanged \((\d+) SQL statements\)')


@pytest.fixture
def cloud(tmp_path, rabbitmq_url):
    """The running processes; yields (Api, NovaRecorder, conductor)."""
    with contextlib.ExitStack() as stack:
        nova = stack.enter_context(NovaRecorder())
        api, conductor, _ = multi_host.start(stack, tmp_path, rabbitmq_url, {
            'nova': {'auth_type': 'none', 'endpoint_override': nova.url,
                     'event_retry_delay': 0}})
        yield api, nova, conductor


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
    api.ok('PATCH', '/v2/accelerator_requests',
           bind_patch([arq], host, deployable['rp_uuid'], instance),
           headers=SERVICE, status=202)

    def resolved():
        status, answer = api.request(
            'GET', '/v2/accelerator_requests?instance=%s&bind_state='
                   'resolved' % instance)
        return answer['arqs'][0] if status == 200 else None

    return processes.wait_until(resolved, timeout=90,
                                message='binding of ' + instance)



def test_three_hosts_discover_bind_and_program(cloud, tmp_path):
    api, nova, conductor = cloud
    found = multi_host.discovered(api)
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
                         (5, N3000)):
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
