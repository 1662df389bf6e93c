"""The API reference builds without a single warning (``tox -e api-ref``
runs the same sphinx-build), offline, with the os-api-ref extension."""

import json
import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

REPO = pathlib.Path(__file__).resolve().parents[2]
SOURCE = REPO / 'api-ref' / 'source'
VENV_PYTHON = REPO / '.venv' / 'bin' / 'python'


def test_api_ref_builds_without_warnings(tmp_path):
    python = VENV_PYTHON if VENV_PYTHON.exists() else pathlib.Path(
        sys.executable)
    build = subprocess.run(
        [str(python), '-m', 'sphinx', '-W', '--keep-going', '-b', 'html',
         '-d', str(tmp_path / 'doctrees'), str(SOURCE),
         str(tmp_path / 'html')],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    output = build.stdout + build.stderr
    assert build.returncode == 0, output
    assert 'WARNING' not in output and 'ERROR' not in output, output

    html = tmp_path / 'html'
    pages = {path.stem for path in SOURCE.glob('*.rst')}
    assert {path.stem for path in html.glob('*.html')} >= pages
    # os-api-ref did its work: every route became an expandable operation
    # with its parameter tables and examples.
    for page in pages - {'index', 'errors', 'policy'}:
        text = (html / (page + '.html')).read_text()
        methods = re.findall(r'^\.\. rest_method:: ',
                             (SOURCE / (page + '.rst')).read_text(), re.M)
        assert text.count('class="operation-grp') == len(methods), page
    bind = json.loads((SOURCE / 'samples' / 'accelerator_requests' /
                       'accelerator_requests-bind-req.json').read_text())
    assert next(iter(bind)) in (html / 'accelerator-requests.html').read_text()
    assert (html / '_static' / 'api-site.js').exists()
