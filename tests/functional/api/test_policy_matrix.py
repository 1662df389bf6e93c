"""The policy matrix: every route the API serves x seven personas.

``MATRIX_TABLE`` below is the authoritative statement of who may do what;
``api-ref/source/policy.rst`` renders it (run this module, ``python -m
tests.functional.api.test_policy_matrix``, to rewrite that block) and
``test_api_ref_shows_this_matrix`` fails when the two differ.

Every cell sends one request to the in-process app on a fresh copy of one
seeded database, in which project A owns every ARQ, FPGA image and instance
the path names. Besides the status, a cell checks that the status came from
a handler (not from routing), that a refused request changed no row and
cast nothing, and that no answer shows a project-A ARQ or FPGA image to a
persona that may not read it.
"""

import dataclasses
import importlib
import inspect
import json
import pathlib
import pkgutil
import re
import shutil
import sys
import uuid as uuid_lib

import pecan
from pecan import hooks
from pecan import rest
import pytest
import webtest

from cyborg_clone.api import app as api_app
from cyborg_clone.api import controllers
from cyborg_clone.api.controllers.v2 import devices
from cyborg_clone.common import context
from cyborg_clone.conductor import arq_binding
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import fpga_image
from tests.conftest import Api
from tests.conftest import FakeConductor
from tests.conftest import make_conf
from tests.fixtures.arq_requests import bind_patch
from tests.fixtures.arq_requests import unbind_patch
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.nova import RecordingNova

PROJECT_A = 'project-a'
PROJECT_B = 'project-b'
HOST = 'testhost'
DB_FILE = 'cyborg_clone.sqlite'
REPO = pathlib.Path(__file__).resolve().parents[3]
API_REF = REPO / 'api-ref' / 'source' / 'policy.rst'

# Identity as the noauth middleware reads it (keystonemiddleware sets the
# same headers from a token). Implied roles are expanded by the middleware,
# so 'manager' also holds member and reader, as a Keystone token would.
PERSONAS = {
    'admin': {'X-User-Id': 'cloud-admin', 'X-Project-Id': 'admin',
              'X-Roles': 'admin'},
    'member': {'X-User-Id': 'alice', 'X-Project-Id': PROJECT_A,
               'X-Roles': 'member'},
    'reader': {'X-User-Id': 'rita', 'X-Project-Id': PROJECT_A,
               'X-Roles': 'reader'},
    'manager': {'X-User-Id': 'max', 'X-Project-Id': PROJECT_A,
                'X-Roles': 'manager'},
    'other': {'X-User-Id': 'bob', 'X-Project-Id': PROJECT_B,
              'X-Roles': 'member'},
    # Nova on its own identity with its service token: X-Service-Roles
    # (the service token's roles) is what makes a caller a service.
    'service': {'X-User-Id': 'nova', 'X-Project-Id': 'service',
                'X-Roles': 'service', 'X-Service-Roles': 'service'},
    # No X-Roles at all: noauth only turns a caller into an administrator
    # when it sends no identity header, and this one names itself.
    'no-roles': {'X-User-Id': 'nora', 'X-Project-Id': PROJECT_A},
}

# What the application must see for each persona (checked by
# test_personas_reach_policy_as_described).
EXPECTED_IDENTITY = {
    'admin': ('admin', {'admin', 'manager', 'member', 'reader'}, set()),
    'member': (PROJECT_A, {'member', 'reader'}, set()),
    'reader': (PROJECT_A, {'reader'}, set()),
    'manager': (PROJECT_A, {'manager', 'member', 'reader'}, set()),
    'other': (PROJECT_B, {'member', 'reader'}, set()),
    'service': ('service', {'service'}, {'service'}),
    'no-roles': (PROJECT_A, set(), set()),
}

PERSONA_TITLES = {
    'admin': 'admin',
    'member': 'project member',
    'reader': 'project reader',
    'manager': 'project manager',
    'other': 'other-project member',
    'service': 'service',
    'no-roles': 'no roles',
}

COLUMNS = {'adm': 'admin', 'mem': 'member', 'rdr': 'reader',
           'mgr': 'manager', 'oth': 'other', 'svc': 'service',
           'none': 'no-roles'}

