"""Binds whose device profile asks for a bitstream or a function: the
conductor has the host's agent load it before the ARQ is Bound."""

import pytest
import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import device_sync
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import deployable
from cyborg_clone.objects import device_profile
from cyborg_clone.objects import fpga_image
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.images import put_image
from tests.fixtures.nova import RecordingNova

HOST = 'testhost'
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'
OTHER_INSTANCE = 'd1e3ff56-feef-4495-8e4f-1cf6ea59ffbc'


@pytest.fixture
def agents(conf):
    report_fake_host(conf, HOST)
    return InProcessAgents(conf)


def start_binding(group, count=1, instance=INSTANCE):
    name = 'dp-%s' % instance[:8]
    device_profile.DeviceProfile.create(
        name, [dict(group, **{'resources:FPGA': str(count)})])
    arqs = arq_obj.ARQ.create_from_profile(name, 'p1')
    [dep] = deployable.Deployable.list()
    arq_obj.ARQ.bind({a.uuid: {'hostname': HOST, 'device_rp_uuid': dep.rp_uuid,
                               'instance_uuid': instance} for a in arqs})
    return [a.uuid for a in arqs]


def bind(conf, agents, uuids):
    nova = RecordingNova()
    arq_binding.bind_arqs(conf, context.get_admin_context(), uuids,
                          nova_client=nova, agent_api=agents)
    return nova


def handles_in_use():
    with db_api.reader() as session:
        return session.execute(sa.text(
            'SELECT count(*) FROM attach_handles WHERE in_use')).scalar_one()


def the_deployable():
    [dep] = deployable.Deployable.list()
    return dep


def test_bitstream_is_loaded_then_every_arq_is_bound(conf, agents):
    image = put_image(conf)
    uuids = start_binding({'accel:bitstream_id': image}, count=2)
    nova = bind(conf, agents, uuids)
    # The second ARQ finds the image the first one loaded.
    assert agents.calls == [(HOST, HOST + '_FakeDevice', image)]
    assert {arq_obj.ARQ.get(u).state for u in uuids} == {'Bound'}
    assert the_deployable().bitstream_id == image
    assert ('traits2', 'CUSTOM_FPGA_FUNCTION_ID_FAKE_' + image.upper()) in (
        the_deployable().attributes)
    assert handles_in_use() == 2
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_a_glance_style_uuid_names_the_image(conf, agents):
    image = put_image(conf)
    dashed = '%s-%s-%s-%s-%s' % (image[:8], image[8:12], image[12:16],
                                 image[16:20], image[20:])
    [uuid] = start_binding({'accel:bitstream_id': dashed})
    bind(conf, agents, [uuid])
    assert arq_obj.ARQ.get(uuid).state == 'Bound'
    assert the_deployable().bitstream_id == image


def bind_again(conf, agents, image, asked_as=None):
    """Bind an ARQ asking for ``image``, then one of another instance
    asking for ``asked_as`` (``image`` written another way, by default
    as it is); the later ARQ's uuid, ``agents.calls`` holding only what
    its bind asked."""
    bind(conf, agents, start_binding({'accel:bitstream_id': image}))
    agents.calls.clear()
    [late] = start_binding({'accel:bitstream_id': asked_as or image},
                           instance=OTHER_INSTANCE)
    bind(conf, agents, [late])
    return late


def test_nothing_is_loaded_when_the_deployable_holds_it(conf, agents):
    late = bind_again(conf, agents, put_image(conf))
    assert agents.calls == []
    assert arq_obj.ARQ.get(late).state == 'Bound'


def test_a_failed_load_is_bind_failed_releases_and_tells_nova(conf, agents):
    image = put_image(conf)
    agents.error = exception.DriverError(
        driver='fake', reason='interface id mismatch')
    [uuid] = start_binding({'accel:bitstream_id': image})
    nova = bind(conf, agents, [uuid])
    arq = arq_obj.ARQ.get(uuid)
    assert arq.state == 'BindFailed'
    assert 'interface id mismatch' in arq.bind_failure
    assert image in arq.bind_failure
    assert arq.attach_handle_uuid is None
    assert handles_in_use() == 0
    assert the_deployable().bitstream_id is None
    assert nova.sent == [(INSTANCE, [(uuid, 'BindFailed')])]


def test_an_image_missing_from_the_store_is_bind_failed(conf, agents):
    [uuid] = start_binding({'accel:bitstream_id': '0' * 32})
    bind(conf, agents, [uuid])
    arq = arq_obj.ARQ.get(uuid)
    assert arq.state == 'BindFailed'
    assert 'not in the image store' in arq.bind_failure
    assert handles_in_use() == 0


def test_a_malformed_bitstream_id_fails_without_asking_the_agent(
        conf, agents):
    [uuid] = start_binding({'accel:bitstream_id': 'not-an-image'})
    bind(conf, agents, [uuid])
    arq = arq_obj.ARQ.get(uuid)
    assert arq.state == 'BindFailed'
    assert 'not an image id' in arq.bind_failure
    assert agents.calls == []


