"""Binds whose conductor died: ownership, adoption, resuming, fencing and
telling Nova once, on a real database (every backend)."""

import datetime
import threading
import time

import sqlalchemy as sa

from cyborg_clone.cmd import conductor as cmd_conductor
from cyborg_clone.common import context
from cyborg_clone.common import rpc
from cyborg_clone.conductor import arq_binding
from cyborg_clone.conductor import bind_recovery
from cyborg_clone.conductor import device_sync
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import bind_ownership
from cyborg_clone.objects import conductor_lease
from cyborg_clone.objects import device_profile
from tests.fixtures import databases
from tests.fixtures.hardware import InProcessAgents
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.images import put_image
from tests.fixtures.nova import RecordingNova
from tests.unit.conductor.test_arq_binding import db_scalar
from tests.unit.conductor.test_arq_binding import start_binding

DB_BACKENDS = databases.BACKENDS

HOST = 'testhost'
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'
CTX = context.get_admin_context()


class LockedNova(RecordingNova):
    """A RecordingNova several conductors (threads) can share; each send
    takes a moment, so racing senders overlap."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def send_bound_events(self, instance, arqs):
        time.sleep(0.05)
        with self.lock:
            super().send_bound_events(instance, arqs)

    def events(self):
        return sorted(pair for _instance, pairs in self.sent
                      for pair in pairs)


def instance(number):
    return '00000000-0000-4000-8000-%012d' % number


def conductor(conf, nova, agents=None):
    """A conductor's lease (registered) and sweep."""
    lease = bind_recovery.Lease(conf)
    lease.register()
    return bind_recovery.Recovery(conf, lease, agent_api=agents,
                                  nova_client=nova)


def silence(conductor_id, seconds=3600):
    """Make a conductor look dead: its last heartbeat long ago."""
    old = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(seconds=seconds)
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE conductors SET heartbeat_at = :t WHERE id = :id'),
            {'t': old, 'id': conductor_id})


def age_binds(seconds=3600):
    old = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(seconds=seconds)
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE accelerator_requests SET bind_started_at = :t'),
            {'t': old})


def owners(uuids):
    with db_api.reader() as session:
        rows = session.execute(sa.text(
            'SELECT uuid, bind_owner FROM accelerator_requests')).all()
    return {uuid: owner for uuid, owner in rows if uuid in uuids}


def sweep(recovery):
    """One sweep, waiting for what it resumed; what it adopted."""
    try:
        return recovery.sweep(CTX)
    finally:
        recovery.stop()


def states(uuids):
    return {arq_obj.ARQ.get(u).state for u in uuids}


def handles_in_use():
    return db_scalar('SELECT count(*) FROM attach_handles WHERE in_use')


def dead_conductor_owning(uuids):
    """The id of a conductor that took ``uuids`` from a cast, then died."""
    dead = conductor_lease.register('host-a', 4242)
    assert bind_ownership.own(uuids, dead) == uuids
    silence(dead)
    return dead


def test_a_dead_conductors_binds_are_resumed_and_reported_once(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(3)
    dead_conductor_owning(uuids)
    nova = RecordingNova()
    live = conductor(conf, nova)

    [adopted] = sweep(live)

    assert adopted.instance_uuid == INSTANCE
    assert sorted(adopted.binding) == sorted(uuids)
    assert states(uuids) == {'Bound'}
    assert len({arq_obj.ARQ.get(u).attach_handle_uuid for u in uuids}) == 3
    assert set(owners(uuids).values()) == {live.lease.id}
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]
    # Nothing is left to adopt or to report.
    assert sweep(conductor(conf, nova)) == []
    assert len(nova.sent) == 1


