"""The ARQ state machine's rules, on a real database."""

import pytest

from cyborg_clone.common import exception
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import arq_state
from cyborg_clone.objects import device_profile
from tests.fixtures import databases

# Each test that uses the database runs on each backend.
DB_BACKENDS = databases.BACKENDS


@pytest.fixture
def arqs(conf):
    device_profile.DeviceProfile.create(
        'dp', [{'resources:FPGA': '2'}])
    return [a.uuid for a in arq_obj.ARQ.create_from_profile('dp', 'p1')]


def state_of(uuid):
    return arq_obj.ARQ.get(uuid).state


def move(action, uuids, **values):
    with db_api.writer() as session:
        arq_state.transition(session, action, uuids, **values)


def test_resolved_states_are_what_nova_waits_for():
    assert arq_state.RESOLVED == {'Bound', 'BindFailed', 'Deleting'}


@pytest.mark.parametrize('action, start, allowed', [
    ('bind', 'Initial', True), ('bind', 'Unbound', True),
    ('bind', 'BindStarted', False), ('bind', 'Bound', False),
    ('bind', 'BindFailed', False),
    ('bind_succeeded', 'BindStarted', True),
    ('bind_succeeded', 'Initial', False),
    ('bind_failed', 'BindStarted', True), ('bind_failed', 'Bound', False),
    ('unbind', 'Bound', True), ('unbind', 'BindFailed', True),
    ('unbind', 'Initial', True), ('unbind', 'Deleting', False),
    ('delete', 'Bound', True),
])
def test_transitions(arqs, action, start, allowed):
    with db_api.writer() as session:
        session.execute(arq_obj.sa.text(
            "UPDATE accelerator_requests SET state = :s"), {'s': start})
    target = arq_state.TRANSITIONS[action][1]
    if allowed:
        move(action, arqs)
        assert state_of(arqs[0]) == target
    else:
        with pytest.raises(exception.ARQBadState) as error:
            move(action, arqs)
        assert error.value.code == 409
        assert start in str(error.value)
        assert state_of(arqs[0]) == start


def test_a_bad_state_in_one_arq_moves_none(arqs):
    move('bind', arqs[:1])
    with pytest.raises(exception.ARQBadState):
        move('bind', arqs)
    assert [state_of(u) for u in arqs] == ['BindStarted', 'Initial']


def test_unknown_arq_is_not_found(arqs):
    missing = '00000000-0000-4000-8000-000000000000'
    with pytest.raises(exception.ARQNotFound):
        move('bind', [arqs[0], missing])
    assert state_of(arqs[0]) == 'Initial'
