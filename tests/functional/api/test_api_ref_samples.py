"""The API reference (api-ref/source) says what the service does.

Each page with routes or examples has a scenario below that drives the
real application in-process (real database, a fake-driver host reported
for real, the conductor's real workflows run at once) through every route
of the page. Every request goes through ``World``, which finds the route
on the pages (``.. rest_method::``) and checks that a success status is
one the page lists, that a body field the service returns is one the
page's response table lists (and that a route documented without a body
answers none), and that response headers the table lists are there.

Request examples are sent as they are (IDs of things the scenario made
substituted) and must get a documented success status. Response examples
must equal the response after both are normalised (``normalise``): UUIDs
and 32-hex image IDs become numbered placeholders, so an ID must still
recur wherever it recurs in the response (an item's link names the item's
own UUID); timestamps in the documented formats become a placeholder, and
so does the scheme and host of URLs. Any other difference (a field
renamed, added, missing, or a value changed) fails. Host names are not
normalised: the scenarios report the fake host under the examples' name.

Static checks tie the pages to the code: every route (the policy matrix
lists every handler) has a page, and no page a route the service lacks;
the microversion history, the FPGA image error codes and the index's
route table match the code and the pages.
"""

import copy
import dataclasses
import difflib
import itertools
import json
import os
import pathlib
import re
import uuid as uuid_lib

import pytest
import webtest
import yaml

from cyborg_clone.api import app as api_app
from cyborg_clone.api import fpga_image_errors
from cyborg_clone.api import microversion
from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.conductor import device_cleaning
from cyborg_clone.conductor import fpga_image_build
from cyborg_clone.objects import base as objects_base
from cyborg_clone.objects import device
from tests.conftest import Api
from tests.fixtures import dcp
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.images import put_image
from tests.fixtures.nova import RecordingNova
from tests.functional.api.test_policy_matrix import MATRIX

REPO = pathlib.Path(__file__).resolve().parents[3]
SOURCE = REPO / 'api-ref' / 'source'
SAMPLES = SOURCE / 'samples'

HOST = 'compute-1'
PROJECT = '6f1b2c9a4e7d4b0c8a3f5e2d1c0b9a87'
MEMBER = {'X-User-Id': 'alice', 'X-Project-Id': PROJECT,
          'X-Roles': 'member'}
# Nova: its own user, with a service token.
SERVICE = {'X-User-Id': 'nova', 'X-Project-Id': 'service',
           'X-Roles': 'service', 'X-Service-Roles': 'service'}
# An administrator holding a service token (a bind that sets /project_id).
ADMIN_SERVICE = {'X-User-Id': 'admin', 'X-Project-Id': 'admin',
                 'X-Roles': 'admin', 'X-Service-Roles': 'service'}
# Requests without identity headers are an administrator (noauth).
ADMIN = None


# --- the pages ------------------------------------------------------------

REST_METHOD = re.compile(r'^\.\. rest_method:: (\w+) (\S+)\s*$')
STATUS_CODES = re.compile(r'^\.\. rest_status_code:: (\w+) (\S+)\s*$')
REST_PARAMETERS = re.compile(r'^\.\. rest_parameters:: (\S+)\s*$')
INCLUDE = re.compile(r'^\.\. literalinclude:: samples/(\S+)\s*$')
PARAMETERS = yaml.safe_load((SOURCE / 'parameters.yaml').read_text())
STATUSES = yaml.safe_load((SOURCE / 'status.yaml').read_text())


@dataclasses.dataclass(frozen=True)
class Operation:
    """One ``.. rest_method::`` of a page and what its section says."""

    page: str
    method: str
    url: str
    success: tuple
    request: tuple   # (name, parameters.yaml key) pairs
    response: tuple
    samples: tuple

    @property
    def label(self):
        return '%s %s (%s.rst)' % (self.method, self.url, self.page)

    def matches(self, method, path, query_names):
        """True when a request of ``method`` to ``path`` with query
        parameters ``query_names`` is this route."""
        doc_path, _, doc_query = self.url.partition('?')
        pattern = re.sub(r'\\\{[^}]*\\\}', '[^/]+', re.escape(doc_path))
        needed = {pair.split('=')[0] for pair in doc_query.split('&')
                  if pair}
        return (method == self.method and re.fullmatch(pattern, path)
                is not None and needed <= set(query_names))

    def names(self, table, where='body'):
        return {name for name, key in getattr(self, table)
                if PARAMETERS[key]['in'] == where}

    def required(self, table):
        return {name for name, key in getattr(self, table)
                if PARAMETERS[key]['in'] == 'body'
                and PARAMETERS[key].get('required')
                and 'min_version' not in PARAMETERS[key]}