def test_a_device_in_use_is_not_reprogrammed(conf, agents):
    first, second = put_image(conf), put_image(conf, b'other')
    bind(conf, agents, start_binding({'accel:bitstream_id': first}))
    [late] = start_binding({'accel:bitstream_id': second},
                           instance=OTHER_INSTANCE)
    nova = bind(conf, agents, [late])
    arq = arq_obj.ARQ.get(late)
    assert arq.state == 'BindFailed'
    assert 'runs another function and is in use' in arq.bind_failure
    assert the_deployable().bitstream_id == first
    assert handles_in_use() == 1
    assert nova.sent == [(OTHER_INSTANCE, [(late, 'BindFailed')])]


def test_an_arq_unbound_while_loading_lets_go_of_its_handle(conf, agents):
    image = put_image(conf)
    [uuid] = start_binding({'accel:bitstream_id': image})
    # While the agent loads, the handle is held and recorded on the ARQ,
    # so a PATCH .../program is refused and an unbind releases it.
    agents.before_load = lambda: (
        _assert_held(), arq_obj.ARQ.unbind([uuid]))
    nova = bind(conf, agents, [uuid])
    assert arq_obj.ARQ.get(uuid).state == 'Unbound'
    assert handles_in_use() == 0
    assert nova.sent == []


def _assert_held():
    assert handles_in_use() == 1
    with pytest.raises(exception.Conflict):
        deployable.Deployable.program_target(the_deployable().uuid)


def test_a_function_already_running_needs_no_load(conf, agents):
    image = put_image(conf)
    bind(conf, agents, start_binding({'accel:bitstream_id': image}))
    agents.calls.clear()
    [late] = start_binding({'accel:function_id': image.upper()},
                           instance=OTHER_INSTANCE)
    bind(conf, agents, [late])
    assert agents.calls == []
    assert arq_obj.ARQ.get(late).state == 'Bound'


def _register_active(conf, function_id):
    """An active registered FPGA image whose metadata names a function."""
    image = fpga_image.FpgaImage.register(
        'p1', 'img', '', {'function_id': function_id}, 'bucket', 'key.bin')
    put_image(conf, image_id=image.image_id)
    fpga_image.FpgaImage.transition(image.image_id, 'activate',
                                    size_bytes=9, sha256='0' * 64)
    return image.image_id


def test_a_function_is_loaded_from_the_image_that_provides_it(conf, agents):
    function = '9f6f4c3c-6e0e-4c7e-a0a2-2d8f1f7f3a11'
    image = _register_active(conf, function)
    _register_active(conf, 'another-function')
    [uuid] = start_binding({'accel:function_id': function})
    bind(conf, agents, [uuid])
    assert agents.calls == [(HOST, HOST + '_FakeDevice', image)]
    assert arq_obj.ARQ.get(uuid).state == 'Bound'


def test_a_function_no_image_provides_is_bind_failed(conf, agents):
    [uuid] = start_binding({'accel:function_id': 'nobody-has-it'})
    bind(conf, agents, [uuid])
    arq = arq_obj.ARQ.get(uuid)
    assert arq.state == 'BindFailed'
    assert 'no active FPGA image provides function nobody-has-it' in (
        arq.bind_failure)
    assert agents.calls == []


def test_a_device_that_vanished_after_the_api_accepted_is_bind_failed(
        conf, agents):
    [holder] = start_binding({})
    bind(conf, agents, [holder])
    [late] = start_binding({}, instance=OTHER_INSTANCE)
    # The host stops reporting the card; the held handle keeps it, marked.
    device_sync.apply_report(context.get_admin_context(), HOST, [])
    nova = bind(conf, agents, [late])
    arq = arq_obj.ARQ.get(late)
    assert arq.state == 'BindFailed'
    assert arq.bind_failure == ('the chosen device is no longer reported '
                                'by host %s' % HOST)
    assert handles_in_use() == 1
    assert nova.sent == [(OTHER_INSTANCE, [(late, 'BindFailed')])]


def test_a_device_being_cleaned_after_the_api_accepted_is_bind_failed(
        conf, agents):
    # The rule the API applied (deployable.bind_refusal) holds again when
    # the conductor takes the bind up.
    [uuid] = start_binding({})
    deployable.Deployable.set_state(the_deployable().id,
                                    deployable.CLEANING)
    nova = bind(conf, agents, [uuid])
    arq = arq_obj.ARQ.get(uuid)
    assert arq.state == 'BindFailed'
    assert arq.bind_failure == (
        'the chosen device is being cleaned; it cannot be bound until it '
        'is available again')
    assert handles_in_use() == 0
    assert agents.calls == []
    assert nova.sent == [(INSTANCE, [(uuid, 'BindFailed')])]