# The matrix. Columns: adm = cloud admin (own project "admin"); mem, rdr,
# mgr = member, reader, manager of project A; oth = member of project B;
# svc = Nova with a service token (user and project "service"); none = a
# project A user without roles.
#
# A line starting with "/" is a path prefix; the lines under it are
# "METHOD [suffix] [(note)]" and the expected status per column. A note is
# a microversion ("2.2") or which patch is sent ("bind", "unbind").
# Placeholders name the seeded data, all of project A:
#   {profile}, {profile_name}: the device profile its ARQs use;
#   {spare_profile}, {spare_profile_name}: an unused one (to delete);
#   {arq}: an Initial ARQ; {instance}: an instance whose ARQ is Bound;
#   {busy_instance}: one whose ARQ is still BindStarted;
#   {device}, {deployable}, {attribute}: the reported fake card's records
#     (hardware has no project);
#   {image}: an active FPGA image; {associated}: one associated with a VM
#     image; {project_id}: project A.
# 404 is used only where the API hides that another project's resource
# exists; 423 is "this instance's ARQs are still binding".
MATRIX_TABLE = '''
                                                 adm mem rdr mgr oth svc none
/
GET                                              200 200 200 200 200 200 200
/v2
GET                                              200 200 200 200 200 200 200
/v2/device_profiles
GET                                              200 200 200 200 200 200 403
GET /{profile}                                   200 200 200 200 200 200 403
GET /{profile_name} (2.2)                        200 200 200 200 200 200 403
POST                                             201 403 403 403 403 403 403
DELETE /{spare_profile}                          204 403 403 403 403 403 403
DELETE ?value={spare_profile_name}               204 403 403 403 403 403 403
/v2/accelerator_requests
GET                                              200 200 200 200 200 200 403
GET ?instance={instance}                         200 200 200 200 200 200 403
GET ?instance={instance}&bind_state=resolved     200 200 200 200 200 200 403
GET ?instance={busy_instance}&bind_state=resolved 423 423 423 423 200 423 403
GET /{arq}                                       200 200 200 200 404 200 403
POST                                             201 201 403 201 201 201 403
PATCH (bind)                                     403 403 403 403 403 202 403
PATCH (unbind)                                   403 403 403 403 403 202 403
PATCH /{arq} (bind)                              403 403 403 403 403 202 403
DELETE /{arq}                                    204 204 403 204 404 204 403
DELETE ?arqs={arq}                               204 204 403 204 404 204 403
DELETE ?instance={instance}                      403 403 403 403 403 204 403
/v2/devices
GET                                              200 403 403 200 403 403 403
GET /{device}                                    200 403 403 200 403 403 403
POST /{device}/enable                            200 403 403 403 403 403 403
POST /{device}/disable                           200 403 403 403 403 403 403
/v2/deployables
GET                                              200 403 403 200 403 403 403
GET /{deployable}                                200 403 403 200 403 403 403
PATCH /{deployable}/program                      200 403 403 403 403 403 403
/v2/attributes
GET                                              200 403 403 200 403 403 403
GET /{attribute}                                 200 403 403 200 403 403 403
POST                                             201 403 403 403 403 403 403
DELETE /{attribute}                              204 403 403 403 403 403 403
/v2/{project_id}/cloudservers/fpga_image
POST                                             200 200 403 200 403 403 403
/v1/{project_id}/cloudservers/fpga_image
POST                                             200 200 403 200 403 403 403
GET /detail                                      200 200 200 200 403 403 403
GET /detail?fpga_image_id={image}                200 200 200 200 403 403 403
GET /associations?fpga_image_id={associated}     200 200 200 200 403 403 403
DELETE /{image}                                  204 204 403 204 403 403 403
POST /{image}/association                        204 204 403 204 403 403 403
DELETE /{associated}/association                 204 204 403 204 403 403 403
'''


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {placeholders} naming Seed fields
    note: str | None

    @property
    def label(self):
        label = '%s %s' % (self.method, self.path)
        return label if self.note is None else '%s (%s)' % (label,
                                                           self.note)

    @property
    def version(self):
        if self.note and re.fullmatch(r'\d+\.\d+', self.note):
            return self.note
        return None


