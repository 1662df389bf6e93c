"""The conductor's binding workflow on a real database."""

import datetime
import threading

import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.conductor import arq_binding
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import device_profile
from tests.fixtures import databases
from tests.fixtures.hardware import report_fake_host
from tests.fixtures.nova import RecordingNova

# Each test that uses the database runs on each backend.
DB_BACKENDS = databases.BACKENDS

HOST = 'testhost'
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'


def start_binding(count, instance=INSTANCE):
    """ARQs moved to BindStarted on the fake device, as the API does."""
    name = 'dp%d-%s' % (count, instance)
    device_profile.DeviceProfile.create(
        name, [{'resources:FPGA': str(count)}])
    arqs = arq_obj.ARQ.create_from_profile(name, 'p1')
    rp_uuid = db_scalar('SELECT rp_uuid FROM deployables')
    arq_obj.ARQ.bind({a.uuid: {'hostname': HOST, 'device_rp_uuid': rp_uuid,
                               'instance_uuid': instance} for a in arqs})
    return [a.uuid for a in arqs]


def db_scalar(sql):
    with db_api.reader() as session:
        return session.execute(sa.text(sql)).scalar_one()


def bind(conf, uuids, nova=None):
    nova = nova or RecordingNova()
    arq_binding.bind_arqs(conf, context.get_admin_context(), uuids,
                          nova_client=nova)
    return nova


def test_every_arq_gets_its_own_handle(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(16)
    nova = bind(conf, uuids)
    arqs = arq_obj.ARQ.list(instance_uuid=INSTANCE)
    assert {a.state for a in arqs} == {'Bound'}
    assert len({a.attach_handle_uuid for a in arqs}) == 16
    assert db_scalar('SELECT count(*) FROM attach_handles WHERE in_use') == 16
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_no_free_handle_is_bind_failed_with_a_reason(conf):
    report_fake_host(conf, HOST)
    bind(conf, start_binding(16))
    late = start_binding(1, instance='d1e3ff56-feef-4495-8e4f-1cf6ea59ffbc')
    bind(conf, late)
    arq = arq_obj.ARQ.get(late[0])
    assert arq.state == 'BindFailed'
    assert 'no free accelerator' in arq.bind_failure


def test_concurrent_binds_never_share_a_handle(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(16)
    threads = [threading.Thread(target=bind, args=(conf, uuids[i::4]))
               for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    arqs = arq_obj.ARQ.list(instance_uuid=INSTANCE)
    assert {a.state for a in arqs} == {'Bound'}
    assert len({a.attach_handle_uuid for a in arqs}) == 16


def test_racing_conductors_share_out_the_handles_and_no_more(conf):
    # Six instances of four ARQs each ask for the 16 handles of one
    # deployable at the same time, as six conductors would: every handle
    # goes to exactly one ARQ, and the 8 ARQs left over fail cleanly.
    report_fake_host(conf, HOST)
    instances = ['00000000-0000-4000-8000-%012d' % i for i in range(6)]
    by_instance = {i: start_binding(4, instance=i) for i in instances}
    start = threading.Barrier(len(instances))

    def conductor(uuids):
        start.wait()
        bind(conf, uuids)
    threads = [threading.Thread(target=conductor, args=(uuids,))
               for uuids in by_instance.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    arqs = arq_obj.ARQ.list()
    bound = [a for a in arqs if a.state == 'Bound']
    failed = [a for a in arqs if a.state == 'BindFailed']
    assert (len(bound), len(failed)) == (16, 8)
    assert len({a.attach_handle_uuid for a in bound}) == 16
    assert {a.bind_failure for a in failed} == {
        'no free accelerator left on the chosen device'}
    assert all(a.attach_handle_uuid is None for a in failed)
    assert db_scalar('SELECT count(*) FROM attach_handles WHERE in_use') == 16
    # Each handle in use is held by exactly one ARQ.
    assert db_scalar(
        'SELECT count(DISTINCT a.attach_handle_id) FROM '
        'accelerator_requests a JOIN attach_handles h ON '
        'h.id = a.attach_handle_id WHERE h.in_use') == 16


def test_an_arq_unbound_before_the_conductor_runs_is_skipped(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    arq_obj.ARQ.unbind(uuids[:1])
    nova = bind(conf, uuids)
    assert arq_obj.ARQ.get(uuids[0]).state == 'Unbound'
    assert arq_obj.ARQ.get(uuids[1]).state == 'Bound'
    assert db_scalar('SELECT count(*) FROM attach_handles WHERE in_use') == 1
    assert nova.sent == [(INSTANCE, [(uuids[1], 'Bound')])]


def test_nova_waits_until_every_arq_of_the_instance_is_resolved(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(3)
    nova = bind(conf, uuids[:2])
    assert nova.sent == []
    bind(conf, uuids[2:], nova)
    assert nova.sent == [(INSTANCE, sorted((u, 'Bound') for u in uuids))]


def test_stuck_binds_are_failed_after_the_timeout(conf):
    report_fake_host(conf, HOST)
    uuids = start_binding(2)
    nova = RecordingNova()
    assert arq_binding.fail_stuck_binds(conf, None, nova) == []
    old = datetime.datetime.now() - datetime.timedelta(hours=1)
    with db_api.writer() as session:
        session.execute(sa.text(
            'UPDATE accelerator_requests SET bind_started_at = :t'),
            {'t': old})
    assert sorted(arq_binding.fail_stuck_binds(conf, None, nova)) == sorted(
        uuids)
    arq = arq_obj.ARQ.get(uuids[0])
    assert arq.state == 'BindFailed'
    assert ('did not finish within %d seconds'
            % conf.conductor.bind_timeout) in arq.bind_failure
    assert nova.sent == [(INSTANCE, sorted((u, 'BindFailed')
                                           for u in uuids))]
