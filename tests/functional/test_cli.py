"""``openstack accelerator ...`` (python-cyborgclient on
python-openstackclient), unchanged, against a real all-in-one.

``arq bind`` and ``deployable program`` first look the server and image
up in Nova and Glance, which a lone accelerator service does not have;
the bind itself is covered through openstacksdk in test_openstacksdk.py.
"""

import json
import os
import subprocess
import uuid

import pytest

from tests.functional import processes

pytestmark = pytest.mark.slow

HOST = 'cli-host'


@pytest.fixture(scope='module')
def openstack(tmp_path_factory):
    with processes.all_in_one(tmp_path_factory.mktemp('cli'),
                              HOST) as (process, url):
        def run(*args):
            """The command's JSON output (or None when it prints none)."""
            command = [os.path.join(processes.BIN_DIR, 'openstack'),
                       '--os-auth-type', 'none', '--os-endpoint', url,
                       'accelerator', *args]
            result = subprocess.run(command, capture_output=True,
                                    text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout) if result.stdout else None
        processes.wait_until(lambda: run('deployable', 'list', '-f',
                                         'json'),
                             message='the agent reported its device')
        yield run
        assert process.stop() == 0, process.log()


def test_device_profiles_and_arqs(openstack):
    created = openstack('device', 'profile', 'create', 'cli-dp', '--group',
                        'resources:FPGA=1,trait:CUSTOM_FAKE_DEVICE=required',
                        '-f', 'json')
    assert created['groups'] == [{'resources:FPGA': '1',
                                  'trait:CUSTOM_FAKE_DEVICE': 'required'}]
    listed = openstack('device', 'profile', 'list', '-f', 'json')
    assert [p['name'] for p in listed] == ['cli-dp']

    arq = openstack('arq', 'create', 'cli-dp', '-f', 'json')
    assert arq['state'] == 'Initial'
    shown = openstack('arq', 'show', arq['uuid'], '-f', 'json')
    assert shown['device_profile_name'] == 'cli-dp'
    assert [a['uuid'] for a in openstack('arq', 'list', '-f', 'json')] == [
        arq['uuid']]
    openstack('arq', 'unbind', arq['uuid'], '-f', 'json')
    assert openstack('arq', 'show', arq['uuid'], '-f',
                     'json')['state'] == 'Unbound'
    openstack('arq', 'delete', arq['uuid'])
    assert openstack('arq', 'list', '-f', 'json') == []

    openstack('device', 'profile', 'delete', created['uuid'])
    assert openstack('device', 'profile', 'list', '-f', 'json') == []


def test_devices_deployables_and_attributes(openstack):
    [device] = openstack('device', 'list', '-f', 'json')
    openstack('device', 'disable', device['uuid'])
    openstack('device', 'enable', device['uuid'])
    assert openstack('device', 'show', device['uuid'], '-f',
                     'json')['hostname'] == HOST

    [deployable] = openstack('deployable', 'list', '-f', 'json')
    shown = openstack('deployable', 'show', deployable['uuid'], '-f',
                      'json')
    assert shown['name'] == HOST + '_FakeDevice'
    assert str(uuid.UUID(shown['uuid'])) == deployable['uuid']

    listed = openstack('device', 'attribute', 'list', '-f', 'json')
    [rc] = [a for a in listed if a['key'] == 'rc']
    created = openstack('device', 'attribute', 'create',
                        str(rc['deployable_id']), 'owner', 'team-a',
                        '-f', 'json')
    assert created['value'] == 'team-a'
    openstack('device', 'attribute', 'delete', created['uuid'])
    keys = {a['key'] for a in openstack('device', 'attribute', 'list',
                                        '-f', 'json')}
    assert keys == {'rc', 'traits1'}