def test_a_live_conductors_binds_are_left_alone(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    busy = conductor_lease.register('host-a', 4242)
    bind_ownership.own(uuids, busy)
    age_binds()
    assert sweep(conductor(conf, RecordingNova())) == []
    assert states(uuids) == {'BindStarted'}
    assert set(owners(uuids).values()) == {busy}


def test_a_bind_whose_cast_was_lost_is_adopted_after_the_grace(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    nova = RecordingNova()
    # Its cast may still be on its way.
    assert sweep(conductor(conf, nova)) == []
    assert states(uuids) == {'BindStarted'}

    age_binds(conf.conductor.unclaimed_bind_grace + 1)
    [adopted] = sweep(conductor(conf, nova))
    assert sorted(adopted.binding) == sorted(uuids)
    assert states(uuids) == {'Bound'}
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_a_cast_delivered_again_binds_nothing_again(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    nova = RecordingNova()
    arq_binding.bind_arqs(conf, CTX, uuids, nova_client=nova, owner='c-1')
    arq_binding.bind_arqs(conf, CTX, uuids, nova_client=nova, owner='c-2')
    assert states(uuids) == {'Bound'}
    assert set(owners(uuids).values()) == {'c-1'}
    assert handles_in_use() == 2
    assert len(nova.sent) == 1


def test_conductors_sweeping_together_adopt_each_arq_once(conf):
    report_fake_host(conf, HOST)
    by_instance = {instance(i): start_binding(2, instance=instance(i))
                   for i in range(6)}
    every = [u for uuids in by_instance.values() for u in uuids]
    dead_conductor_owning(every)
    nova = LockedNova()
    sweepers = [conductor(conf, nova) for _ in range(3)]
    start = threading.Barrier(len(sweepers))
    adopted = {}

    def run(recovery):
        start.wait()
        adopted[recovery.lease.id] = sweep(recovery)

    threads = [threading.Thread(target=run, args=(r,)) for r in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    taken = sorted(u for found in adopted.values() for a in found
                   for u in a.binding)
    assert taken == sorted(every)
    assert states(every) == {'Bound'}
    assert len({arq_obj.ARQ.get(u).attach_handle_uuid for u in every}) == 12
    assert handles_in_use() == 12
    assert nova.events() == sorted((u, 'Bound') for u in every)


def test_a_resumed_bind_keeps_its_handle_and_asks_the_agent_again(conf):
    report_fake_host(conf, HOST)
    agents = InProcessAgents(conf)
    image = put_image(conf)
    [uuid] = start_bitstream_binding(image)
    dead = dead_conductor_owning([uuid])
    # The dead conductor had claimed a handle and asked for the load.
    with db_api.writer() as session:
        claimed = arq_binding._claim(session, uuid, dead)
    assert claimed.image_id == image
    held = db_scalar('SELECT attach_handle_id FROM accelerator_requests')

    nova = RecordingNova()
    sweep(conductor(conf, nova, agents))

    assert agents.calls == [(HOST, HOST + '_FakeDevice', image)]
    assert states([uuid]) == {'Bound'}
    assert db_scalar('SELECT attach_handle_id FROM accelerator_requests') \
        == held
    assert handles_in_use() == 1
    assert nova.sent == [(INSTANCE, [(uuid, 'Bound')])]


def test_a_load_the_dead_conductor_saw_finish_is_not_asked_again(conf):
    report_fake_host(conf, HOST)
    agents = InProcessAgents(conf)
    image = put_image(conf)
    [uuid] = start_bitstream_binding(image)
    dead = dead_conductor_owning([uuid])
    with db_api.writer() as session:
        arq_binding._claim(session, uuid, dead)
    # It applied the agent's answer, then died before marking the ARQ.
    answer = agents.program(CTX, HOST, HOST + '_FakeDevice', image)
    device_sync.apply_report(CTX, HOST, answer['report'])

    sweep(conductor(conf, RecordingNova(), agents))

    assert len(agents.calls) == 1
    assert states([uuid]) == {'Bound'}
    assert handles_in_use() == 1


def start_bitstream_binding(image, count=1):
    """ARQs asking for ``image``, BindStarted, by id."""
    device_profile.DeviceProfile.create(
        'dp-image', [{'resources:FPGA': str(count),
                      'accel:bitstream_id': image}])
    arqs = arq_obj.ARQ.create_from_profile('dp-image', 'p1')
    rp_uuid = db_scalar('SELECT rp_uuid FROM deployables')
    arq_obj.ARQ.bind({a.uuid: {'hostname': HOST, 'device_rp_uuid': rp_uuid,
                               'instance_uuid': INSTANCE} for a in arqs})
    return [a.uuid for a in arqs]


def test_the_arq_whose_load_was_under_way_resumes_first(conf):
    # The dead conductor took the ARQs in another order than their ids:
    # the last one claimed the handle and asked for the load. Resumed
    # first, it ends the load; the others then find the image loaded
    # (before it, they would see the device in use by another function).
    report_fake_host(conf, HOST)
    agents = InProcessAgents(conf)
    image = put_image(conf)
    uuids = start_bitstream_binding(image, count=3)
    dead = dead_conductor_owning(uuids)
    with db_api.writer() as session:
        arq_binding._claim(session, uuids[-1], dead)

    [adopted] = sweep(conductor(conf, RecordingNova(), agents))

    assert adopted.binding[0] == uuids[-1]
    assert states(uuids) == {'Bound'}
    assert len(agents.calls) == 1
    assert handles_in_use() == 3


def test_a_conductor_taken_for_dead_cannot_undo_its_adopter(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    slow = dead_conductor_owning(uuids)
    adopter = conductor_lease.register('host-b', 4343)
    live_since = conductor_lease.cutoff(conf.conductor.heartbeat_timeout)
    taken = bind_ownership.adopt(INSTANCE, slow, adopter, live_since,
                                 live_since)
    assert sorted(taken.binding) == sorted(uuids)

    # The slow one wakes up and carries on: every write is refused.
    slow_nova = RecordingNova()
    arq_binding.resume(conf, CTX, uuids, slow, nova_client=slow_nova)
    assert states(uuids) == {'BindStarted'}
    assert handles_in_use() == 0
    assert slow_nova.sent == []

    nova = RecordingNova()
    arq_binding.resume(conf, CTX, uuids, adopter, nova_client=nova)
    assert states(uuids) == {'Bound'}
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_what_a_dead_conductor_resolved_but_did_not_report_is_reported(
        conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    dead = dead_conductor_owning(uuids)
    for uuid in uuids:
        # Bound, then killed before telling Nova.
        arq_binding._bind_one(conf, CTX, None, None, uuid, dead)
    assert states(uuids) == {'Bound'}

    nova = RecordingNova()
    [adopted] = sweep(conductor(conf, nova))
    assert adopted.binding == ()
    assert sorted(adopted.resolved) == sorted(uuids)
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]
    assert sweep(conductor(conf, nova)) == []
    assert len(nova.sent) == 1


def test_what_a_dead_conductor_reported_is_not_reported_again(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    dead = conductor_lease.register('host-a', 4242)
    nova = RecordingNova()
    arq_binding.bind_arqs(conf, CTX, uuids, nova_client=nova, owner=dead)
    silence(dead)
    assert sweep(conductor(conf, nova)) == []
    assert len(nova.sent) == 1


def test_the_stuck_bind_timeout_takes_binds_from_a_live_owner(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    hung = conductor_lease.register('host-a', 4242)
    bind_ownership.own(uuids, hung)
    age_binds()
    nova = RecordingNova()
    arq_binding.fail_stuck_binds(conf, CTX, nova, owner='sweeper')
    assert states(uuids) == {'BindFailed'}
    # The hung one's late work changes nothing.
    arq_binding.resume(conf, CTX, uuids, hung, nova_client=nova)
    assert states(uuids) == {'BindFailed'}
    assert handles_in_use() == 0
    assert nova.sent == [(INSTANCE, sorted((u, 'BindFailed')
                                           for u in uuids))]


def test_threads_notifying_one_instance_together_tell_nova_once(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(3)
    bind_ownership.own(uuids, 'me')
    for uuid in uuids:
        arq_binding._bind_one(conf, CTX, None, None, uuid, 'me')
    nova = LockedNova()
    start = threading.Barrier(4)

    def notify():
        start.wait()
        arq_binding.notify_resolved(nova, [INSTANCE], 'me')

    threads = [threading.Thread(target=notify) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert nova.events() == sorted((u, 'Bound') for u in uuids)


def test_a_new_bind_is_reported_again(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(1)
    nova = RecordingNova()
    arq_binding.bind_arqs(conf, CTX, uuids, nova_client=nova, owner='c-1')
    arq_obj.ARQ.unbind(uuids)
    rp_uuid = db_scalar('SELECT rp_uuid FROM deployables')
    arq_obj.ARQ.bind({uuids[0]: {'hostname': HOST, 'device_rp_uuid': rp_uuid,
                                 'instance_uuid': INSTANCE}})
    assert owners(uuids) == {uuids[0]: None}
    arq_binding.bind_arqs(conf, CTX, uuids, nova_client=nova, owner='c-2')
    assert [sent for sent in nova.sent] == [
        (INSTANCE, [(uuids[0], 'Bound')])] * 2


def test_a_conductor_taken_for_dead_comes_back_on_its_next_beat(conf):
    lease = bind_recovery.Lease(conf)
    me = lease.id
    silence(me)
    live_since = conductor_lease.cutoff(conf.conductor.heartbeat_timeout)
    # Its own sweep, late itself, does not remove it.
    assert conductor_lease.forget_dead(live_since, besides=me) == 0
    assert conductor_lease.forget_dead(live_since) == 1
    assert conductor_lease.live(conductor_lease.cutoff(60)) == []
    lease.beat()
    [back] = conductor_lease.live(conductor_lease.cutoff(60))
    assert (back.id, back.host) == (me, 'testhost')
    lease.leave()
    assert conductor_lease.live(conductor_lease.cutoff(60)) == []


def test_a_conductor_is_registered_while_it_serves_and_leaves_after(conf):
    conf.set_override('transport_url', 'fake:/')
    service = cmd_conductor.build_service(conf)
    service.start()
    try:
        me = service.conductor.lease.id
        assert [c.id for c in conductor_lease.live(
            conductor_lease.cutoff(60))] == [me]
    finally:
        service.stop()
        rpc.cleanup()
    assert conductor_lease.live(conductor_lease.cutoff(60)) == []
