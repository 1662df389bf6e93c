"""cyborg-clone-all-in-one as a real process: the first README command."""

import json
import os
import urllib.request

import pytest

from tests.fixtures import opae_host
from tests.fixtures.arq_requests import bind_patch
from tests.functional import processes

pytestmark = pytest.mark.slow

HOST = 'aio-test-host'
INSTANCE = '6a2f6c9e-4d7b-4a51-9c1e-2f3e1b8d0a11'


def request(method, url, body=None):
    """(status, decoded JSON or None) of one request."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as response:
        text = response.read()
        return response.status, json.loads(text) if text else None


@pytest.fixture
def all_in_one(tmp_path):
    with processes.all_in_one(tmp_path, HOST) as running:
        yield running


def fake_deployable(url):
    deployables = request('GET', url + '/v2/deployables')[1]['deployables']
    return next((d for d in deployables
                 if d['name'] == HOST + '_FakeDevice'), None)


def bind_one_arq(url, rp_uuid):
    request('POST', url + '/v2/device_profiles',
            [{'name': 'dp', 'groups': [{'resources:FPGA': '1'}]}])
    arq = request('POST', url + '/v2/accelerator_requests',
                  {'device_profile_name': 'dp'})[1]['arqs'][0]
    status, _ = request('PATCH', url + '/v2/accelerator_requests',
                        bind_patch([arq], HOST, rp_uuid, INSTANCE))
    assert status == 202
    return url + '/v2/accelerator_requests/' + arq['uuid']


def test_all_in_one_reports_binds_and_stops_on_sigterm(all_in_one):
    process, url = all_in_one

    # Agent -> conductor (a cast) -> database -> API.
    deployable = processes.wait_until(
        lambda: fake_deployable(url), message='fake deployable listed')

    # API -> conductor: the bind is a cast that a conductor green thread
    # in the same process picks up from the fake:// transport.
    arq_url = bind_one_arq(url, deployable['rp_uuid'])
    processes.wait_until(
        lambda: request('GET', arq_url)[1]['state'] == 'Bound',
        message='ARQ bound')

    assert process.stop() == 0, process.log()


def test_all_in_one_runs_the_drivers_it_is_told_to(tmp_path):
    host = opae_host.build(tmp_path / 'sys-root', tmp_path / 'bin',
                           tmp_path / 'tools', HOST)
    config = tmp_path / 'cyborg_clone.conf'
    with processes.all_in_one(
            tmp_path, HOST,
            agent={'enabled_drivers': 'intel_opae',
                   'sysfs_root': host[('agent', 'sysfs_root')]},
            intel_opae={'fpgaconf_path':
                        host[('intel_opae', 'fpgaconf_path')]},
            privsep={'helper_command': '%s --config-file %s' % (
                os.path.join(processes.BIN_DIR, 'privsep-helper'),
                config)}) as (process, url):
        def names():
            listed = request('GET', url + '/v2/deployables')[1]
            return sorted(d['name'] for d in listed['deployables'])

        found = processes.wait_until(names, message='the OPAE cards')
        assert found == sorted([HOST + '_' + opae_host.ARRIA10.pf,
                                HOST + '_' + opae_host.N3000.pf])
        assert process.stop() == 0