def _block(lines, start):
    """The indented content of the directive whose line is before
    ``start``, dedented."""
    content = []
    for line in lines[start:]:
        if line.strip() and not line.startswith(' '):
            break
        content.append(line)
    return '\n'.join(line[3:] for line in content)


@dataclasses.dataclass
class Page:
    name: str
    operations: list
    samples: set      # every sample the page shows
    keys: set         # every parameters.yaml key the page uses
    text: str


def parse_page(path):
    lines = path.read_text().splitlines()
    operations, samples, keys = [], set(), set()
    current, subsection = None, None

    def close():
        if current is not None:
            operations.append(Operation(
                page=path.stem, method=current['method'],
                url=current['url'], success=tuple(current['success']),
                request=tuple(current['Request']),
                response=tuple(current['Response']),
                samples=tuple(current['samples'])))

    for number, line in enumerate(lines):
        if re.fullmatch(r'=+', line):
            close()
            current = None
        elif re.fullmatch(r'-+', line):
            subsection = lines[number - 1].strip()
        elif match := REST_METHOD.match(line):
            close()
            current = {'method': match[1], 'url': match[2], 'success': [],
                       'Request': [], 'Response': [], 'samples': []}
            subsection = None
        elif match := STATUS_CODES.match(line):
            codes = [next(iter(item)) if isinstance(item, dict) else item
                     for item in yaml.safe_load(_block(lines, number + 1))]
            if current is not None and match[1] == 'success':
                current['success'] += codes
        elif REST_PARAMETERS.match(line):
            pairs = [next(iter(item.items())) for item in
                     yaml.safe_load(_block(lines, number + 1))]
            keys |= {key for _, key in pairs}
            assert current is not None and subsection in (
                'Request', 'Response'), (
                '%s:%d: rest_parameters outside a route\'s Request or '
                'Response' % (path.name, number + 1))
            current[subsection] += pairs
        elif match := INCLUDE.match(line):
            samples.add(match[1])
            if current is not None:
                current['samples'].append(match[1])
    close()
    return Page(path.stem, operations, samples, keys, path.read_text())


PAGES = {path.stem: parse_page(path)
         for path in sorted(SOURCE.glob('*.rst'))}
OPERATIONS = [op for page in PAGES.values() for op in page.operations]


def operation_for(method, path, query_names):
    """The documented route of a request: the one whose URL matches,
    preferring the one naming the most query parameters."""
    found = [op for op in OPERATIONS if op.matches(method, path,
                                                   query_names)]
    found.sort(key=lambda op: -op.url.count('='))
    return found[0] if found else None


def load(sample):
    return json.loads((SAMPLES / sample).read_text())


# --- normalising ----------------------------------------------------------

UUID = re.compile(r'\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                  r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b')
HEX_ID = re.compile(r'(?<![0-9a-zA-Z])[0-9a-f]{32}(?![0-9a-zA-Z])')
# The Cyborg API's timestamps and the FPGA image API's createdAt.
ISO_TIMESTAMP = re.compile(r'\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00')
PLAIN_TIMESTAMP = re.compile(r'\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b')
URL_HOST = re.compile(r'\bhttps?://[^/\s"\']+')


def _masked(text):
    """``text`` with every ID, timestamp and host replaced by the same
    mark: a key to sort dict keys by that does not depend on IDs."""
    for pattern in (ISO_TIMESTAMP, PLAIN_TIMESTAMP, URL_HOST, UUID,
                    HEX_ID):
        text = pattern.sub('~', text)
    return text


