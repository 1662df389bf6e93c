"""Bitstreams kept in a real Glance, as operators coming from upstream
Cyborg keep them.

Everything runs as its own process: Glance (tests/fixtures/glance.py,
no authentication), Keystone (tests/fixtures/keystone.py) and our
all-in-one behind keystonemiddleware, whose agent drives the fake XRT
tools of a Xilinx host (tests/fixtures/xilinx_host.py) through privsep.
Our [glance] section reaches Glance with keystoneauth1's admin_token
plugin. xclbins are uploaded with openstacksdk's image API; device
profiles are created with the Cyborg tempest plugin's REST client (under
.venv-cloud's python, authenticated by Keystone, our API found in its
catalog); binds are made the way nova-compute makes them.
"""

import json
import os
import subprocess
import uuid

import openstack
import pytest
import requests

from cyborg_clone.objects import deployable as deployable_obj
from tests.conftest import error_of
from tests.fixtures import cloud
from tests.fixtures import glance as glance_fixture
from tests.fixtures import tempest
from tests.fixtures import xilinx_host
from tests.fixtures.arq_requests import bind_patch
from tests.fixtures.glance import glance_server  # noqa: F401
from tests.fixtures.images import put_image
from tests.fixtures.keystone import PASSWORD
from tests.fixtures.keystone import keystone_fixture  # noqa: F401
from tests.functional import processes

# Glance, Keystone and the all-in-one serve the whole module: its tests
# stay on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

HOST = 'glance-test-host'
ARQS = '/v2/accelerator_requests'
BIND_TIMEOUT = 60

# Creates one device profile with the tempest plugin's client, as the
# admin of tempest's config would; prints {"status", "body"} or, when the
# client raises, {"error": exception class, "status", "body"}.
_CREATE_PROFILE = '''\
import json
import sys

from cyborg_tempest_plugin.services import cyborg_rest_client
from tempest.lib import auth
from tempest.lib import exceptions

auth_url, password, profile = sys.argv[1], sys.argv[2], sys.argv[3]
credentials = auth.KeystoneV3Credentials(
    username='admin', password=password, project_name='admin',
    user_domain_name='Default', project_domain_name='Default')
provider = auth.KeystoneV3AuthProvider(credentials, auth_url)
client = cyborg_rest_client.CyborgRestClient(provider, 'accelerator',
                                             'RegionOne')
try:
    answer = client.create_device_profile([json.loads(profile)])
    print(json.dumps({'status': answer.response.status, 'body': answer}))
except exceptions.RestClientException as error:
    print(json.dumps({'error': type(error).__name__,
                      'status': error.resp.status,
                      'body': error.resp_body}))
'''


