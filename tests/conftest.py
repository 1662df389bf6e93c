"""Fixtures shared by every test: a fresh config, a migrated database and
the API app, all in-process. The database is SQLite, or in modules that set
``DB_BACKENDS`` each of SQLite, PostgreSQL and MariaDB in turn
(tests/fixtures/databases.py)."""

import json
import shutil

from oslo_config import cfg
import pytest
import sqlalchemy as sa
from sqlalchemy import event
import webob
import webtest

from cyborg_clone import conf as cc_conf
from cyborg_clone import privsep
from cyborg_clone.api import app as api_app
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from tests.fixtures import databases
from tests.fixtures.databases import mysql_server  # noqa: F401
from tests.fixtures.databases import postgresql_server  # noqa: F401
from tests.fixtures.rabbitmq import rabbitmq_url  # noqa: F401


@pytest.fixture(autouse=True, scope='session')
def privsep_in_process():
    """Run privileged entry points (vendor tools) in the test process: no
    privsep daemon and no sudo; the tools are the fake ones anyway."""
    privsep.sys_admin_pctxt.set_client_mode(False)
    yield
    privsep.sys_admin_pctxt.set_client_mode(True)


def make_conf(state_path, overrides=None):
    """A ConfigOpts like a service's, with test-friendly defaults and
    ``overrides``, a dict of {(group, name): value} (group None for
    DEFAULT)."""
    conf = cfg.ConfigOpts()
    cc_conf.register_opts(conf)
    conf([], project='cyborg_clone', default_config_files=[])
    conf.set_override('state_path', str(state_path))
    conf.set_override('auth_strategy', 'noauth', group='api')
    conf.set_override('host', 'testhost')
    for (group, name), value in (overrides or {}).items():
        conf.set_override(name, value, group=group)
    return conf


@pytest.fixture(scope='session')
def migrated_template(tmp_path_factory):
    """An SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp('template')
    conf = make_conf(path)
    migration.upgrade(conf)
    db_api.reset()
    return path / 'cyborg_clone.sqlite'


def _parametrized_by_hand(metafunc, name):
    for mark in metafunc.definition.iter_markers('parametrize'):
        names = mark.args[0] if mark.args else mark.kwargs['argnames']
        if isinstance(names, str):
            names = [n.strip() for n in names.split(',')]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc):
    """Run the database tests of a module that sets ``DB_BACKENDS`` (see
    tests/fixtures/databases.py) on each of those backends, except those
    that name their own (``@pytest.mark.parametrize('db_backend',
    ['sqlite'], indirect=True)``)."""
    backends = getattr(metafunc.module, 'DB_BACKENDS', None)
    if (backends and 'db_backend' in metafunc.fixturenames
            and not _parametrized_by_hand(metafunc, 'db_backend')):
        metafunc.parametrize('db_backend', backends, indirect=True)


@pytest.fixture
def db_backend(request):
    """The database ``conf`` points at: SQLite, unless the test module
    asks for more backends (DB_BACKENDS)."""
    return getattr(request, 'param', 'sqlite')


@pytest.fixture
def conf(request, tmp_path, db_backend):
    """Configuration with a fresh database migrated to head, on
    ``db_backend``; the process's engines point at it."""
    url = databases.database_url(request, db_backend)
    if url is None:
        shutil.copy(request.getfixturevalue('migrated_template'),
                    tmp_path / 'cyborg_clone.sqlite')
    conf = make_conf(tmp_path, {('database', 'connection'): url})
    db_api.configure(conf)
    yield conf
    db_api.reset()


@pytest.fixture
def empty_conf(request, tmp_path, db_backend):
    """Like ``conf``, but the database is empty: no tables, no revision.
    The process's engines are not configured; migration.* does that."""
    url = databases.database_url(request, db_backend, migrated=False)
    yield make_conf(tmp_path, {('database', 'connection'): url})
    db_api.reset()


class StatementCounter:
    """Counts SQL statements sent on every engine while active."""

    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, *args):
        if not statement.startswith(('BEGIN', 'PRAGMA')):
            self.statements.append(statement)

    @property
    def count(self):
        return len(self.statements)


@pytest.fixture
def count_statements(conf):
    """Call it to start counting; returns the counter."""
    listening = []

    def start():
        counter = StatementCounter()
        for engine in db_api.engines():
            event.listen(engine, 'before_cursor_execute', counter)
            listening.append((engine, counter))
        return counter
    yield start
    for engine, counter in listening:
        event.remove(engine, 'before_cursor_execute', counter)


class FakeConductor:
    """Records casts; tests that need the real conductor use RPC."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def record(context, **kwargs):
            self.calls.append((name, kwargs))
        return record


class Api:
    """A thin HTTP client around the in-process app."""

    def __init__(self, app):
        self.app = app
        self.headers = {}

    def request(self, method, path, body=None, status=None, headers=None,
                version=None, raw=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        if version is not None:
            all_headers['OpenStack-API-Version'] = 'accelerator %s' % version
        kwargs = {'headers': all_headers, 'expect_errors': True}
        if raw is not None:
            kwargs['params'] = raw
            all_headers.setdefault('Content-Type', 'application/json')
        elif body is not None:
            kwargs['params'] = json.dumps(body)
            all_headers['Content-Type'] = 'application/json'
        response = getattr(self.app, method.lower())(path, **kwargs)
        if status is not None:
            assert response.status_int == status, (
                response.status, response.text)
        return response

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request('PATCH', path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def post_chunked(self, path, body, headers=None, terminated=True):
        """POST ``body`` as a chunked body (no Content-Length), handed over
        by a server that does (``wsgi.input_terminated``) or does not
        end it for the app."""
        request = webob.Request.blank(
            path, method='POST', body=json.dumps(body).encode(),
            headers=dict(self.headers, **(headers or {}),
                         **{'Content-Type': 'application/json',
                            'Transfer-Encoding': 'chunked'}))
        del request.environ['CONTENT_LENGTH']
        if terminated:
            request.environ['wsgi.input_terminated'] = True
        return request.get_response(self.app.app)


def error_of(response):
    """The faultstring of an error response, checking the wire format."""
    assert response.content_type == 'application/json'
    fault = json.loads(response.json['error_message'])
    assert set(fault) == {'faultcode', 'faultstring', 'debuginfo'}
    assert fault['faultcode'] == ('Client' if response.status_int < 500
                                  else 'Server')
    return fault['faultstring']


@pytest.fixture
def conductor():
    return FakeConductor()


@pytest.fixture
def api(conf, conductor):
    return Api(webtest.TestApp(api_app.setup_app(conf,
                                                 conductor_api=conductor)))


def row_count(table):
    with db_api.reader() as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(sa.table(table))
        ).scalar_one()
