"""openstacksdk's accelerator proxy, unchanged, against a real all-in-one.

This is the client python-cyborgclient (``openstack accelerator ...``) is
built on. The flow is Nova's: create a profile, create ARQs, bind, poll
until resolved, unbind, delete; then every other resource the proxy knows.
The bind names Nova's compute node (NODE), not the agent's host.
"""

import uuid

import openstack
import pytest

from cyborg_clone.clients import image_store
from tests.fixtures.arq_requests import bind_ops
from tests.fixtures.arq_requests import unbind_ops
from tests.functional import processes

pytestmark = pytest.mark.slow

HOST = 'sdk-host'
# Nova's host.nodename: an FQDN the service never heard of.
NODE = 'compute-12.az1.example.net'
# An image in the all-in-one's image store, written as a Glance UUID.
IMAGE = 'a6a12670-7014-4cff-a563-cea949b57fb3'
INSTANCE = '6c3ab26c-2b6c-4c1a-a3e1-7a0f1b7f5c11'


@pytest.fixture(scope='module')
def conn(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('sdk')
    bitstream = tmp_path / 'bitstream.bin'
    bitstream.write_bytes(b'sdk bitstream')
    image_store.FileImageStore(str(tmp_path / 'images')).put(
        IMAGE.replace('-', ''), str(bitstream), {})
    with processes.all_in_one(tmp_path, HOST) as (process, url):
        # Version discovery finds /v2 from the document at /, as it does
        # against Keystone's catalog entry.
        connection = openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type='none',
            accelerator_endpoint_override=url)
        processes.wait_until(lambda: list(connection.accelerator
                                          .deployables()),
                             message='the agent reported its device')
        yield connection
        assert process.stop() == 0, process.log()


def test_nova_flow(conn):
    accel = conn.accelerator
    profile = accel.create_device_profile(
        name='sdk-dp', groups=[{'resources:FPGA': '1',
                                'trait:CUSTOM_FAKE_DEVICE': 'required'}])
    assert accel.get_device_profile(profile.uuid).name == 'sdk-dp'
    assert [p.name for p in accel.device_profiles()] == ['sdk-dp']

    arq = accel.create_accelerator_request(device_profile_name='sdk-dp')
    assert arq.state == 'Initial'
    [deployable] = accel.deployables()
    # Nova takes the provider from Placement; its uuid derives from the
    # deployable's name (the SDK's Deployable has no rp_uuid field).
    rp_uuid = str(uuid.uuid3(uuid.NAMESPACE_DNS, deployable.name))

    assert NODE not in {d.hostname for d in accel.devices()}
    accel.patch_accelerator_request(arq, bind_ops(NODE, rp_uuid, INSTANCE))
    bound = processes.wait_until(
        lambda: _resolved(accel.get_accelerator_request(arq.uuid)),
        message='the ARQ resolved')
    assert bound.state == 'Bound'
    assert bound.hostname == NODE
    assert bound.instance_uuid == INSTANCE
    assert bound.attach_handle_type == 'TEST_PCI'
    assert set(bound.attach_handle_info) == {'domain', 'bus', 'device',
                                             'function'}

    accel.patch_accelerator_request(arq, unbind_ops())
    unbound = accel.get_accelerator_request(arq.uuid)
    assert unbound.state == 'Unbound'
    assert unbound.attach_handle_info == {}

    accel.delete_accelerator_request(arq, ignore_missing=False)
    assert list(accel.accelerator_requests()) == []
    accel.delete_device_profile(profile, ignore_missing=False)
    assert list(accel.device_profiles()) == []


def test_a_provider_naming_no_deployable_is_refused(conn):
    accel = conn.accelerator
    profile = accel.create_device_profile(
        name='sdk-refused-dp', groups=[{'resources:FPGA': '1'}])
    arq = accel.create_accelerator_request(
        device_profile_name='sdk-refused-dp')
    unknown_rp = str(uuid.uuid4())

    with pytest.raises(openstack.exceptions.BadRequestException) as error:
        accel.patch_accelerator_request(
            arq, bind_ops(NODE, unknown_rp, INSTANCE))
    assert 'device_rp_uuid %s names no accelerator' % unknown_rp in str(
        error.value)
    untouched = accel.get_accelerator_request(arq.uuid)
    assert (untouched.state, untouched.hostname, untouched.device_rp_uuid,
            untouched.instance_uuid) == ('Initial', None, None, None)

    accel.delete_accelerator_request(arq, ignore_missing=False)
    accel.delete_device_profile(profile, ignore_missing=False)


def test_create_takes_a_device_profile_group_id(conn):
    accel = conn.accelerator
    profile = accel.create_device_profile(
        name='sdk-groups-dp', groups=[{'resources:FPGA': '2'},
                                      {'resources:FPGA': '1'}])
    arq = accel.create_accelerator_request(
        device_profile_name='sdk-groups-dp', device_profile_group_id=1)
    assert arq.device_profile_group_id == 1
    created = [a for a in accel.accelerator_requests()
               if a.device_profile_name == 'sdk-groups-dp']
    assert [a.device_profile_group_id for a in created] == [1]
    with pytest.raises(openstack.exceptions.BadRequestException) as error:
        accel.create_accelerator_request(
            device_profile_name='sdk-groups-dp', device_profile_group_id=2)
    assert 'device_profile_group_id 2 is out of range' in str(error.value)

    accel.delete_accelerator_request(arq, ignore_missing=False)
    accel.delete_device_profile(profile, ignore_missing=False)


def _resolved(arq):
    return arq if arq.state in ('Bound', 'BindFailed') else None


def test_hardware_resources(conn):
    accel = conn.accelerator
    [device] = accel.devices()
    assert device.hostname == HOST
    assert accel.get_device(device.uuid).vendor == '0xABCD'
    accel.disable_device(device)
    accel.enable_device(device)

    [deployable] = accel.deployables()
    programmed = accel.patch_deployable(deployable, [{
        'path': '/program', 'op': 'replace',
        'value': [{'image_uuid': IMAGE}]}])
    assert programmed.name == HOST + '_FakeDevice'
    # The proxy's Deployable has no bitstream_id; the raw body does.
    raw = accel.get('/deployables/%s' % deployable.id).json()
    assert raw['bitstream_id'] == IMAGE.replace('-', '')

    [rc] = [a for a in accel.attributes() if a.key == 'rc']
    created = accel.create_attribute(deployable_id=rc.deployable_id,
                                     key='sdk-key', value='sdk-value')
    assert accel.get_attribute(created.uuid).value == 'sdk-value'
    assert 'sdk-key' in {a.key for a in accel.attributes()}
    accel.delete_attribute(created, ignore_missing=False)
    assert 'sdk-key' not in {a.key for a in accel.attributes()}


def test_errors_reach_the_sdk_as_exceptions(conn):
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        conn.accelerator.get_accelerator_request(INSTANCE)
    with pytest.raises(openstack.exceptions.BadRequestException) as error:
        conn.accelerator.create_device_profile(name='bad name',
                                               groups=[])
    assert 'name' in str(error.value)
