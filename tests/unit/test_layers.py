"""Layers import only what they may: SQL lives in cyborg_clone/objects/ (no
other layer imports the models), the API imports no command, and of the
conductor only its RPC client."""

import ast
import pathlib

import cyborg_clone

PACKAGE = pathlib.Path(cyborg_clone.__file__).parent
LAYERS = ('conductor', 'agent', 'api', 'drivers')
MODELS = 'cyborg_clone.db.models'


def _imports_models(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            if any(alias.name == MODELS for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            if node.module == MODELS or (
                    node.module == 'cyborg_clone.db' and any(
                        alias.name == 'models' for alias in node.names)):
                return True
    return False


def test_only_objects_import_the_database_models():
    offenders = sorted(
        str(path.relative_to(PACKAGE))
        for layer in LAYERS for path in (PACKAGE / layer).rglob('*.py')
        if _imports_models(path))
    assert offenders == []


def test_the_check_sees_each_spelling(tmp_path):
    for source in ('from cyborg_clone.db import models\n',
                   'import cyborg_clone.db.models\n',
                   'from cyborg_clone.db.models import Deployable\n'):
        path = tmp_path / 'module.py'
        path.write_text(source)
        assert _imports_models(path), source
    path.write_text('from cyborg_clone.db import api\n')
    assert not _imports_models(path)


def _imported(path):
    """Every module ``path`` imports, each spelling resolved to a name."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from ('%s.%s' % (node.module, alias.name)
                        for alias in node.names)


def _imports_under(path, package):
    return any(name == package or name.startswith(package + '.')
               for name in _imported(path))


def test_the_api_imports_nothing_from_the_commands():
    # The commands start processes; the API is a library they (and WSGI
    # servers) load. Start-up both need is in common/startup.py.
    offenders = sorted(
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / 'api').rglob('*.py')
        if _imports_under(path, 'cyborg_clone.cmd'))
    assert offenders == []


def test_the_command_check_sees_each_spelling(tmp_path):
    path = tmp_path / 'module.py'
    for source in ('from cyborg_clone import cmd\n',
                   'import cyborg_clone.cmd.startup\n',
                   'from cyborg_clone.cmd.api import main\n'):
        path.write_text(source)
        assert _imports_under(path, 'cyborg_clone.cmd'), source
    path.write_text('from cyborg_clone import common\n'
                    'import cyborg_clone.cmdline\n')
    assert not _imports_under(path, 'cyborg_clone.cmd')


def test_the_api_reaches_the_conductor_only_through_its_rpc_client():
    # The conductor's workflows run in the conductor; what the API shares
    # with them (keys, states, rules) lives in objects/ or common/.
    allowed = {'cyborg_clone.conductor', 'cyborg_clone.conductor.rpcapi'}
    offenders = sorted(
        '%s imports %s' % (path.relative_to(PACKAGE), name)
        for path in (PACKAGE / 'api').rglob('*.py')
        for name in _imported(path)
        if name.startswith('cyborg_clone.conductor') and name not in allowed)
    assert offenders == []
