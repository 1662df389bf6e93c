"""Binds and programs whose image comes from a real Glance: the conductor
looks the id up (our image store first), the host's real agent downloads
it, checks its hash, and the fake card loads it."""

import hashlib
import uuid

import pytest

from cyborg_clone.agent import manager
from cyborg_clone.clients import glance as glance_client
from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import deployable_programming
from cyborg_clone.drivers import base
from cyborg_clone.drivers import fake
from cyborg_clone.objects import arq as arq_obj
from tests.fixtures.glance import glance_server  # noqa: F401
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.images import put_image
from tests.functional import processes
from tests.unit.conductor.test_bind_programming import HOST
from tests.unit.conductor.test_bind_programming import INSTANCE
from tests.unit.conductor.test_bind_programming import bind
from tests.unit.conductor.test_bind_programming import bind_again
from tests.unit.conductor.test_bind_programming import handles_in_use
from tests.unit.conductor.test_bind_programming import start_binding
from tests.unit.conductor.test_bind_programming import the_deployable

# Glance runs as a server of its own, one for the module: its tests stay
# on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

DEPLOYABLE = HOST + '_FakeDevice'


@pytest.fixture
def agents(conf, glance):
    """The fake host reported, its real agent in-process, and our
    [glance] pointing at the module's Glance."""
    glance.configure(conf)
    report_fake_host(conf, HOST)
    return InProcessAgents(conf)


def upload(glance, data=None, **properties):
    """A new Glance image; its id."""
    data = data or b'bitstream %s' % uuid.uuid4().bytes
    return glance.upload(data, **properties)['id']


def loaded(conf):
    """What the fake card recorded it loaded, or None."""
    return base.LoadedImages(conf, 'fake').entry(DEPLOYABLE)


def test_a_glance_image_is_downloaded_loaded_and_reported_by_its_id(
        conf, agents, glance):
    image = upload(glance)
    uuids = start_binding({'accel:bitstream_id': image}, count=2)
    nova = bind(conf, agents, uuids)
    # The second ARQ finds the image the first one loaded.
    assert agents.calls == [(HOST, DEPLOYABLE, image)]
    assert {arq_obj.ARQ.get(u).state for u in uuids} == {'Bound'}
    assert the_deployable().bitstream_id == image
    assert loaded(conf) == {'image_id': image, 'function_id': image}
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_a_card_holding_the_glance_image_is_not_loaded_again(
        conf, agents, glance):
    image = upload(glance)
    # Written as 32 hex characters the second time: the same image.
    late = bind_again(conf, agents, image, asked_as=uuid.UUID(image).hex)
    assert agents.calls == []
    assert arq_obj.ARQ.get(late).state == 'Bound'


def test_an_image_of_our_store_is_taken_from_the_store(conf, agents):
    image = put_image(conf)
    [uuid_] = start_binding({'accel:bitstream_id': image})
    bind(conf, agents, [uuid_])
    assert arq_obj.ARQ.get(uuid_).state == 'Bound'
    assert the_deployable().bitstream_id == image


def test_a_function_is_loaded_from_the_glance_image_providing_it(
        conf, agents, glance):
    function = str(uuid.uuid4())
    upload(glance, **{'accel:function_id': function})
    newest = upload(glance, **{'accel:function_id': function})
    [uuid_] = start_binding({'accel:function_id': function})
    bind(conf, agents, [uuid_])
    assert agents.calls == [(HOST, DEPLOYABLE, newest)]
    assert arq_obj.ARQ.get(uuid_).state == 'Bound'
    assert the_deployable().bitstream_id == newest


def test_a_function_nobody_provides_is_bind_failed(conf, agents):
    [uuid_] = start_binding({'accel:function_id': 'nobody-has-it'})
    bind(conf, agents, [uuid_])
    arq = arq_obj.ARQ.get(uuid_)
    assert arq.state == 'BindFailed'
    assert ('no active FPGA image nor Glance image provides function '
            'nobody-has-it') in arq.bind_failure
    assert agents.calls == []
    assert handles_in_use() == 0