def normalise(document):
    """``document`` with IDs, timestamps and URL hosts replaced.

    Each distinct UUID or 32-hex ID becomes ``<uuid-N>`` or ``<hex-N>``,
    numbered in order of first appearance (dict keys sorted), so two
    documents normalise alike only if their IDs recur alike.
    """
    ids = {}

    def number(kind):
        def replace(match):
            found = match[0].lower()
            if found not in ids:
                ids[found] = '<%s-%d>' % (kind, len(ids))
            return ids[found]
        return replace

    def text(value):
        value = ISO_TIMESTAMP.sub('<timestamp>', value)
        value = PLAIN_TIMESTAMP.sub('<datetime>', value)
        value = URL_HOST.sub('http://<host>', value)
        value = UUID.sub(number('uuid'), value)
        return HEX_ID.sub(number('hex'), value)

    def walk(value):
        if isinstance(value, dict):
            return {text(key): walk(value[key])
                    for key in sorted(value, key=lambda k: (_masked(k), k))}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return text(value)
        return value

    return walk(document)


def differences(expected, actual):
    """'' when the two documents normalise alike, else a diff."""
    expected, actual = normalise(expected), normalise(actual)
    if expected == actual:
        return ''
    # Types matter (1 is not "1"); json.dumps shows them.
    return '\n'.join(difflib.unified_diff(
        json.dumps(expected, indent=2, sort_keys=True).splitlines(),
        json.dumps(actual, indent=2, sort_keys=True).splitlines(),
        'sample', 'service', lineterm=''))


# Objects whose keys are data, not fields: their insides are not
# parameters of the pages.
FREE_FORM = {'attach_handle_info', 'groups', 'links', 'metadata'}


def field_names(document):
    names = set()
    if isinstance(document, dict):
        for key, value in document.items():
            names.add(key)
            if key not in FREE_FORM:
                names |= field_names(value)
    elif isinstance(document, list):
        for item in document:
            names |= field_names(item)
    return names


def undocumented(names, documented):
    """``names`` the tables do not list; a listed ``{name}`` stands for
    keys that are themselves values (the UUIDs of an ARQ patch)."""
    wildcard = any(name.startswith('{') for name in documented)
    extra = names - documented
    if wildcard:
        extra = {name for name in extra if not UUID.fullmatch(name)}
    return extra


# --- the service ----------------------------------------------------------


class SampleConductor:
    """The conductor's RPC client without RPC: each call runs the real
    workflow at once, so a response example can show the outcome (an ARQ
    bound, an image built). Placement is left out: enabling and disabling
    a device only record its status."""

    def __init__(self, conf):
        self.conf = conf
        self.agents = InProcessAgents(conf)
        self.hold_builds = False

    def _admin(self):
        return context.get_admin_context()

    def bind_arqs(self, ctxt, arq_uuids):
        arq_binding.bind_arqs(self.conf, self._admin(), arq_uuids,
                              nova_client=RecordingNova())

    def set_device_status(self, ctxt, device_uuid, status):
        device.Device.set_status(device_uuid, status)

    def release_arqs(self, ctxt, released):
        device_cleaning.Cleaning(self.conf, self.agents, None).release(
            self._admin(), released)

    def program_deployable(self, ctxt, deployable_uuid, image_id,
                           timeout=None):
        return deployable_programming.program(
            self.conf, ctxt, self.agents, deployable_uuid, image_id)

    def build_fpga_image(self, ctxt, image_id):
        if not self.hold_builds:
            fpga_image_build.Factory(self.conf).build(image_id)

    def save_fpga_image(self, ctxt, image_id):
        fpga_image_build.Factory(self.conf).save(image_id)

    def delete_fpga_image(self, ctxt, image_id):
        """Leaves the image "deleting", which the scenario checks."""


