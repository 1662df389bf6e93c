"""DCPs as the real kits write them, from upload to a card: Huawei FP1's
manifest.json (subsystem ids "-") and AWS F1's manifest.txt, built by the
factory and loaded at bind time by the huawei_vu9p driver through a fake
FpgaCmdEntry. The API, a conductor and the agent run in this process over
the ``fake://`` transport; Nova is a recorder on a loopback port."""

import hashlib
import os
import tarfile
import time

import pytest

from cyborg_clone.common import context
from cyborg_clone.objects import deployable as deployable_obj
from tests.fixtures import dcp
from tests.fixtures import vu9p_host
from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import bind_patch
from tests.functional import in_process
from tests.functional.test_fpga_image_build import BUCKET
from tests.functional.test_fpga_image_build import create
from tests.functional.test_fpga_image_build import wait_finished
from tests.nova_recorder import NovaRecorder
from tests.nova_recorder import configure_nova

INSTANCE = '5b1e9c3a-7f64-4c2e-9d0b-2a6f8e4c1d70'
SHELL = vu9p_host.SHELLS[0]
CHOSEN_DCP = b'the routed design the manifest names\n' * 64
OLDER_DCP = b'an older build left in to_aws\n' * 64


@pytest.fixture
def fp1_host(conf, tmp_path):
    """This host's sysfs with two FP1 shells; FpgaCmdEntry loads the image
    factory's images (its catalog is the image store)."""
    overrides = vu9p_host.build(
        tmp_path / 'sys-root', tmp_path / 'bin', tmp_path / 'fp1-state',
        conf.image_store.file_root, poll_interval=0.01, load_polls=1)
    for (group, name), value in overrides.items():
        conf.set_override(name, value, group=group)
    conf.set_override('enabled_drivers', ['huawei_vu9p'], group='agent')
    return tmp_path / 'fp1-state'


@pytest.fixture
def cloud(conf, fp1_host):
    os.makedirs(os.path.join(conf.object_store.file_root, BUCKET, 'vu9p'))
    with NovaRecorder() as nova:
        configure_nova(conf, nova)
        with in_process.cloud(conf, with_agent=True) as (api, agent):
            agent.report_once(context.get_admin_context())
            yield api


def upload(conf, **tarball):
    dcp.make_dcp_tarball(os.path.join(conf.object_store.file_root, BUCKET,
                                      'vu9p', 'dcp.tar'), **tarball)


def shell_deployable(api):
    name = 'testhost_' + SHELL.address
    for _ in range(200):
        listed = {d['name']: d for d in api.get(
            '/v2/deployables', status=200).json['deployables']}
        if name in listed:
            return listed[name]
        time.sleep(0.02)
    raise AssertionError('the agent never reported %s' % name)


def bind_with_image(api, image_id):
    """Bind one ARQ asking for ``image_id`` to the first shell, as Nova
    does; the ARQ once resolved."""
    shell = shell_deployable(api)
    api.post('/v2/device_profiles', [{'name': 'fp1', 'groups': [
        {'resources:FPGA': '1', 'trait:CUSTOM_FPGA_HUAWEI_VU9P': 'required',
         'accel:bitstream_id': image_id}]}], status=201)
    [arq] = api.post('/v2/accelerator_requests',
                     {'device_profile_name': 'fp1'},
                     status=201).json['arqs']
    api.patch('/v2/accelerator_requests', bind_patch(
        [arq], 'testhost', deployable_obj.rp_uuid_for(shell['name']),
        INSTANCE), headers=SERVICE, status=202)
    deadline = time.monotonic() + 30
    path = ('/v2/accelerator_requests?instance=%s&bind_state=resolved'
            % INSTANCE)
    while time.monotonic() < deadline:
        response = api.get(path)
        if response.status_int == 200:
            [resolved] = response.json['arqs']
            return resolved
        assert response.status_int == 423, response.text
        time.sleep(0.05)
    raise AssertionError('the ARQ never resolved')


def assert_loaded_through_fpga_cmd_entry(api, fp1_state, image_id):
    calls = (fp1_state / 'calls.log').read_text().splitlines()
    assert 'LF -S 0 -I ' + image_id in calls
    assert shell_deployable(api)['bitstream_id'] == image_id


def packaged(conf, image_id):
    """The members of the stored image, by name."""
    path = os.path.join(conf.image_store.file_root, image_id)
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_an_fp1_kit_dcp_with_dash_subsystem_ids_binds(conf, cloud,
                                                      fp1_host):
    upload(conf, manifest=dcp.fp1_kit_manifest_for())
    image_id = create(cloud)

    item = wait_finished(cloud, image_id)

    assert item['status'] == 'active', item['message']
    metadata = item['metadata']
    assert metadata['fpga_chip'] == 'vu9p'
    assert metadata['pci_vendor_id'] == '0x19e5'
    # "-" means not set: no such key, never a "-" value.
    assert 'pci_subsystem_id' not in metadata
    assert 'pci_subsystem_vendor_id' not in metadata
    assert '-' not in metadata.values()

    arq = bind_with_image(cloud, image_id)

    assert arq['state'] == 'Bound', arq
    assert arq['attach_handle_type'] == 'PCI'
    assert_loaded_through_fpga_cmd_entry(cloud, fp1_host, image_id)


def test_an_f1_manifest_txt_picks_its_design_and_binds(conf, cloud,
                                                       fp1_host):
    # The HDK's to_aws directory, holding an older build beside the one
    # the manifest's dcp_file_name names.
    chosen = '18_09_13-104247.SH_CL_routed.dcp'
    upload(conf, manifest=dcp.f1_manifest_for(CHOSEN_DCP, dcp_name=chosen),
           manifest_name='manifest.txt', directory='to_aws',
           dcp_name='18_09_12-091500.SH_CL_routed.dcp', dcp_bytes=OLDER_DCP,
           extra_members=[('to_aws/' + chosen, CHOSEN_DCP)])
    image_id = create(cloud)

    item = wait_finished(cloud, image_id)

    assert item['status'] == 'active', item['message']
    assert item['metadata']['fpga_chip'] == 'vu9p'
    assert item['metadata']['pci_subsystem_id'] == '0x1D51'
    assert item['metadata']['tool_version'] == 'v2017.4'
    files = packaged(conf, image_id)
    assert files['design.dcp'] == CHOSEN_DCP
    assert files['manifest.txt'].startswith(b'manifest_format_version=2')
    assert item['metadata']['dcp_sha256'] == (
        hashlib.sha256(CHOSEN_DCP).hexdigest())

    arq = bind_with_image(cloud, image_id)

    assert arq['state'] == 'Bound', arq
    assert_loaded_through_fpga_cmd_entry(cloud, fp1_host, image_id)
