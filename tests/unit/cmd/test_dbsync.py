"""cyborg-clone-dbsync through its main(), on a temporary SQLite file."""

from alembic import script
import pytest

from cyborg_clone.cmd import dbsync
from cyborg_clone.db import api as db_api
from cyborg_clone.db import migration
from tests import logging_state


@pytest.fixture(autouse=True)
def _reset_engines():
    yield
    db_api.reset()


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'cyborg_clone.conf'
    path.write_text('[DEFAULT]\nstate_path = %s\n' % tmp_path)
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


def test_upgrade_then_version_reports_head(config_file, capsys):
    assert version_lines(config_file, capsys) == [
        'current: none', 'head: %s' % head()]

    assert run(config_file, 'upgrade') == 0

    assert version_lines(config_file, capsys) == [
        'current: %s' % head(), 'head: %s' % head()]


def test_downgrade_to_base_empties_the_schema(config_file, capsys):
    assert run(config_file, 'upgrade') == 0

    assert run(config_file, 'downgrade', '--revision', 'base') == 0

    assert version_lines(config_file, capsys)[0] == 'current: none'


def test_unknown_revision_fails_with_a_message(config_file, capsys):
    assert run(config_file, 'upgrade', '--revision', 'nosuch') == 1

    err = capsys.readouterr().err
    assert 'cyborg-clone-dbsync upgrade failed' in err
    assert 'nosuch' in err


def test_downgrade_needs_a_revision(config_file):
    with pytest.raises(SystemExit) as exit_info:
        run(config_file, 'downgrade')
    assert exit_info.value.code != 0