def test_an_id_in_neither_place_is_bind_failed_without_asking_the_agent(
        conf, agents):
    unknown = str(uuid.uuid4())
    [uuid_] = start_binding({'accel:bitstream_id': unknown})
    nova = bind(conf, agents, [uuid_])
    arq = arq_obj.ARQ.get(uuid_)
    assert arq.state == 'BindFailed'
    assert ('Image %s is in neither the image store nor Glance' % unknown
            in arq.bind_failure)
    assert agents.calls == []
    assert loaded(conf) is None
    assert handles_in_use() == 0
    assert nova.sent == [(INSTANCE, [(uuid_, 'BindFailed')])]


def test_an_image_not_matching_its_hash_is_never_loaded(conf, agents,
                                                        glance):
    data = b'bitstream that rots'
    image = upload(glance, data)
    with open(glance.stored_file(image), 'r+b') as stored:
        stored.write(b'B')
    [uuid_] = start_binding({'accel:bitstream_id': image})
    bind(conf, agents, [uuid_])
    arq = arq_obj.ARQ.get(uuid_)
    assert arq.state == 'BindFailed'
    assert image in arq.bind_failure
    assert 'does not match its sha512 hash' in arq.bind_failure
    # The agent was asked, and refused before the card was touched.
    assert agents.calls == [(HOST, DEPLOYABLE, image)]
    assert loaded(conf) is None
    assert the_deployable().bitstream_id is None
    assert handles_in_use() == 0
    assert hashlib.sha512(data).hexdigest() == glance.image(image)[
        'os_hash_value']


def test_program_loads_a_glance_image(conf, agents, glance):
    image = upload(glance)
    deployable = the_deployable()
    assert deployable_programming.program(
        conf, context.get_admin_context(), agents, deployable.uuid,
        uuid.UUID(image).hex) == deployable.uuid
    assert the_deployable().bitstream_id == image


def test_program_of_an_unknown_id_is_not_found(conf, agents):
    deployable = the_deployable()
    with pytest.raises(exception.ImageNotFound):
        deployable_programming.program(
            conf, context.get_admin_context(), agents, deployable.uuid,
            uuid.uuid4().hex)
    assert agents.calls == []


def test_an_unreachable_glance_is_bind_failed(conf, agents):
    conf.set_override('endpoint', 'http://127.0.0.1:%d'
                      % processes.free_port(), group='glance')
    conf.set_override('connect_retries', 0, group='glance')
    [uuid_] = start_binding({'accel:bitstream_id': str(uuid.uuid4())})
    bind(conf, agents, [uuid_])
    arq = arq_obj.ARQ.get(uuid_)
    assert arq.state == 'BindFailed'
    assert 'Glance could not be reached' in arq.bind_failure
    assert agents.calls == []


def agent_of(conf):
    return manager.AgentManager(conf, None, drivers=[
        fake.FakeDriver(conf, host=HOST)])


def test_the_agent_takes_only_glance_s_own_id_as_a_file_name(conf, agents,
                                                           glance):
    image = glance_client.GlanceClient(conf).image(upload(glance))
    for wrong in ('../' + image.id, uuid.UUID(image.id).hex,
                  str(uuid.uuid4())):
        with pytest.raises(exception.Invalid):
            agent_of(conf).program(context.get_admin_context(), DEPLOYABLE,
                                   wrong, glance_image=image.to_primitive())
    assert loaded(conf) is None


def test_an_agent_without_a_glance_section_cannot_download(conf, agents,
                                                           glance):
    image = glance_client.GlanceClient(conf).image(upload(glance))
    conf.clear_override('auth_type', group='glance')
    with pytest.raises(exception.ServiceUnavailable) as error:
        agent_of(conf).program(context.get_admin_context(), DEPLOYABLE,
                               image.id, glance_image=image.to_primitive())
    assert "its [glance] section sets no auth_type" in error.value.faultstring
    assert loaded(conf) is None
