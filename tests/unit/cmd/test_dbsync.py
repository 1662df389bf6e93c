"""cyborg-clone-dbsync through its main(), on a new empty database of each
backend."""

from alembic import script
import pytest
import sqlalchemy as sa

from cyborg_clone.cmd import dbsync
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from tests import logging_state
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS


@pytest.fixture(autouse=True)
def _reset_engines():
    yield
    db_api.reset()


@pytest.fixture
def config_file(request, tmp_path, db_backend):
    path = tmp_path / 'cyborg_clone.conf'
    text = '[DEFAULT]\nstate_path = %s\n' % tmp_path
    url = databases.database_url(request, db_backend, migrated=False)
    if url is not None:
        text += '[database]\nconnection = %s\n' % url
    path.write_text(text)
    return str(path)


def run(config_file, *args):
    with logging_state.preserved():
        return dbsync.main(['--config-file', config_file, *args])


def version_lines(config_file, capsys):
    capsys.readouterr()
    assert run(config_file, 'version') == 0
    return capsys.readouterr().out.splitlines()


def head():
    return script.ScriptDirectory(migration.MIGRATIONS_DIR).get_current_head()


def tables():
    return set(sa.inspect(db_api.writer_engine()).get_table_names())


def test_upgrade_then_version_reports_head(config_file, capsys):
    assert version_lines(config_file, capsys) == [
        'current: none', 'head: %s' % head()]

    assert run(config_file, 'upgrade') == 0

    assert version_lines(config_file, capsys) == [
        'current: %s' % head(), 'head: %s' % head()]


def test_downgrade_losing_data_is_refused_and_changes_nothing(config_file,
                                                              capsys):
    assert run(config_file, 'upgrade') == 0
    before = tables()
    capsys.readouterr()

    assert run(config_file, 'downgrade', '--revision', '0001') == 1

    # The last line: logging goes to stderr too.
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith('cyborg-clone-dbsync downgrade failed: '
                          'downgrading from %s to 0001 would lose data: '
                          % head())
    # Each losing step by name with what it drops; 0001's own downgrade
    # does not run, so it is not named.
    assert '0003 drops deployables.vanished_at' in err
    assert '0002 drops the FPGA image tables' in err
    assert '0001 drops' not in err
    assert '--force' in err
    assert version_lines(config_file, capsys)[0] == 'current: %s' % head()
    assert tables() == before


def test_forced_downgrade_to_base_empties_the_schema(config_file, capsys):
    assert run(config_file, 'upgrade') == 0

    assert run(config_file, 'downgrade', '--revision', 'base',
               '--force') == 0

    assert capsys.readouterr().out.splitlines()[-1] == \
        'Database downgraded to base (empty).'
    assert version_lines(config_file, capsys)[0] == 'current: none'
    assert tables() == {'alembic_version'}


@pytest.mark.parametrize('db_backend', ['sqlite'], indirect=True)
def test_steps_that_lose_nothing_need_no_force(config_file, capsys,
                                               monkeypatch):
    # As if the downgrades above 0002 dropped only indexes: going below
    # 0003 is allowed, going below 0002 is still not.
    says = migration.downgrade_loses
    monkeypatch.setattr(migration, 'downgrade_loses', lambda s: (
        None if s.revision > '0002' else says(s)))
    assert run(config_file, 'upgrade') == 0

    assert run(config_file, 'downgrade', '--revision', '0002') == 0
    assert run(config_file, 'downgrade', '--revision', 'base') == 1

    err = capsys.readouterr().err
    assert 'from 0002 to base would lose data: 0002 drops' in err
    assert '0001 drops every table' in err
    assert version_lines(config_file, capsys)[0] == 'current: 0002'


@pytest.mark.parametrize('db_backend', ['sqlite'], indirect=True)
def test_unknown_revision_fails_with_a_message(config_file, capsys):
    assert run(config_file, 'upgrade', '--revision', 'nosuch') == 1
    err = capsys.readouterr().err
    assert 'cyborg-clone-dbsync upgrade failed' in err
    assert 'nosuch' in err

    assert run(config_file, 'upgrade') == 0
    assert run(config_file, 'downgrade', '--revision', 'nosuch') == 1
    err = capsys.readouterr().err
    assert 'cyborg-clone-dbsync downgrade failed' in err
    assert 'nosuch' in err


@pytest.mark.parametrize('db_backend', ['sqlite'], indirect=True)
def test_downgrade_needs_a_revision(config_file):
    with pytest.raises(SystemExit) as exit_info:
        run(config_file, 'downgrade')
    assert exit_info.value.code != 0
