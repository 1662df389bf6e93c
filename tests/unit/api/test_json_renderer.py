"""The responses' JSON encoding: what json.dumps would say, faster."""

import json

import pytest
from wsme import types as wtypes

from cyborg_clone.api import json_renderer
from cyborg_clone.api.types import base

DOCUMENTS = [
    {'device_profiles': [{'name': 'gpu-é-图', 'groups': [{'a': '1'}],
                          'updated_at': None, 'links': []}]},
    {'arqs': [{'device_profile_group_id': 0, 'attach_handle_info': {},
               'instance_uuid': None}] * 3},
    {'count': 2 ** 53, 'ratio': 0.25, 'flag': True, 'items': ('a', 'b')},
    {1: 'a number as a key'},
]


@pytest.mark.parametrize('document', DOCUMENTS)
def test_a_document_reads_back_as_json_dumps_would_write_it(document):
    body = json_renderer.JSONRenderer.render(
        None, {'result': document, 'datatype': base.json_body})
    assert isinstance(body, bytes)
    assert json.loads(body) == json.loads(json.dumps(document))


def test_non_ascii_text_is_utf_8_not_escaped():
    body = json_renderer.JSONRenderer.render(
        None, {'result': {'name': 'é图'}, 'datatype': base.json_body})
    assert body == '{"name":"é图"}'.encode()


def test_faults_and_other_declared_types_go_through_wsme():
    fault = {'faultcode': 'Client', 'faultstring': 'bad', 'debuginfo': None}
    assert json.loads(json_renderer.JSONRenderer.render(None, fault)) == \
        fault
    body = json_renderer.JSONRenderer.render(
        None, {'result': 'text', 'datatype': wtypes.text})
    assert json.loads(body) == 'text'