def parse_matrix(text):
    """{Route: {persona: status}} from the text table, in table order."""
    lines = [line for line in text.splitlines() if line.strip()]
    personas = [COLUMNS[name] for name in lines[0].split()]
    assert sorted(personas) == sorted(PERSONAS)
    matrix = {}
    prefix = None
    for line in lines[1:]:
        if line.startswith('/'):
            prefix = line.strip()
            continue
        words = line.split()
        cells, words = words[-len(personas):], words[:-len(personas)]
        method, rest_of_route = words[0], ' '.join(words[1:])
        note = re.search(r'\((.*)\)$', rest_of_route)
        suffix = rest_of_route[:note.start()].strip() if note else \
            rest_of_route
        path = prefix + suffix
        route = Route(method, path, note.group(1) if note else None)
        assert route not in matrix, 'row %s appears twice' % route.label
        matrix[route] = dict(zip(personas, map(int, cells), strict=True))
    return matrix


MATRIX = parse_matrix(MATRIX_TABLE)
CELLS = [(route, persona) for route in MATRIX for persona in PERSONAS]
SUCCESS = {200, 201, 202, 204}
HARDWARE_PREFIXES = ('/v2/device_profiles', '/v2/devices',
                     '/v2/deployables', '/v2/attributes')
ARQ_PREFIX = '/v2/accelerator_requests'
FPGA_PREFIXES = ('/v1/{project_id}/', '/v2/{project_id}/')
# Who may read project A's ARQs and FPGA images (None: every project's).
ARQ_PROJECTS_VISIBLE = {'admin': None, 'service': None,
                        'member': {PROJECT_A}, 'reader': {PROJECT_A},
                        'manager': {PROJECT_A}, 'other': {PROJECT_B},
                        'no-roles': set()}
IMAGE_READERS_OF_A = {'admin', 'member', 'reader', 'manager'}


def is_hardware_write(route):
    return route.method != 'GET' and route.path.startswith(
        HARDWARE_PREFIXES)


def names_a_project_a_arq(route):
    """Routes that act on or show project A's ARQs by uuid or instance;
    lists (also by instance) are filtered instead, and their bodies are
    checked in every cell."""
    return route.path.startswith(ARQ_PREFIX) and (
        route.method in ('PATCH', 'DELETE') or '/{' in route.path)


def is_project_a_fpga_route(route):
    return route.path.startswith(FPGA_PREFIXES)


# --- rendering for the API reference --------------------------------------

GENERATED_START = '.. BEGIN GENERATED POLICY MATRIX'
GENERATED_END = '.. END GENERATED POLICY MATRIX'


def render_rst():
    """The matrix as an RST list-table, between the marker comments."""
    lines = [GENERATED_START, '', '.. list-table::', '   :header-rows: 1',
             '', '   * - Request']
    lines += ['     - %s' % PERSONA_TITLES[p] for p in PERSONAS]
    for route, cells in MATRIX.items():
        note = '' if route.note is None else ' (%s)' % route.note
        lines.append('   * - ``%s %s``%s' % (route.method, route.path, note))
        lines += ['     - %d' % cells[p] for p in PERSONAS]
    lines += ['', GENERATED_END]
    return '\n'.join(lines) + '\n'


def generated_block(text):
    start = text.index(GENERATED_START)
    end = text.index(GENERATED_END) + len(GENERATED_END) + 1
    return start, end


def write_api_ref():
    """Replace the generated block of policy.rst with the current one."""
    text = API_REF.read_text()
    start, end = generated_block(text)
    API_REF.write_text(text[:start] + render_rst() + text[end:])


# --- the seeded database ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Seed:
    """Names of the seeded rows; fields double as path placeholders."""

    project_id: str
    profile: str
    profile_name: str
    spare_profile: str
    spare_profile_name: str
    arq: str
    bound_arq: str
    busy_arq: str
    other_project_arq: str
    instance: str
    busy_instance: str
    rp_uuid: str
    device: str
    deployable: str
    deployable_id: int
    attribute: str
    image: str
    associated: str

    @property
    def project_a_arqs(self):
        return {self.arq, self.bound_arq, self.busy_arq}

    @property
    def project_a_images(self):
        return {self.image, self.associated}


VM_IMAGE = '0c1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b'
NEW_INSTANCE = '6b1d3c44-2f6e-4c1b-9d2a-3e4f5a6b7c8d'


