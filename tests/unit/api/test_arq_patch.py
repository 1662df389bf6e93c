"""Nova's bind/unbind patch: its paths are the fields a bind sets."""

import uuid

import pytest

from cyborg_clone.api import arq_patch
from cyborg_clone.api import microversion
from cyborg_clone.api.schemas import arq as schema
from cyborg_clone.common import exception
from cyborg_clone.objects import arq as arq_obj

ARQ = str(uuid.uuid4())
VALUES = {'hostname': 'compute-1', 'device_rp_uuid': str(uuid.uuid4()),
          'instance_uuid': str(uuid.uuid4()), 'project_id': 'p1'}
LATEST = microversion.MAX_VERSION


def adds(names):
    return {ARQ: [{'op': 'add', 'path': '/' + name, 'value': VALUES[name]}
                  for name in names]}


def test_the_schema_accepts_exactly_the_fields_a_bind_sets():
    assert schema.PATHS == tuple(
        '/' + name for name in arq_obj.BINDING_FIELDS
        + arq_obj.OPTIONAL_BINDING_FIELDS)
    assert schema.operation['properties']['path']['enum'] == list(
        schema.PATHS)


def test_a_bind_sets_every_binding_field_and_may_set_the_others():
    patch = arq_patch.parse(adds(arq_obj.BINDING_FIELDS), LATEST)
    assert patch.op == 'add'
    assert set(patch.bindings[ARQ]) == set(arq_obj.BINDING_FIELDS)
    every = arq_obj.BINDING_FIELDS + arq_obj.OPTIONAL_BINDING_FIELDS
    patch = arq_patch.parse(adds(every), LATEST)
    assert patch.bindings[ARQ] == {name: VALUES[name] for name in every}


@pytest.mark.parametrize('left_out', arq_obj.BINDING_FIELDS)
def test_a_bind_without_a_binding_field_is_refused(left_out):
    names = [n for n in arq_obj.BINDING_FIELDS if n != left_out]
    with pytest.raises(exception.PatchError) as caught:
        arq_patch.parse(adds(names), LATEST)
    assert 'needs /%s' % left_out in str(caught.value)


def test_an_unbind_removes_the_binding_fields():
    body = {ARQ: [{'op': 'remove', 'path': '/' + name}
                  for name in arq_obj.BINDING_FIELDS]}
    patch = arq_patch.parse(body, LATEST)
    assert patch.op == 'remove'
    assert patch.bindings[ARQ] == dict.fromkeys(arq_obj.BINDING_FIELDS)