class World:
    """The application, and checks of every request against the pages."""

    def __init__(self, conf):
        self.conf = conf
        self.conductor = SampleConductor(conf)
        self.api = Api(webtest.TestApp(api_app.setup_app(
            conf, conductor_api=self.conductor)))
        self.exercised = set()   # operations answered with a success
        self.checked = set()     # samples sent or compared

    def call(self, method, path, body=None, headers=ADMIN, version=None,
             raw=None):
        response = self.api.request(method, path, body=body, raw=raw,
                                    headers=headers, version=version)
        request = response.request
        op = operation_for(method, request.path, list(request.GET))
        assert op is not None, '%s %s is on no page' % (method, path)
        if response.status_int < 400:
            self._check_success(op, response)
        return response

    def _check_success(self, op, response):
        assert response.status_int in op.success, (
            '%s answered %s; the page says %s' % (
                op.label, response.status, list(op.success)))
        for header in op.names('response', 'header'):
            assert header in response.headers, (op.label, header)
        documented = op.names('response')
        if not documented:
            assert response.body == b'', (
                '%s is documented without a body; it answered %r'
                % (op.label, response.text))
        else:
            extra = undocumented(field_names(response.json), documented)
            assert not extra, '%s returns fields no table lists: %s' % (
                op.label, sorted(extra))
        self.exercised.add(op)

    def send(self, method, path, sample, subs=None, headers=ADMIN,
             version=None):
        """Send the request example ``sample``, its IDs ``subs``
        replaced by the ones of this run, to a route showing it."""
        text = (SAMPLES / sample).read_text()
        for old, new in (subs or {}).items():
            assert old in text, (sample, old)
            text = text.replace(old, new)
        response = self.call(method, path, raw=text, headers=headers,
                             version=version)
        op = self._showing(sample, response)
        assert response.status_int in op.success, (
            '%s: the service answered %s %s' % (sample, response.status,
                                                response.text))
        body = json.loads(text)
        documented = op.names('request')
        extra = undocumented(field_names(body), documented)
        assert not extra, '%s has fields %s has no row for: %s' % (
            sample, op.label, sorted(extra))
        missing = op.required('request') - field_names(body) - {
            name for name in documented if name.startswith('{')}
        assert not missing, '%s lacks required %s' % (sample,
                                                       sorted(missing))
        self.checked.add(sample)
        return response

    def expect(self, sample, response, status=None):
        """``response`` is what the response example ``sample`` shows."""
        if status is None:
            op = self._showing(sample, response)
            assert response.status_int in op.success, response.status
            missing = op.required('response') - field_names(response.json)
            assert not missing, '%s lacks required %s' % (
                sample, sorted(missing))
        else:
            assert response.status_int == status, response.text
        diff = differences(load(sample), response.json)
        assert not diff, (
            'api-ref/source/samples/%s is not what the service answers '
            '(after normalising):\n%s\n\nThe service answered:\n%s' % (
                sample, diff, json.dumps(response.json, indent=4)))
        self.checked.add(sample)

    @staticmethod
    def _showing(sample, response):
        """The route whose section shows ``sample``; it must be the route
        the request went to."""
        request = response.request
        ops = [op for op in OPERATIONS if sample in op.samples
               and op.matches(request.method, request.path,
                              list(request.GET))]
        assert ops, '%s is not shown under %s %s' % (
            sample, request.method, request.path)
        return ops[0]


@pytest.fixture
def world(conf, monkeypatch):
    # Binding takes the ARQs of a request in UUID order, so which one gets
    # which accelerator depends on their UUIDs: make UUIDs increase, so it
    # is the creation order, as in the examples. IDs are normalised anyway.
    counter = itertools.count(1)
    monkeypatch.setattr(objects_base, 'new_uuid', lambda: str(uuid_lib.UUID(
        int=(0x5A4E1 << 100) + next(counter), version=4)))
    return World(conf)


# --- scenarios: one per page ----------------------------------------------

SCENARIOS = {}


def scenario(page):
    def register(function):
        SCENARIOS[page] = function
        return function
    return register


@scenario('versions')
def versions_scenario(world):
    world.expect('versions/versions-list-resp.json', world.call('GET', '/'))
    world.expect('versions/version-show-resp.json',
                 world.call('GET', '/v2'))


# A second profile for the list (the first is the create example).
OTHER_PROFILE = {'name': 'fpga-any', 'groups': [{'resources:FPGA': '1'}]}