def request_body(route, seed):
    """The body a route's request carries: a valid one, so that a 2xx
    persona really succeeds and a refusal is down to policy alone."""
    path, method = route.path, route.method
    if route.note == 'bind':
        return bind_patch([seed.arq], HOST, seed.rp_uuid, NEW_INSTANCE)
    if route.note == 'unbind':
        return unbind_patch([seed.bound_arq])
    if method not in ('POST', 'PATCH') and not path.endswith(
            '/association') or path.endswith(('/enable', '/disable')):
        return None
    if path.endswith('/association'):
        return {'image': {'id': VM_IMAGE}}
    if path == '/v2/device_profiles':
        return [{'name': 'new-profile',
                 'groups': [{'resources:FPGA': '1'}]}]
    if path == ARQ_PREFIX:
        return {'device_profile_name': seed.profile_name}
    if path.endswith('/program'):
        return [{'path': '/program', 'op': 'replace',
                 'value': [{'image_uuid': str(uuid_lib.uuid4())}]}]
    if path == '/v2/attributes':
        return {'deployable_id': seed.deployable_id, 'key': 'owner',
                'value': 'team-a'}
    if path.startswith('/v2/{project_id}/'):
        return {'fpga_image': {'dcp_location': 'obs-fpga:vu9p/dcp.tar',
                               'name': 'new-build'}}
    if path.startswith('/v1/{project_id}/'):
        return {'fpga_image': {'location': 'obs-fpga:images/new.xclbin',
                               'name': 'new-registration'}}
    raise AssertionError('no request body known for %s' % route.label)


def _registered_image(api, name):
    response = api.post(
        '/v1/%s/cloudservers/fpga_image' % PROJECT_A,
        {'fpga_image': {'location': 'obs-fpga:images/%s.xclbin' % name,
                        'name': name}},
        headers=PERSONAS['member'], status=200)
    image_id = response.json['fpga_image']['id']
    # The conductor would copy it in; the matrix only needs it active.
    assert fpga_image.FpgaImage.transition(image_id, 'activate')
    return image_id


def seed_database(conf):
    """Project A's (and one of project B's) data, made through the API
    where the API can make it."""
    api = Api(webtest.TestApp(api_app.setup_app(
        conf, conductor_api=FakeConductor())))
    admin, member = PERSONAS['admin'], PERSONAS['member']
    host = report_fake_host(conf, HOST)
    profile = api.post('/v2/device_profiles', [{
        'name': 'fpga-profile', 'groups': [{'resources:FPGA': '1'}]}],
        headers=admin, status=201).json
    spare = api.post('/v2/device_profiles', [{
        'name': 'spare-profile', 'groups': [{'resources:FPGA': '1'}]}],
        headers=admin, status=201).json

    def new_arq(headers):
        return api.post(ARQ_PREFIX, {'device_profile_name': profile['name']},
                        headers=headers, status=201).json['arqs'][0]['uuid']

    arq, bound_arq, busy_arq = (new_arq(member) for _ in range(3))
    other_project_arq = new_arq(PERSONAS['other'])
    instance, busy_instance = str(uuid_lib.uuid4()), str(uuid_lib.uuid4())
    for uuid, vm in ((bound_arq, instance), (busy_arq, busy_instance)):
        api.patch(ARQ_PREFIX, bind_patch([uuid], HOST, host.rp_uuid, vm),
                  headers=PERSONAS['service'], status=202)
    arq_binding.bind_arqs(conf, context.get_admin_context(), [bound_arq],
                          nova_client=RecordingNova())
    states = {a['uuid']: a['state'] for a in api.get(
        ARQ_PREFIX, headers=admin, status=200).json['arqs']}
    assert states == {arq: 'Initial', bound_arq: 'Bound',
                      busy_arq: 'BindStarted', other_project_arq: 'Initial'}

    device = api.get('/v2/devices', headers=admin,
                     status=200).json['devices'][0]
    deployable = api.get('/v2/deployables', headers=admin,
                         status=200).json['deployables'][0]
    deployable_id = api.get('/v2/attributes?key=rc', headers=admin,
                            status=200).json['attributes'][0][
                                'deployable_id']
    attribute = api.post('/v2/attributes', {
        'deployable_id': deployable_id, 'key': 'rack', 'value': 'r1'},
        headers=admin, status=201).json
    image = _registered_image(api, 'free')
    associated = _registered_image(api, 'associated')
    api.post('/v1/%s/cloudservers/fpga_image/%s/association'
             % (PROJECT_A, associated), {'image': {'id': VM_IMAGE}},
             headers=member, status=204)
    return Seed(
        project_id=PROJECT_A, profile=profile['uuid'],
        profile_name=profile['name'], spare_profile=spare['uuid'],
        spare_profile_name=spare['name'], arq=arq, bound_arq=bound_arq,
        busy_arq=busy_arq, other_project_arq=other_project_arq,
        instance=instance, busy_instance=busy_instance,
        rp_uuid=host.rp_uuid, device=device['uuid'],
        deployable=deployable['uuid'], deployable_id=deployable_id,
        attribute=attribute['uuid'], image=image, associated=associated)


