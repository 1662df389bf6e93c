"""device_cleaning: states, Placement follow-up and asking again."""

import threading

import oslo_messaging as messaging
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import device_cleaning
from cyborg_clone.db import api as db_api
from cyborg_clone.db import models
from cyborg_clone.objects import deployable as deployable_obj
from tests.fixtures.hardware import report_fake_host

CTX = context.get_admin_context()
HOST = 'testhost'


class Agent:
    """Answers clean_deployable with each of ``answers`` in turn (an
    exception is raised)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def clean_deployable(self, context, hostname, name, timeout=None):
        self.asked.append((hostname, name))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Placement:
    def __init__(self):
        self.changed = []

    def host_changed(self, hostname):
        self.changed.append((hostname, state()))


def deployable_id():
    with db_api.reader() as session:
        return session.scalar(sa.select(models.Deployable.id))


def state():
    with db_api.reader() as session:
        return tuple(session.execute(sa.select(
            models.Deployable.state, models.Deployable.state_reason)).one())


def cleaning(conf, agent, placement=None):
    report_fake_host(conf, HOST)
    found = deployable_obj.Deployable.set_state(
        deployable_id(), deployable_obj.CLEANING)
    return device_cleaning.Cleaning(conf, agent, placement or Placement()), \
        found


def test_a_cleanup_reserves_then_offers_again(conf):
    placement = Placement()
    worker, found = cleaning(conf, Agent('pci-reset'), placement)
    worker._run(CTX, found)
    assert state() == ('available', None)
    # Placement was told while cleaning (reserved) and after.
    assert placement.changed == [(HOST, ('cleaning', None)),
                                 (HOST, ('available', None))]


def test_a_failed_cleanup_keeps_the_tools_message(conf):
    agent = Agent(exception.DriverError(driver='pci',
                                        reason='NVMe status: Busy'))
    worker, found = cleaning(conf, agent)
    worker._run(CTX, found)
    assert state()[0] == 'cleanup_failed'
    assert 'NVMe status: Busy' in state()[1]
    found_failed = deployable_obj.Deployable.in_state(
        (deployable_obj.CLEANUP_FAILED,))
    assert [f.name for f in found_failed] == [found.name]


def test_an_agent_that_restarts_is_asked_again(conf):
    # It fell silent (restarted): asked again, it runs the cleanup anew.
    agent = Agent(messaging.MessagingTimeout(), 'nvme-secure-erase')
    worker, found = cleaning(conf, agent)
    worker._run(CTX, found)
    assert len(agent.asked) == 2
    assert state() == ('available', None)


def test_an_agent_silent_past_the_deadline_leaves_it_reserved(conf):
    conf.set_override('program_timeout', 1, group='conductor')
    worker, found = cleaning(conf, Agent(messaging.MessagingTimeout()))
    worker._run(CTX, found)
    assert state() == ('cleaning', None)
    # The host's next report asks again; this time it finishes.
    worker.agent_api = agent = Agent(None)
    worker.resume(CTX, HOST)
    for thread in threading.enumerate():
        if thread.name == 'clean-%s' % found.name:
            thread.join(10)
    assert agent.asked == [(HOST, found.name)]
    assert state() == ('available', None)


def test_only_drivers_that_can_clean_go_through_cleaning():
    assert device_cleaning.may_clean('pci')
    assert device_cleaning.may_clean('nvidia_gpu')
    assert not device_cleaning.may_clean('fake')
    assert not device_cleaning.may_clean('no-such-driver')
