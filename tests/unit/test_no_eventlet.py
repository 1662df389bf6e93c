"""No eventlet: no module imports it, and importing them all neither
imports it nor patches anything; oslo.service runs its threading backend.
(The library stays installed: oslo.service's package requires it.)"""

import ast
import pathlib
import subprocess
import sys

import cyborg_clone

PACKAGE = pathlib.Path(cyborg_clone.__file__).parent
GREEN = ('eventlet', 'greenlet')


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif (isinstance(node, ast.Call)
              and isinstance(node.func, (ast.Name, ast.Attribute))
              and node.args and isinstance(node.args[0], ast.Constant)
              and getattr(node.func, 'attr', getattr(node.func, 'id', ''))
              in ('import_module', '__import__', 'try_import')):
            yield str(node.args[0].value)


def test_no_module_imports_eventlet():
    offenders = sorted(
        '%s imports %s' % (path.relative_to(PACKAGE.parent), name)
        for path in PACKAGE.rglob('*.py')
        for name in imported_modules(path)
        if name.split('.')[0] in GREEN)
    assert offenders == []


def test_the_scan_sees_every_kind_of_import(tmp_path):
    source = tmp_path / 'm.py'
    source.write_text('import eventlet.wsgi\nfrom greenlet import getcurrent\n'
                      'importlib.import_module("eventlet")\n')
    assert list(imported_modules(source)) == [
        'eventlet.wsgi', 'greenlet', 'eventlet']


# Runs in a fresh interpreter: the test process imports whatever other
# tests need.
IMPORT_ALL = '''
import importlib, pkgutil, socket, sys, threading, time
import cyborg_clone
for module in pkgutil.walk_packages(cyborg_clone.__path__, 'cyborg_clone.'):
    importlib.import_module(module.name)
assert socket.socket.__module__ == 'socket', socket.socket
assert threading.Thread.__module__ == 'threading', threading.Thread
assert type(time.sleep).__name__ == 'builtin_function_or_method'
imported = sorted(name for name, module in sys.modules.items()
                  if module is not None
                  and name.split('.')[0] in ('eventlet', 'greenlet'))
assert not imported, imported
from oslo_service import backend
assert backend.get_backend_type() is backend.BackendType.THREADING
print(len(sys.modules))
'''


def test_importing_every_module_imports_no_eventlet_and_patches_nothing():
    result = subprocess.run([sys.executable, '-c', IMPORT_ALL],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