def _database_files(directory):
    return [directory / (DB_FILE + suffix) for suffix in ('', '-wal')]


@pytest.fixture(scope='session')
def seeded(tmp_path_factory, migrated_template):
    """(directory holding the seeded database, Seed), made once."""
    directory = tmp_path_factory.mktemp('policy-matrix-seed')
    shutil.copy(migrated_template, directory / DB_FILE)
    conf = make_conf(directory)
    db_api.reset()
    db_api.configure(conf)
    try:
        seed = seed_database(conf)
    finally:
        db_api.reset()
    return directory, seed


class HandlerRecorder(hooks.PecanHook):
    """Notes which handler Pecan routed a request to and who asked, so a
    cell can tell a policy answer from a routing one."""

    def __init__(self):
        self.calls = []

    def before(self, state):
        self.calls.append((state.request.method,
                           state.controller.__qualname__,
                           state.request.context))


def _pecan_app(app):
    while not isinstance(app, pecan.Pecan):
        app = app.application
    return app


@dataclasses.dataclass
class MatrixApp:
    conf: object
    directory: pathlib.Path
    conductor: FakeConductor
    recorder: HandlerRecorder
    api: Api


@pytest.fixture(scope='session')
def matrix_app(tmp_path_factory):
    """One app for every cell: the app keeps no state between requests,
    and building it is most of a cell's cost. Its database is swapped for
    a fresh copy before each cell (``fresh``)."""
    directory = tmp_path_factory.mktemp('policy-matrix-cell')
    conf = make_conf(directory)
    conductor = FakeConductor()
    recorder = HandlerRecorder()
    app = api_app.setup_app(conf, conductor_api=conductor)
    _pecan_app(app).hooks.append(recorder)
    return MatrixApp(conf, directory, conductor, recorder,
                     Api(webtest.TestApp(app)))


@pytest.fixture
def fresh(matrix_app, seeded):
    """The matrix app on its own copy of the seeded database."""
    seed_directory, seed = seeded
    db_api.reset()
    for path in _database_files(matrix_app.directory):
        path.unlink(missing_ok=True)
    for path in _database_files(seed_directory):
        if path.exists():
            shutil.copy(path, matrix_app.directory / path.name)
    db_api.configure(matrix_app.conf)
    matrix_app.conductor.calls.clear()
    matrix_app.recorder.calls.clear()
    yield matrix_app, seed
    db_api.reset()


def call(matrix_app, seed, route, persona, path=None):
    """Send ``route``'s request as ``persona``: (response, request text)."""
    path = (path or route.path).format(**dataclasses.asdict(seed))
    body = request_body(route, seed)
    response = matrix_app.api.request(route.method, path, body=body,
                                      headers=PERSONAS[persona],
                                      version=route.version)
    return response, path + json.dumps(body)


def snapshot():
    """Every row of every table, to show a refusal changed nothing."""
    # Plain SQL: compiling a select per table per cell would cost more
    # than the cell's request.
    with db_api.reader() as session:
        connection = session.connection()
        return {table: sorted(map(tuple, connection.exec_driver_sql(
            'SELECT * FROM %s' % table)), key=repr)
            for table in models.Base.metadata.tables}


def arqs_in(body):
    if isinstance(body, dict) and isinstance(body.get('arqs'), list):
        return body['arqs']
    if isinstance(body, dict) and {'state', 'project_id'} <= set(body):
        return [body]
    return []