@scenario('device-profiles')
def device_profiles_scenario(world):
    created = world.send('POST', '/v2/device_profiles',
                         'device_profiles/device_profile-create-req.json')
    world.expect('device_profiles/device_profile-create-resp.json', created)
    world.call('POST', '/v2/device_profiles', [OTHER_PROFILE])
    world.expect('device_profiles/device_profiles-list-resp.json',
                 world.call('GET', '/v2/device_profiles'))
    profile = created.json
    world.expect('device_profiles/device_profile-get-resp.json',
                 world.call('GET', '/v2/device_profiles/' + profile['uuid']))
    world.expect('device_profiles/device_profile-get-resp.json',
                 world.call('GET', '/v2/device_profiles/' + profile['name'],
                            version='2.2'))
    world.call('DELETE', '/v2/device_profiles/' + profile['uuid'])
    world.call('DELETE', '/v2/device_profiles?value=' +
               OTHER_PROFILE['name'])
    assert world.call('GET', '/v2/device_profiles').json == {
        'device_profiles': []}


def _patched_instance(sample):
    [instance] = {op['value'] for ops in load(sample).values()
                  for op in ops if op['path'] == '/instance_uuid'}
    return instance


@scenario('accelerator-requests')
def accelerator_requests_scenario(world):
    host = report_fake_host(world.conf, HOST)
    name = load('accelerator_requests/accelerator_requests-create-req.json'
                )['device_profile_name']
    world.call('POST', '/v2/device_profiles', [{
        'name': name, 'groups': [{'resources:FPGA': '2',
                                  'trait:CUSTOM_FAKE_DEVICE': 'required'}]}])
    created = world.send(
        'POST', '/v2/accelerator_requests',
        'accelerator_requests/accelerator_requests-create-req.json',
        headers=MEMBER)
    world.expect('accelerator_requests/accelerator_requests-create-resp.json',
                 created)
    arqs = [arq['uuid'] for arq in created.json['arqs']]

    bind = 'accelerator_requests/accelerator_requests-bind-req.json'
    subs = dict(zip(load(bind), arqs, strict=True))
    assert {op['value'] for ops in load(bind).values() for op in ops
            if op['path'] == '/device_rp_uuid'} == {host.rp_uuid}
    world.send('PATCH', '/v2/accelerator_requests', bind, subs,
               headers=SERVICE)
    instance = _patched_instance(bind)
    world.expect('accelerator_requests/accelerator_requests-list-resp.json',
                 world.call('GET', '/v2/accelerator_requests?instance=' +
                            instance, headers=MEMBER))
    world.expect('accelerator_requests/accelerator_request-get-resp.json',
                 world.call('GET', '/v2/accelerator_requests/' + arqs[0],
                            headers=MEMBER))

    unbind = 'accelerator_requests/accelerator_requests-unbind-req.json'
    world.send('PATCH', '/v2/accelerator_requests', unbind,
               dict(zip(load(unbind), arqs, strict=True)), headers=SERVICE)
    assert {a['state'] for a in world.call(
        'GET', '/v2/accelerator_requests').json['arqs']} == {'Unbound'}

    one = 'accelerator_requests/accelerator_request-bind-req.json'
    [example_uuid] = load(one)
    world.send('PATCH', '/v2/accelerator_requests/' + arqs[0], one,
               {example_uuid: arqs[0]}, headers=ADMIN_SERVICE,
               version='2.1')
    moved = world.call('GET', '/v2/accelerator_requests/' + arqs[0]).json
    assert moved['state'] == 'Bound'
    assert moved['project_id'] == {
        op['path']: op.get('value') for op in load(one)[example_uuid]
    }['/project_id']

    world.call('DELETE', '/v2/accelerator_requests?instance=' +
               _patched_instance(one), headers=SERVICE)
    world.call('DELETE', '/v2/accelerator_requests/' + arqs[1],
               headers=MEMBER)
    more = [arq['uuid'] for arq in world.call(
        'POST', '/v2/accelerator_requests', {'device_profile_name': name},
        headers=MEMBER).json['arqs']]
    world.call('DELETE', '/v2/accelerator_requests?arqs=' + ','.join(more),
               headers=MEMBER)
    assert world.call('GET', '/v2/accelerator_requests').json == {
        'arqs': []}


