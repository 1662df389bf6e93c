"""The uWSGI entry point: config file lookup and lazy start."""

import shutil

import pytest
import webtest

from cyborg_clone.api import wsgi
from cyborg_clone.db import api as db_api
from tests import logging_state


@pytest.fixture(autouse=True)
def _reset_engines():
    yield
    db_api.reset()


def test_config_file_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(wsgi.CONFIG_FILE_ENV, '/somewhere/cc.conf')
    assert wsgi.config_files() == ['/somewhere/cc.conf']


def test_default_config_file_is_used_only_if_it_exists(monkeypatch,
                                                       tmp_path):
    monkeypatch.delenv(wsgi.CONFIG_FILE_ENV, raising=False)
    default = tmp_path / 'cyborg_clone.conf'
    monkeypatch.setattr(wsgi, 'DEFAULT_CONFIG_FILE', str(default))
    assert wsgi.config_files() == []
    default.write_text('')
    assert wsgi.config_files() == [str(default)]


def test_first_request_builds_the_app_from_the_config(monkeypatch, tmp_path,
                                                      migrated_template):
    shutil.copy(migrated_template, tmp_path / 'cyborg_clone.sqlite')
    config = tmp_path / 'cyborg_clone.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\n'
                      '[api]\nauth_strategy = noauth\n' % tmp_path)
    monkeypatch.setenv(wsgi.CONFIG_FILE_ENV, str(config))
    app = webtest.TestApp(wsgi.LazyApplication())

    with logging_state.preserved():
        assert app.get('/').json['versions'][0]['id'] == 'v2'
    assert app.get('/v2/device_profiles').json == {'device_profiles': []}