def assert_nothing_leaks(persona, seed, response, request_text):
    visible = ARQ_PROJECTS_VISIBLE[persona]
    body = response.json if response.content_type == \
        'application/json' and response.text else None
    for arq in arqs_in(body):
        assert visible is None or arq['project_id'] in visible, arq
    hidden = set()
    if visible is not None and PROJECT_A not in visible:
        hidden |= seed.project_a_arqs
    if persona not in IMAGE_READERS_OF_A:
        hidden |= seed.project_a_images
    # An id the caller sent may be echoed (e.g. "not found"); one it did
    # not send must not appear.
    leaked = {i for i in hidden
              if i in response.text and i not in request_text}
    assert not leaked, (persona, response.text)


# --- the matrix ------------------------------------------------------------


@pytest.mark.parametrize(
    'route,persona', CELLS,
    ids=['%s | %s' % (route.label, persona) for route, persona in CELLS])
def test_cell(fresh, route, persona):
    matrix_app, seed = fresh
    expected = MATRIX[route][persona]
    refused = expected not in SUCCESS
    before = snapshot() if refused else None
    response, request_text = call(matrix_app, seed, route, persona)
    assert response.status_int == expected, response.text
    assert matrix_app.recorder.calls, 'no handler ran: a routing answer'
    assert_nothing_leaks(persona, seed, response, request_text)
    if refused:
        assert snapshot() == before
        assert matrix_app.conductor.calls == []


# The same handlers answer without the /v2 prefix (upstream does too), so
# the prefixless path must land on the very handler the table covers.
ALIASED = [route for route in MATRIX if route.path.startswith('/v2/')]


@pytest.mark.parametrize('route', ALIASED, ids=[r.label for r in ALIASED])
def test_path_without_v2_reaches_the_same_handler(fresh, route):
    matrix_app, seed = fresh
    for persona in ('other', 'no-roles'):
        matrix_app.recorder.calls.clear()
        call(matrix_app, seed, route, persona)
        [(_, with_prefix, _)] = matrix_app.recorder.calls
        matrix_app.recorder.calls.clear()
        response, request_text = call(matrix_app, seed, route, persona,
                                      path=route.path[len('/v2'):])
        [(_, without, _)] = matrix_app.recorder.calls
        assert without == with_prefix
        assert response.status_int == MATRIX[route][persona]
        assert_nothing_leaks(persona, seed, response, request_text)


def test_other_project_lists_only_its_own_arqs(fresh):
    matrix_app, seed = fresh
    for route in MATRIX:
        if route.path.startswith(ARQ_PREFIX) and route.method == 'GET' \
                and '/{' not in route.path:
            response, _ = call(matrix_app, seed, route, 'other')
            listed = {a['uuid'] for a in response.json['arqs']}
            assert not listed & seed.project_a_arqs, route.label
            if route.path == ARQ_PREFIX:
                assert listed == {seed.other_project_arq}


# --- invariants read off the table --------------------------------------


def test_only_admin_writes_hardware_records():
    writes = [route for route in MATRIX if is_hardware_write(route)]
    assert len(writes) == 8
    for route in writes:
        assert MATRIX[route]['admin'] in SUCCESS, route.label
        granted = {p for p, status in MATRIX[route].items()
                   if status in SUCCESS}
        assert granted == {'admin'}, route.label


def test_no_outsider_reaches_a_project_a_arq():
    routes = [route for route in MATRIX if names_a_project_a_arq(route)]
    assert len(routes) == 7
    for route in routes:
        for persona in ('other', 'no-roles'):
            assert MATRIX[route][persona] not in SUCCESS, (route.label,
                                                           persona)


def test_no_outsider_reaches_project_a_fpga_images():
    routes = [route for route in MATRIX if is_project_a_fpga_route(route)]
    assert len(routes) == 8
    for route in routes:
        for persona in ('other', 'service', 'no-roles'):
            assert MATRIX[route][persona] == 403, (route.label, persona)


def test_a_caller_without_roles_only_discovers_versions():
    granted = [route.path for route, cells in MATRIX.items()
               if cells['no-roles'] in SUCCESS]
    assert granted == ['/', '/v2']


def test_only_the_service_binds_unbinds_and_deletes_by_instance():
    nova_only = [route for route in MATRIX
                 if route.path.startswith(ARQ_PREFIX) and (
                     route.method == 'PATCH' or (
                         route.method == 'DELETE'
                         and 'instance=' in route.path))]
    assert len(nova_only) == 4
    for route in nova_only:
        granted = {p for p, status in MATRIX[route].items()
                   if status in SUCCESS}
        assert granted == {'service'}, route.label