@scenario('devices')
def devices_scenario(world):
    report_fake_host(world.conf, HOST)
    listed = world.call('GET', '/v2/devices', version='2.3')
    world.expect('devices/devices-list-resp.json', listed)
    uuid = listed.json['devices'][0]['uuid']
    world.expect('devices/device-get-resp.json',
                 world.call('GET', '/v2/devices/' + uuid, version='2.3'))
    world.call('POST', '/v2/devices/%s/disable' % uuid)
    assert world.call('GET', '/v2/devices/' + uuid,
                      version='2.3').json['status'] == 'maintaining'
    world.call('POST', '/v2/devices/%s/enable' % uuid)
    assert world.call('GET', '/v2/devices/' + uuid,
                      version='2.3').json['status'] == 'enabled'


@scenario('deployables')
def deployables_scenario(world):
    report_fake_host(world.conf, HOST)
    listed = world.call('GET', '/v2/deployables')
    world.expect('deployables/deployables-list-resp.json', listed)
    uuid = listed.json['deployables'][0]['uuid']
    world.expect('deployables/deployable-get-resp.json',
                 world.call('GET', '/v2/deployables/' + uuid))
    program = 'deployables/deployable-program-req.json'
    [operation] = load(program)
    [value] = operation['value']
    put_image(world.conf, image_id=uuid_lib.UUID(value['image_uuid']).hex)
    world.expect('deployables/deployable-program-resp.json',
                 world.send('PATCH', '/v2/deployables/%s/program' % uuid,
                            program))


@scenario('attributes')
def attributes_scenario(world):
    report_fake_host(world.conf, HOST)
    listed = world.call('GET', '/v2/attributes')
    world.expect('attributes/attributes-list-resp.json', listed)
    [rc] = [a for a in listed.json['attributes'] if a['key'] == 'rc']
    world.expect('attributes/attribute-get-resp.json',
                 world.call('GET', '/v2/attributes/' + rc['uuid']))
    create = 'attributes/attribute-create-req.json'
    assert load(create)['deployable_id'] == rc['deployable_id']
    created = world.send('POST', '/v2/attributes', create)
    world.expect('attributes/attribute-create-resp.json', created)
    world.call('DELETE', '/v2/attributes/' + created.json['uuid'])
    assert len(world.call('GET', '/v2/attributes').json['attributes']) == 2


