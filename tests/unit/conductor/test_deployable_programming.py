"""Programming a deployable: checks, the agent call, and what is recorded."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.db import api as db_api
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report
from cyborg_clone.objects import deployable
from tests.fixtures.hardware import report_fake_host

CTX = context.get_admin_context()
IMAGE = 'd5ca2f11-3108-4426-a11c-a959987565df'


class AgentStub:
    """The agent RPC client: loads onto the host's fake card and answers
    like the agent (function id and fresh report), or raises."""

    def __init__(self, error=None):
        self.error = error
        self.calls = []

    def program(self, context, hostname, deployable_name, image_id,
                timeout=None):
        self.calls.append((hostname, deployable_name, image_id, timeout))
        if self.error is not None:
            raise self.error
        card = fake.FakeDriver(CONF_OF[0], host=hostname)
        function_id = card.program(deployable_name, image_id)
        return {'function_id': function_id,
                'report': report.to_primitive(card.discover())}


# The conf of the running test, for the stub's fake card.
CONF_OF = [None]


@pytest.fixture
def target(conf):
    CONF_OF[0] = conf
    report_fake_host(conf, 'host-a')
    [dep] = deployable.Deployable.list()
    return dep


def program(conf, agent, uuid):
    return deployable_programming.program(conf, CTX, agent, uuid, IMAGE)


def bitstream(uuid):
    return deployable.Deployable.get_by_uuid(uuid).bitstream_id


def test_programs_on_the_deployables_host_and_records_it(conf, target):
    agent = AgentStub()
    assert program(conf, agent, target.uuid) == target.uuid
    assert agent.calls == [('host-a', 'host-a_FakeDevice', IMAGE,
                            conf.conductor.program_timeout)]
    assert bitstream(target.uuid) == IMAGE
    # The answered report was applied: the function trait is there too.
    [dep] = deployable.Deployable.list()
    assert ('traits2', 'CUSTOM_FPGA_FUNCTION_ID_FAKE_' + IMAGE.upper()
            .replace('-', '_')) in dep.attributes


def test_a_load_without_a_report_still_succeeds(conf, target):
    class Reportless(AgentStub):
        def program(self, *args, **kwargs):
            answer = super().program(*args, **kwargs)
            return dict(answer, report=None)

    assert program(conf, Reportless(), target.uuid) == target.uuid
    # Recorded by the next periodic report instead.
    assert bitstream(target.uuid) is None


def test_refused_while_a_handle_is_in_use(conf, target):
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE attach_handles SET in_use = 1 WHERE id = 3'))
    agent = AgentStub()
    with pytest.raises(exception.Conflict) as caught:
        program(conf, agent, target.uuid)
    assert 'in use' in str(caught.value)
    assert agent.calls == []


def test_unknown_deployable_is_not_found(conf, target):
    with pytest.raises(exception.DeployableNotFound):
        program(conf, AgentStub(), '5518a925-1c2c-49a2-a8bf-0927d9456f3e')


def test_image_the_card_refuses_is_a_conflict_naming_the_reason(
        conf, target):
    agent = AgentStub(exception.DriverError(
        driver='fake', reason='interface id mismatch'))
    with pytest.raises(exception.Conflict) as caught:
        program(conf, agent, target.uuid)
    assert 'interface id mismatch' in str(caught.value)
    assert IMAGE in str(caught.value)
    assert bitstream(target.uuid) is None


def test_deployable_its_host_no_longer_reports_is_a_conflict(
        conf, target):
    agent = AgentStub(exception.DeployableNotFound(ident='x'))
    with pytest.raises(exception.Conflict) as caught:
        program(conf, agent, target.uuid)
    assert 'host-a' in str(caught.value)


def test_silent_agent_is_asked_again_then_service_unavailable(conf, target):
    # A silent agent (dead, or its answer lost with the message bus) is
    # asked again until program_timeout has passed since the first ask.
    conf.set_override('program_timeout', 3, group='conductor')
    agent = AgentStub(messaging.MessagingTimeout('no reply'))
    with pytest.raises(exception.ServiceUnavailable):
        program(conf, agent, target.uuid)
    assert len(agent.calls) >= 2
    assert agent.calls[0][3] == 3
    assert all(call[3] < 3 for call in agent.calls[1:])
    assert bitstream(target.uuid) is None


def test_an_agent_back_after_falling_silent_finishes_the_load(conf, target):
    agent = AgentStub(messaging.MessagingTimeout('no reply'))
    original = agent.program

    def back_on_second_ask(*args, **kwargs):
        if agent.calls:
            agent.error = None
        return original(*args, **kwargs)

    agent.program = back_on_second_ask
    assert program(conf, agent, target.uuid) == target.uuid
    assert len(agent.calls) == 2
    assert bitstream(target.uuid) == IMAGE