def test_statuses_are_real_and_404_only_hides_other_projects():
    for route, cells in MATRIX.items():
        assert set(cells.values()) <= SUCCESS | {403, 404, 423}, route.label
        assert any(status in SUCCESS for status in cells.values()), (
            'nobody succeeds at %s, so its row proves little' % route.label)
        assert {p for p, status in cells.items() if status == 404} <= {
            'other'}, route.label


# --- the table covers the whole API -------------------------------------

REST_VERBS = {'get_all': 'GET', 'get_one': 'GET', 'get': 'GET',
              'post': 'POST', 'put': 'PUT', 'patch': 'PATCH',
              'delete': 'DELETE'}


def exposed_handlers():
    """(HTTP method, handler) for every handler the controllers define.

    Every class of every module under cyborg_clone.api.controllers counts,
    also ones reached only through a ``_lookup``. A handler exposed in a
    way this walk does not understand is reported with method "?", which
    no request can match, so the completeness test fails on it too.
    """
    found = set()
    for info in pkgutil.walk_packages(controllers.__path__,
                                      controllers.__name__ + '.'):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            custom = getattr(cls, '_custom_actions', {})
            for name, attr in vars(cls).items():
                config = getattr(attr, '_pecan', None)
                if config is None or name in ('_lookup', '_route') \
                        or config.get('generic_handler'):
                    # _lookup/_route only pick a controller; a generic's
                    # handlers are listed with the generic itself.
                    continue
                if config.get('generic'):
                    found |= {(method, handler.__qualname__) for method,
                              handler in config['generic_handlers'].items()
                              if method != 'DEFAULT'}
                elif name in custom:
                    found |= {(m.upper(), attr.__qualname__)
                              for m in custom[name]}
                elif name in REST_VERBS and issubclass(
                        cls, rest.RestController):
                    found.add((REST_VERBS[name], attr.__qualname__))
                else:
                    found.add(('?', attr.__qualname__))
    return found


def test_every_exposed_handler_has_a_row(fresh):
    matrix_app, seed = fresh
    reached = set()
    for route in MATRIX:
        matrix_app.recorder.calls.clear()
        call(matrix_app, seed, route, 'admin')
        [(method, handler, _)] = matrix_app.recorder.calls
        reached.add((method, handler))
    exposed = exposed_handlers()
    assert len(exposed) > 25
    assert exposed - reached == set(), 'routes missing from the matrix'
    assert reached - exposed == set(), 'the walk missed a handler'


@pytest.mark.parametrize('custom_action', [True, False])
def test_the_walk_notices_a_new_handler(monkeypatch, custom_action):
    # The completeness check is only as good as the walk: a new exposed
    # method on a real controller must show up in it, as a custom action
    # or as something the walk cannot place.
    controller = devices.DevicesController

    @pecan.expose()
    def reset(self, device_uuid):
        return None

    before = exposed_handlers()
    if custom_action:
        monkeypatch.setattr(controller, '_custom_actions', {
            **controller._custom_actions, 'reset': ['POST']})
    monkeypatch.setattr(controller, 'reset', reset, raising=False)
    added = exposed_handlers() - before
    assert [method for method, _ in added] == (
        ['POST'] if custom_action else ['?'])


def test_personas_reach_policy_as_described(fresh):
    matrix_app, seed = fresh
    route = Route('GET', '/v2', None)
    for persona, (project, roles, service_roles) in \
            EXPECTED_IDENTITY.items():
        matrix_app.recorder.calls.clear()
        call(matrix_app, seed, route, persona)
        [(_, _, seen)] = matrix_app.recorder.calls
        assert (seen.project_id, set(seen.roles),
                set(seen.service_roles)) == (project, roles, service_roles)
        assert seen.is_admin == (persona == 'admin')


# --- the API reference shows this table --------------------------------


def test_api_ref_shows_this_matrix():
    text = API_REF.read_text()
    start, end = generated_block(text)
    assert text[start:end] == render_rst(), (
        'api-ref/source/policy.rst is stale: run python -m '
        'tests.functional.api.test_policy_matrix')
    assert 'tests/functional/api/test_policy_matrix.py' in text


if __name__ == '__main__':
    write_api_ref()
    sys.stdout.write('rewrote %s\n' % API_REF)