def _put_object(conf, location, content):
    bucket, key = location.split(':')
    path = os.path.join(conf.object_store.file_root, bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if content is None:
        dcp.make_dcp_tarball(path)
    else:
        with open(path, 'wb') as out:
            out.write(content)


@scenario('fpga-images')
def fpga_images_scenario(world):
    build = 'fpga_images/fpga_image-create-req.json'
    register = 'fpga_images/fpga_image-register-req.json'
    _put_object(world.conf, load(build)['fpga_image']['dcp_location'], None)
    _put_object(world.conf, load(register)['fpga_image']['location'],
                b'xclbin2\0' + b'\0' * 4096)
    images = '/v1/%s/cloudservers/fpga_image' % PROJECT

    built = world.send('POST', '/v2/%s/cloudservers/fpga_image' % PROJECT,
                       build, headers=MEMBER)
    world.expect('fpga_images/fpga_image-create-resp.json', built)
    registered = world.send('POST', images, register, headers=MEMBER)
    world.expect('fpga_images/fpga_image-register-resp.json', registered)
    built_id = built.json['fpga_image']['id']

    association = 'fpga_images/fpga_image-association-req.json'
    world.send('POST', '%s/%s/association' % (images, built_id),
               association, headers=MEMBER)
    world.expect('fpga_images/fpga_images-list-resp.json',
                 world.call('GET', images + '/detail', headers=MEMBER))
    vm_image = load(association)['image']['id']
    world.expect('fpga_images/fpga_image-associations-list-resp.json',
                 world.call('GET', images + '/associations?image_id=' +
                            vm_image, headers=MEMBER))
    world.send('DELETE', '%s/%s/association' % (images, built_id),
               association, headers=MEMBER)
    world.call('DELETE', '%s/%s' % (images, built_id), headers=MEMBER)
    statuses = {i['id']: i['status'] for i in world.call(
        'GET', images + '/detail', headers=MEMBER).json['fpgaimages']}
    assert statuses == {built_id: 'deleting',
                        registered.json['fpga_image']['id']: 'active'}


@scenario('errors')
def errors_scenario(world):
    world.expect('errors/error-resp.json', world.call(
        'GET', '/v2/accelerator_requests/' + str(uuid_lib.uuid4())),
        status=404)
    world.conductor.hold_builds = True
    body = load('fpga_images/fpga_image-create-req.json')
    path = '/v2/%s/cloudservers/fpga_image' % PROJECT
    world.call('POST', path, body, headers=MEMBER)
    world.expect('errors/fpga_image-error-resp.json',
                 world.call('POST', path, body, headers=MEMBER), status=409)


@pytest.mark.parametrize('page', sorted(SCENARIOS))
def test_the_page_shows_what_the_service_does(world, page):
    SCENARIOS[page](world)
    exercised = {op.label for op in world.exercised if op.page == page}
    assert exercised == {op.label for op in PAGES[page].operations}, (
        'routes of %s.rst the scenario did not answer with a documented '
        'success' % page)
    assert world.checked == PAGES[page].samples


def test_fpga_204_has_no_body(world):
    # A 204 carries no body; rendered through the json template, None
    # used to go out as "null".
    images = '/v1/%s/cloudservers/fpga_image' % PROJECT
    location = 'fpga-designs:alveo/nothing.xclbin'
    _put_object(world.conf, location, b'xclbin2')
    image = world.call('POST', images, {'fpga_image': {
        'location': location, 'name': 'nothing'}},
        headers=MEMBER).json['fpga_image']['id']
    association = {'image': {'id': str(uuid_lib.uuid4())}}
    bodies = [world.api.request(method, path, body=body, headers=MEMBER,
                                status=204).body for method, path, body in (
        ('POST', '%s/%s/association' % (images, image), association),
        ('DELETE', '%s/%s/association' % (images, image), association),
        ('DELETE', '%s/%s' % (images, image), None))]
    assert bodies == [b'', b'', b'']


def test_every_page_with_routes_or_examples_has_a_scenario():
    assert set(SCENARIOS) == {name for name, page in PAGES.items()
                              if page.operations or page.samples}


def test_every_sample_file_is_shown_on_a_page():
    files = {str(path.relative_to(SAMPLES))
             for path in SAMPLES.rglob('*') if path.is_file()}
    shown = set().union(*(page.samples for page in PAGES.values()))
    assert files == shown


# --- the comparison can fail ----------------------------------------------

ARQ = 'accelerator_requests/accelerator_request-get-resp.json'


def _renamed(doc):
    doc['host_name'] = doc.pop('hostname')


def _missing(doc):
    del doc['attach_handle_uuid']


def _extra(doc):
    doc['bind_failure'] = None


def _changed(doc):
    doc['state'] = 'BindFailed'


def _retyped(doc):
    doc['device_profile_group_id'] = str(doc['device_profile_group_id'])


def _link_names_another_arq(doc):
    doc['links'][0]['href'] = doc['links'][0]['href'].replace(
        doc['uuid'], str(uuid_lib.uuid4()))


def _two_ids_made_one(doc):
    doc['instance_uuid'] = doc['device_rp_uuid']


def _timestamp_format(doc):
    doc['created_at'] = doc['created_at'].replace('T', ' ')


def _new_ids(doc):
    for key in ('uuid', 'instance_uuid', 'attach_handle_uuid'):
        new = str(uuid_lib.uuid4())
        text = json.dumps(doc).replace(doc[key], new)
        doc.clear()
        doc.update(json.loads(text))


def _new_times_and_host(doc):
    doc['created_at'] = '1999-12-31T23:59:59+00:00'
    doc['links'][0]['href'] = doc['links'][0]['href'].replace(
        '://', '://elsewhere.example.org:8443/x').split('/x', 1)[0] + \
        '/v2/accelerator_requests/' + doc['uuid']


@pytest.mark.parametrize('change', [
    _renamed, _missing, _extra, _changed, _retyped, _link_names_another_arq,
    _two_ids_made_one, _timestamp_format])
def test_a_difference_that_is_not_an_id_or_timestamp_fails(change):
    sample = load(ARQ)
    changed = copy.deepcopy(sample)
    change(changed)
    assert differences(sample, changed)


@pytest.mark.parametrize('change', [_new_ids, _new_times_and_host])
def test_ids_timestamps_and_hosts_may_differ(change):
    sample = load(ARQ)
    changed = copy.deepcopy(sample)
    change(changed)
    assert changed != sample
    assert differences(sample, changed) == ''


def test_hex_ids_are_ids_but_other_hex_is_not():
    listed = load('fpga_images/fpga_images-list-resp.json')
    changed = copy.deepcopy(listed)
    image = changed['fpgaimages'][0]
    image['id'] = uuid_lib.uuid4().hex
    assert differences(listed, changed) == ''
    image['metadata']['dcp_sha256'] = 'f' * 64
    assert differences(listed, changed)


# --- the pages and the code -----------------------------------------------


def _request_of(route):
    """(method, path, query names) of a policy matrix route."""
    path, _, query = route.path.partition('?')
    names = [pair.split('=')[0] for pair in query.split('&') if pair]
    return route.method, re.sub(r'\{[^}]*\}', 'x', path), names


def test_every_route_of_the_service_is_on_a_page_and_no_other():
    # The policy matrix has a row for every handler the controllers
    # expose (test_policy_matrix checks that).
    documented = {op.label: op for op in OPERATIONS}
    reached = set()
    for route in MATRIX:
        op = operation_for(*_request_of(route))
        assert op is not None, '%s is on no page' % route.label
        reached.add(op.label)
    assert set(documented) - reached == set(), 'routes the service lacks'
    assert len(documented) == len(OPERATIONS), 'a route is documented twice'


def test_every_route_has_success_codes_from_status_yaml():
    for op in OPERATIONS:
        assert op.success, op.label
        assert set(op.success) <= set(STATUSES), op.label


INDEX_ROW = re.compile(r'^``([A-Z]+) (\S+)``\s+(\d{3})\s*$', re.M)


def test_the_index_lists_every_route_with_its_success_code():
    rows = {(method, url, int(code)) for method, url, code in
            INDEX_ROW.findall(PAGES['index'].text)}
    assert rows == {(op.method, op.url, op.success[0])
                    for op in OPERATIONS}


def test_the_microversion_history_is_the_services():
    text = PAGES['versions'].text
    history = text.split('Microversion history')[1].split('.. rest')[0]
    listed = re.findall(r'^(\d+\.\d+)  ', history, re.M)
    assert listed == microversion.VERSIONS
    conf_py = (SOURCE / 'conf.py').read_text()
    assert re.search(r"^os_api_ref_min_microversion = '%s'$"
                     % str(microversion.MIN_VERSION), conf_py, re.M)
    assert re.search(r"^os_api_ref_max_microversion = '%s'$"
                     % str(microversion.MAX_VERSION), conf_py, re.M)


def _fpga_codes_of_the_service():
    codes = {code: status for status, code in
             fpga_image_errors.STATUS_CODES.items()}
    for cls in vars(exception).values():
        code = getattr(cls, 'error_code', None)
        if isinstance(cls, type) and code is not None:
            assert codes.setdefault(code, cls.code) == cls.code, code
    return codes


def test_the_fpga_error_code_table_is_the_services():
    table = re.findall(r'^(FPGA\.\d{4})\s+(\d{3})\s', PAGES['errors'].text,
                       re.M)
    assert len(table) == len(dict(table)), 'a code is listed twice'
    assert {code: int(status) for code, status in table} == \
        _fpga_codes_of_the_service()


def test_every_parameter_is_defined_and_used():
    used = set().union(*(page.keys for page in PAGES.values()))
    assert used - set(PARAMETERS) == set(), 'used but not defined'
    assert set(PARAMETERS) - used == set(), 'defined but never used'
