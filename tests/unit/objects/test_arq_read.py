"""Reading ARQs: one statement per list, and ARQs made from rows without
their dataclass __init__ that are indistinguishable from ones made with
it."""

import dataclasses

import pytest

from cyborg_clone.common import exception
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import base
from cyborg_clone.objects import device_profile

ARQ = arq_obj.ARQ


@pytest.fixture
def arqs(conf):
    device_profile.DeviceProfile.create(
        'p', [{'resources:FPGA': '2'}, {'resources:FPGA': '1',
                                        'trait:CUSTOM_X': 'required'}])
    return ARQ.create_from_profile('p', 'project-a')


def test_no_field_needs_the_generated_init():
    # _from_rows fills __dict__ directly: a default or a __post_init__
    # would be skipped.
    assert not hasattr(ARQ, '__post_init__')
    for field in dataclasses.fields(ARQ):
        assert field.default is dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name


def test_listed_arqs_are_the_ones_init_makes(arqs):
    listed = ARQ.list()
    assert [arq.uuid for arq in listed] == [arq.uuid for arq in arqs]
    for arq in listed:
        made = ARQ(**{f.name: getattr(arq, f.name)
                      for f in dataclasses.fields(ARQ)})
        assert made == arq
        assert vars(made) == vars(arq)
        assert dataclasses.replace(arq, state='x').state == 'x'
        with pytest.raises(dataclasses.FrozenInstanceError):
            arq.state = 'x'
    assert [a.device_profile_group for a in listed] == [
        {'resources:FPGA': '2'}, {'resources:FPGA': '2'},
        {'resources:FPGA': '1', 'trait:CUSTOM_X': 'required'}]
    # Each ARQ owns its copy of its group.
    assert listed[0].device_profile_group is not \
        listed[1].device_profile_group


def test_reads_are_one_statement_each(arqs, count_statements):
    counter = count_statements()
    assert ARQ.get(arqs[1].uuid) == ARQ.list(uuids=[arqs[1].uuid])[0]
    assert len(ARQ.list(uuids=[a.uuid for a in arqs])) == 3
    assert len(ARQ.list(project_id='project-a')) == 3
    assert ARQ.list(project_id='project-b') == []
    assert counter.count == 5


def test_a_page_reads_its_marker_and_its_rows(arqs, count_statements):
    counter = count_statements()
    page = ARQ.list(page=base.Page(limit=2, marker=arqs[0].uuid))
    assert [a.uuid for a in page] == [a.uuid for a in arqs[1:]]
    assert counter.count == 2


def test_a_missing_arq_is_not_found(arqs):
    with pytest.raises(exception.ARQNotFound):
        ARQ.get('00000000-0000-0000-0000-000000000000')
