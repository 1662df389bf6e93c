"""The conductor's binding workflow on a real database."""

import datetime
import threading

import sqlalchemy as sa

from cyborg_clone.common import context
from cyborg_clone.conductor import arq_binding
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import arq as arq_obj
from cyborg_clone.objects import device_profile
from tests.fixtures.hardware import report_fake_host

HOST = 'testhost'
INSTANCE = '506220bc-18f2-4294-9b29-80267a021dc0'


class RecordingNova:
    def __init__(self):
        self.sent = []

    def send_bound_events(self, instance, arqs):
        self.sent.append((instance, sorted((a.uuid, a.state) for a in arqs)))


def start_binding(count, instance=INSTANCE):
    """ARQs moved to BindStarted on the fake device, as the API does."""
    name = 'dp%d' % count
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
    assert 'did not finish within 600 seconds' in arq.bind_failure
    assert nova.sent == [(INSTANCE, sorted((u, 'BindFailed')
                                           for u in uuids))]
