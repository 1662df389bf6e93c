"""Sphinx configuration of the API reference (os-api-ref).

Built with ``tox -e api-ref``; ``tests/functional/test_api_ref_build.py``
runs the same build with warnings as errors. The build is offline: the
openstackdocs theme is used when it is installed and can read the git
commit it stamps on every page, otherwise Sphinx's own alabaster theme.
"""

import subprocess

extensions = ['os_api_ref']

project = 'cyborg_clone Accelerator API Reference'
copyright = 'cyborg_clone contributors'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'native'
language = 'en'

# The microversion selector of os-api-ref; a test checks these against
# cyborg_clone/api/microversion.py.
os_api_ref_min_microversion = '2.0'
os_api_ref_max_microversion = '2.4'


def _openstackdocstheme_usable():
    """True when openstackdocstheme is installed and will not warn: it
    runs ``git rev-parse HEAD`` for every build and warns when that
    fails (a tarball, no git)."""
    try:
        import openstackdocstheme  # noqa: F401
    except ImportError:
        return False
    try:
        subprocess.run(['git', 'rev-parse', 'HEAD'], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


if _openstackdocstheme_usable():
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    html_theme_options = {'sidebar_mode': 'toc'}
    # The project name comes from here, not from setup.cfg.
    openstackdocs_auto_name = False
    openstackdocs_repo_name = 'cyborg_clone'
    openstackdocs_use_storyboard = False
else:
    html_theme = 'alabaster'

html_title = project
html_static_path = []
html_last_updated_fmt = '%Y-%m-%d %H:%M'