class Cloud:
    """The running services, and what the tests do with them."""

    def __init__(self, process, url, keystone, glance, xrt, directory):
        self.process = process
        self.url = url
        self.keystone = keystone
        self.glance = glance
        self.xrt = xrt
        self.directory = directory
        self.sdk = openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type='none',
            image_endpoint_override=glance.url)

    def call(self, method, path, status, body=None, persona='admin',
             service=None):
        headers = {'X-Auth-Token': self.keystone.token(persona)}
        if service is not None:
            headers['X-Service-Token'] = self.keystone.token(service)
        response = requests.request(method, self.url + path, json=body,
                                    headers=headers, timeout=60)
        assert response.status_code == status, (
            method, path, response.status_code, response.text)
        return response

    def upload_xclbin(self, card, name):
        """An xclbin built for ``card``, uploaded with openstacksdk; (the
        Glance image, the xclbin uuid the card runs once loaded)."""
        path = self.directory / (name + '.xclbin')
        xclbin_uuid = self.xrt.xclbin_for(card, path)
        image = self.sdk.image.create_image(
            name=name, filename=str(path), disk_format='raw',
            container_format='bare', wait=True)
        return image, xclbin_uuid

    def create_profile(self, name, group):
        """The tempest plugin client's answer to creating a profile of
        one group (``resources:FPGA`` 1 plus ``group``)."""
        profile = {'name': name,
                   'groups': [dict({'resources:FPGA': '1'}, **group)]}
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(('PYTHON', 'VIRTUAL_ENV'))}
        env['HOME'] = str(self.directory)
        result = subprocess.run(
            [cloud.PYTHON, '-I', '-c', _CREATE_PROFILE,
             self.keystone.auth_url, PASSWORD, json.dumps(profile)],
            capture_output=True, text=True, env=env, cwd=self.directory,
            timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def bind(self, profile, card, instance):
        """Create an ARQ of ``profile`` as a project member and bind it to
        ``card`` as nova-compute does; the ARQ once resolved."""
        arq = self.call('POST', ARQS, 201, persona='member', body={
            'device_profile_name': profile}).json()['arqs'][0]
        rp_uuid = deployable_obj.rp_uuid_for(self.deployable_name(card))
        self.call('PATCH', ARQS, 202, persona='member', service='nova',
                  body=bind_patch([arq], HOST, rp_uuid, instance))

        def resolved():
            found = self.call('GET', '%s/%s' % (ARQS, arq['uuid']), 200,
                              persona='member').json()
            return found if found['state'] in ('Bound',
                                               'BindFailed') else None
        return processes.wait_until(resolved, timeout=BIND_TIMEOUT,
                                    message='the ARQ resolved')

    def deployable_name(self, card):
        return card.deployable_name(HOST)

    def deployable(self, card):
        name = self.deployable_name(card)
        listed = self.call('GET', '/v2/deployables', 200).json()
        return next(d for d in listed['deployables'] if d['name'] == name)

    def programmed(self):
        """The image file names the fake xbmgmt was asked to load."""
        return [os.path.basename(call[call.index('--user') + 1])
                for call in self.xrt.calls()
                if call[:2] == ['xbmgmt', 'program'] and '--user' in call]


@pytest.fixture(scope='module')
def stack(keystone, glance, tmp_path_factory):
    directory = tmp_path_factory.mktemp('cyborg')
    xrt = xilinx_host.build(directory / 'sys-root', directory / 'bin',
                            directory / 'xrt', HOST, foreign_devices=False)
    port = processes.free_port()
    url = 'http://127.0.0.1:%d' % port
    tempest.register_accelerator(keystone, url + '/v2')
    sections = {
        'api': {'auth_strategy': 'keystone', 'port': port},
        'keystone_authtoken': keystone.authtoken_options(),
        'glance': glance.options(),
        'agent': {'enabled_drivers': 'xilinx'},
        'privsep': {'helper_command': '%s --config-file %s' % (
            os.path.join(processes.BIN_DIR, 'privsep-helper'),
            directory / 'cyborg_clone.conf')},
    }
    for (group, option), value in xrt.items():
        sections.setdefault(group, {})[option] = value
    with processes.all_in_one(directory, HOST, **sections) as (process, _):
        running = Cloud(process, url, keystone, glance, xrt, directory)
        processes.wait_until(
            lambda: len(running.call('GET', '/v2/deployables', 200)
                        .json()['deployables']) == 2,
            message='both Alveo cards reported')
        yield running
        assert process.stop() == 0, process.log()


def test_a_glance_image_is_loaded_and_becomes_the_bitstream_id(stack):
    image, xclbin_uuid = stack.upload_xclbin(xilinx_host.U250, 'u250-afu')
    created = stack.create_profile('glance-bitstream',
                                   {'accel:bitstream_id': image.id})
    assert created['status'] == 201, created
    assert created['body']['groups'][0]['accel:bitstream_id'] == image.id

    arq = stack.bind('glance-bitstream', xilinx_host.U250, str(uuid.uuid4()))

    assert arq['state'] == 'Bound', arq
    assert stack.programmed() == [image.id]
    assert stack.xrt.loaded(xilinx_host.U250) == xclbin_uuid
    assert stack.deployable(xilinx_host.U250)['bitstream_id'] == image.id


def test_a_profile_naming_no_image_anywhere_is_refused(stack):
    unknown = str(uuid.uuid4())
    created = stack.create_profile('glance-unknown',
                                   {'accel:bitstream_id': unknown})
    assert created['error'] == 'BadRequest', created
    assert created['status'] == 400
    fault = json.loads(created['body']['error_message'])
    assert fault['faultstring'] == (
        'Invalid request: Image %s is in neither the image store nor '
        'Glance.' % unknown)
    assert stack.call('GET', '/v2/device_profiles?name=glance-unknown',
                      200).json()['device_profiles'] == []


def test_an_image_not_matching_its_hash_is_never_programmed(stack):
    image, _ = stack.upload_xclbin(xilinx_host.U280, 'u280-rotten')
    # Bytes changed in Glance's store behind its back: same size, the
    # hash Glance recorded at upload no longer matches.
    with open(stack.glance.stored_file(image.id), 'r+b') as stored:
        stored.seek(-1, os.SEEK_END)
        stored.write(b'\x00')
    before = stack.programmed()
    created = stack.create_profile('glance-rotten',
                                   {'accel:bitstream_id': image.id})
    assert created['status'] == 201, created

    arq = stack.bind('glance-rotten', xilinx_host.U280, str(uuid.uuid4()))

    assert arq['state'] == 'BindFailed', arq
    assert ('ARQ %s failed to bind: loading image %s failed: Glance image '
            '%s does not match its sha512 hash' % (
                arq['uuid'], uuid.UUID(image.id).hex, image.id)
            ) in stack.process.log()
    deployable = stack.deployable(xilinx_host.U280)
    assert deployable['bitstream_id'] is None
    assert stack.programmed() == before
    assert stack.xrt.loaded(xilinx_host.U280) is None


def test_an_image_gone_from_glance_fails_the_bind_before_any_tool(stack):
    image, _ = stack.upload_xclbin(xilinx_host.U280, 'u280-deleted')
    created = stack.create_profile('glance-deleted',
                                   {'accel:bitstream_id': image.id})
    assert created['status'] == 201, created
    stack.sdk.image.delete_image(image, ignore_missing=False)
    before = stack.programmed()

    arq = stack.bind('glance-deleted', xilinx_host.U280, str(uuid.uuid4()))

    assert arq['state'] == 'BindFailed', arq
    assert ('Image %s is in neither the image store nor Glance' % image.id
            ) in stack.process.log()
    assert stack.programmed() == before


def test_program_loads_a_glance_image_found_by_its_id(stack):
    image, xclbin_uuid = stack.upload_xclbin(xilinx_host.U280, 'u280-afu')
    deployable = stack.deployable(xilinx_host.U280)
    programmed = stack.call(
        'PATCH', '/v2/deployables/%s/program' % deployable['uuid'], 200,
        body=[{'op': 'replace', 'path': '/program',
               'value': [{'image_uuid': image.id}]}]).json()
    assert programmed['bitstream_id'] == image.id
    assert stack.programmed()[-1] == image.id
    assert stack.xrt.loaded(xilinx_host.U280) == xclbin_uuid


# The API in-process (tests/conftest.py), its [glance] set per test.

def profile_body(name, image_id):
    return [{'name': name, 'groups': [{'resources:FPGA': '1',
                                       'accel:bitstream_id': image_id}]}]


def unreachable_glance(conf, directory):
    glance_fixture.Glance('http://127.0.0.1:%d' % processes.free_port(),
                          str(directory)).configure(conf)
    conf.set_override('connect_retries', 0, group='glance')


def test_an_image_of_our_store_needs_no_glance(conf, api, tmp_path):
    unreachable_glance(conf, tmp_path)
    image = put_image(conf)
    api.post('/v2/device_profiles', profile_body('ours', image), status=201)


def test_a_profile_glance_cannot_check_is_503_not_500(conf, api, tmp_path):
    unreachable_glance(conf, tmp_path)
    response = api.post('/v2/device_profiles',
                        profile_body('unchecked', str(uuid.uuid4())),
                        status=503)
    # A server-side failure: the body says so generically (the reason is
    # in the API's log), in the usual format.
    assert 'incapable of performing the requested operation' in error_of(
        response)
    assert api.get('/v2/device_profiles?name=unchecked',
                   status=200).json['device_profiles'] == []


def test_a_glance_image_without_data_is_refused(conf, api, glance):
    glance.configure(conf)
    queued = glance.create_queued()
    response = api.post('/v2/device_profiles',
                        profile_body('queued', queued), status=400)
    assert error_of(response) == (
        'Invalid request: Glance image %s is queued, not active.' % queued)
