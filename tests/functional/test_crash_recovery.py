"""A crashed process never leaves a bind hanging: the API, conductors and
agents as separate processes over a real RabbitMQ (``multi_host``), each
fault injected while binds are in flight, each bind resolved within the
promised time, and afterwards no attach handle held twice or leaked and
Nova told once per ARQ.

"Slow hardware" is the xilinx fake tool's ``program_delay`` and, for the
fake cards, their agent stopped (SIGSTOP) until the fault has happened: a
load then takes as long as the test needs it to. Each test prints how long
resolving took after its fault (``pytest -s``).
"""

import collections
import configparser
import contextlib
import os
import signal
import time
import uuid as uuid_lib

import pytest
import sqlalchemy as sa

from cyborg_clone.clients import image_store
from tests.fixtures import rabbitmq
from tests.fixtures import xilinx_host
from tests.fixtures.arq_requests import SERVICE
from tests.fixtures.arq_requests import bind_ops
from tests.functional import multi_host
from tests.functional import processes
from tests.nova_recorder import NovaRecorder

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

# Short intervals, so that each fault is noticed within seconds.
CONDUCTOR = {'heartbeat_interval': 1, 'heartbeat_timeout': 4,
             'unclaimed_bind_grace': 6, 'agent_call_monitor_timeout': 4,
             'program_timeout': 40, 'bind_timeout': 120}
XILINX_PROGRAM_TIMEOUT = 30
# Seconds the fake XRT takes to load an xclbin.
LOAD_SECONDS = 5
# The promises.
RESOLVE_WITHIN = 30

FAKE_HOSTS = ('compute-2', 'compute-3')
U250 = 'compute-0_' + xilinx_host.U250.mgmt
U280 = 'compute-0_' + xilinx_host.U280.mgmt


@pytest.fixture(scope='module')
def broker(tmp_path_factory):
    """A broker of this module's own, as one test restarts it."""
    reason = rabbitmq.missing_reason()
    if reason:
        pytest.skip(reason)
    with rabbitmq.rabbitmq(tmp_path_factory.mktemp('rabbitmq')) as server:
        yield server


class Cloud:
    """The running processes of one test, and what it asks of them."""

    def __init__(self, stack, tmp_path, broker):
        self.stack = stack
        self.tmp_path = tmp_path
        self.nova = stack.enter_context(NovaRecorder())
        self.api, self.conductor, self.shared = multi_host.start(
            stack, tmp_path, broker.url,
            {'nova': {'auth_type': 'none',
                      'endpoint_override': self.nova.url,
                      'event_retry_delay': 0},
             'conductor': CONDUCTOR},
            {'xilinx': {'program_timeout': XILINX_PROGRAM_TIMEOUT}})
        self.engine = sa.create_engine(
            'sqlite:///%s' % (self.shared / 'cyborg_clone.sqlite'))
        stack.callback(self.engine.dispose)
        self.agents = {host: self.pid_of('cyborg-clone-agent', host)
                       for host in multi_host.HOSTS}
        self.agents['compute-3'] = self.start_agent(
            'compute-3', like='compute-2').pid
        self.deployables = processes.wait_until(
            self._all_reported, timeout=60, message='discovery')
        self.images = image_store.FileImageStore(str(self.shared / 'images'))
        self.fake_image = self._fake_image()
        self.xclbins, self.xclbin_uuids = {}, {}
        for name, card in ((U250, xilinx_host.U250),
                           (U280, xilinx_host.U280)):
            self.xclbins[name], self.xclbin_uuids[name] = self._xclbin(card)
        for card in xilinx_host.READY_CARDS:
            with open(os.path.join(self.xrt_state, card.bus_slot,
                                   'program_delay'), 'w') as delay:
                delay.write(str(LOAD_SECONDS))

    # Processes.

    def config_of(self, host):
        return str(self.tmp_path / host / 'cyborg_clone.conf')

    @property
    def control_config(self):
        return str(self.shared / 'cyborg_clone.conf')

    def pid_of(self, command, host):
        """The pid of the ``command`` process multi_host started for
        ``host`` (it keeps no handle to it)."""
        config = self.config_of(host)
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as cmdline:
                    argv = cmdline.read().decode().split('\0')
            except OSError:
                continue
            if (config in argv and any(a.endswith('/' + command)
                                       for a in argv)):
                return int(pid)
        raise AssertionError('no %s process for %s' % (command, host))

    def start_agent(self, host, like=None, log_name=None):
        """Start (again) the agent of ``host``; a new host's configuration
        is ``like``'s with its own name and state directory."""
        directory = self.tmp_path / host
        if like is not None:
            # DEFAULT read as a section of its own, not into the others.
            parser = configparser.ConfigParser(
                interpolation=None, default_section='no default section')
            parser.read(self.config_of(like))
            sections = {name: dict(parser[name]) for name in
                        parser.sections()}
            sections['DEFAULT'].update(host=host, state_path=str(directory))
            directory.mkdir()
            processes.write_config(str(directory), sections)
        log_dir = self.tmp_path / (log_name or host + '-log')
        log_dir.mkdir(exist_ok=True)
        return self.stack.enter_context(processes.Process(
            'cyborg-clone-agent', self.config_of(host), str(log_dir)))

    def start_conductor(self, name):
        log_dir = self.tmp_path / name
        log_dir.mkdir()
        return self.stack.enter_context(processes.Process(
            'cyborg-clone-conductor', self.control_config, str(log_dir)))

    def signal_agents(self, hosts, signum):
        for host in hosts:
            os.kill(self.agents[host], signum)

    @contextlib.contextmanager
    def agents_stopped(self, hosts):
        """The agents of ``hosts`` stopped (SIGSTOP): their loads take
        until the block ends."""
        self.signal_agents(hosts, signal.SIGSTOP)
        try:
            yield
        finally:
            self.signal_agents(hosts, signal.SIGCONT)

    # Hardware and images.

    @property
    def xrt_state(self):
        return str(self.tmp_path / 'compute-0' / 'tools' / 'xrt')

    def _all_reported(self):
        found = multi_host.deployables_by_name(self.api)
        wanted = multi_host.DEPLOYABLES | {'compute-3_FakeDevice'}
        return found if set(found) >= wanted else None

    def _fake_image(self):
        image_id = uuid_lib.uuid4().hex
        path = self.tmp_path / 'fake.bin'
        path.write_bytes(b'fake bitstream')
        self.images.put(image_id, str(path), {})
        return image_id

    def _xclbin(self, card):
        """An xclbin for ``card`` in the image store: (image id, the
        xclbin uuid the card reports once it runs it)."""
        image_id, xclbin_uuid = uuid_lib.uuid4().hex, str(uuid_lib.uuid4())
        path = self.tmp_path / (image_id + '.xclbin')
        xilinx_host.make_xclbin(str(path), card.interface_uuid, xclbin_uuid,
                                vbnv=card.vbnv)
        self.images.put(image_id, str(path), {})
        return image_id, xclbin_uuid

    def loads_started(self):
        """How many xclbin loads the fake XRT started."""
        try:
            with open(os.path.join(self.xrt_state, 'calls.log')) as log:
                return sum('"program"' in line for line in log)
        except FileNotFoundError:
            return 0

    def card_runs(self, card):
        """The xclbin uuid the fake XRT says ``card`` runs."""
        try:
            with open(os.path.join(self.xrt_state, card.bus_slot,
                                   'xclbin_uuid')) as state:
                return state.read().strip()
        except FileNotFoundError:
            return None

    # Binding, as nova does.

    def bind(self, instance, groups):
        """Create and bind the ARQs of one instance; ``groups`` is a list
        of (deployable name, count, image id or None). Their uuids."""
        name = 'dp-' + instance[-6:]
        self.api.ok('POST', '/v2/device_profiles', [{'name': name, 'groups': [
            dict({'resources:FPGA': str(count)},
                 **({'accel:bitstream_id': image} if image else {}))
            for _name, count, image in groups]}], status=201)
        arqs = self.api.ok('POST', '/v2/accelerator_requests',
                           {'device_profile_name': name},
                           status=201)['arqs']
        body = {}
        for arq in arqs:
            deployable = self.deployables[
                groups[arq['device_profile_group_id']][0]]
            body[arq['uuid']] = bind_ops(
                deployable['name'].split('_', 1)[0], deployable['rp_uuid'],
                instance)
        self.api.ok('PATCH', '/v2/accelerator_requests', body,
                    headers=SERVICE, status=202)
        return [arq['uuid'] for arq in arqs]

    def stop_conductor(self):
        """SIGSTOP the conductor, never inside a write transaction: stopped
        there it would keep SQLite's write lock, and every write of the API
        would wait out its busy timeout (30 s, the client's too). Holding
        the lock ourselves while the signal lands leaves the conductor
        waiting for it instead (WAL: its reads hold nothing)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            try:
                os.kill(self.conductor.pid, signal.SIGSTOP)
                processes.wait_until(
                    lambda: processes.is_stopped(self.conductor.pid),
                    timeout=10, message='the conductor stopped')
            finally:
                connection.exec_driver_sql('ROLLBACK')

    # The database, read as an operator would.

    def rows(self, sql, **params):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).all()

    def arqs(self, uuids):
        return {row.uuid: row for row in self.rows(
            'SELECT a.uuid, a.state, a.bind_owner, a.bind_failure, '
            'c.pid AS owner_pid FROM accelerator_requests a LEFT JOIN '
            'conductors c ON c.id = a.bind_owner') if row.uuid in uuids}

    def in_flight(self, uuids):
        """True once every ARQ of ``uuids`` is BindStarted and owned."""
        arqs = self.arqs(uuids)
        return len(arqs) == len(uuids) and all(
            a.state == 'BindStarted' and a.bind_owner for a in arqs.values())

    def conductor_pids(self):
        return {row.pid for row in self.rows('SELECT pid FROM conductors')}

    def wait_resolved(self, uuids, timeout):
        """Wait until no ARQ of ``uuids`` is BindStarted; when, and the
        ARQs."""
        def resolved():
            arqs = self.arqs(uuids)
            if all(a.state != 'BindStarted' for a in arqs.values()):
                return time.monotonic(), arqs
            return None
        return processes.wait_until(resolved, timeout=timeout,
                                    message='every ARQ resolved')

    def check_aftermath(self, uuids):
        """No handle held by two ARQs, none leaked, Nova told once per
        ARQ with the state it ended in."""
        shared = self.rows(
            'SELECT attach_handle_id FROM accelerator_requests WHERE '
            'attach_handle_id IS NOT NULL GROUP BY attach_handle_id '
            'HAVING count(*) > 1')
        assert shared == []
        leaked = self.rows(
            'SELECT h.id FROM attach_handles h WHERE h.in_use AND NOT '
            'EXISTS (SELECT 1 FROM accelerator_requests a WHERE '
            'a.attach_handle_id = h.id)')
        assert leaked == []
        unheld = self.rows(
            "SELECT a.uuid FROM accelerator_requests a JOIN attach_handles "
            "h ON h.id = a.attach_handle_id WHERE NOT h.in_use")
        assert unheld == []
        arqs = self.arqs(uuids)
        processes.wait_until(
            lambda: {e['tag'] for e in self.nova.events} >= set(uuids),
            timeout=RESOLVE_WITHIN, message="nova's events")
        # A second report would come from a sweep, every second.
        time.sleep(3 * CONDUCTOR['heartbeat_interval'])
        events = [e for e in self.nova.events if e['tag'] in uuids]
        counts = collections.Counter(e['tag'] for e in events)
        assert [tag for tag, n in counts.items() if n != 1] == []
        assert {e['tag']: e['status'] for e in events} == {
            uuid: 'completed' if arq.state == 'Bound' else 'failed'
            for uuid, arq in arqs.items()}
        assert all(arq.bind_owner for arq in arqs.values())


@pytest.fixture
def cloud(tmp_path, broker):
    with contextlib.ExitStack() as stack:
        yield Cloud(stack, tmp_path, broker)


def instance(number):
    return multi_host.instance_uuid(number)


def bind_thirty(cloud):
    """30 ARQs of three instances, every one waiting on a load: 16 on
    compute-2's fake card and 12 on compute-3's (an image each, loaded by
    the first ARQ, found by the others), and one xclbin on each Alveo."""
    return (cloud.bind(instance(1), [('compute-2_FakeDevice', 16,
                                      cloud.fake_image)])
            + cloud.bind(instance(2), [('compute-3_FakeDevice', 12,
                                        cloud.fake_image)])
            + cloud.bind(instance(3), [(U250, 1, cloud.xclbins[U250]),
                                       (U280, 1, cloud.xclbins[U280])]))


def report(scenario, seconds, after, arqs):
    states = collections.Counter(a.state for a in arqs.values())
    print('\nCRASH RECOVERY %s: %d ARQs resolved %.1f s after %s (%s)'
          % (scenario, len(arqs), seconds, after,
             ', '.join('%d %s' % (n, s) for s, n in sorted(states.items()))))


def test_a_killed_conductor_is_resumed_by_its_restart(cloud):
    with cloud.agents_stopped(FAKE_HOSTS):
        uuids = bind_thirty(cloud)
        assert len(uuids) == 30
        processes.wait_until(
            lambda: cloud.in_flight(uuids) and cloud.loads_started(),
            timeout=30, message='30 binds in flight')
        cloud.conductor.stop(signal.SIGKILL)
        assert all(a.state == 'BindStarted'
                   for a in cloud.arqs(uuids).values())
        restarted = cloud.start_conductor('conductor-restarted')
        processes.wait_until(
            lambda: restarted.pid in cloud.conductor_pids(), timeout=30,
            message='the restarted conductor registered')
        up = time.monotonic()
    done, arqs = cloud.wait_resolved(uuids, RESOLVE_WITHIN + 30)

    report('conductor SIGKILL, restarted', done - up,
           'the new conductor was up', arqs)
    assert done - up <= RESOLVE_WITHIN
    assert {a.state for a in arqs.values()} == {'Bound'}
    assert {a.owner_pid for a in arqs.values()} == {restarted.pid}
    assert 'Adopted the ARQs of instance' in restarted.log()
    cloud.check_aftermath(uuids)


def test_the_other_conductor_takes_over_from_a_killed_one(cloud):
    second = cloud.start_conductor('conductor-2')
    processes.wait_until(lambda: len(cloud.conductor_pids()) == 2,
                         timeout=30, message='two conductors')
    with cloud.agents_stopped(FAKE_HOSTS):
        uuids = bind_thirty(cloud)
        processes.wait_until(lambda: cloud.in_flight(uuids), timeout=30,
                             message='30 binds in flight')
        owners = collections.Counter(
            a.owner_pid for a in cloud.arqs(uuids).values())
        # Kill whichever holds more of them.
        victim, survivor = sorted(
            (cloud.conductor, second), key=lambda p: -owners[p.pid])
        assert owners[victim.pid] > 0
        victim.stop(signal.SIGKILL)
        killed = time.monotonic()
    done, arqs = cloud.wait_resolved(uuids, RESOLVE_WITHIN + 30)

    report('one of two conductors SIGKILLed (it held %d)'
           % owners[victim.pid], done - killed, 'the kill', arqs)
    assert done - killed <= RESOLVE_WITHIN
    assert {a.state for a in arqs.values()} == {'Bound'}
    assert {a.owner_pid for a in arqs.values()} == {survivor.pid}
    cloud.check_aftermath(uuids)


def test_binds_survive_a_rabbitmq_restart(cloud, broker):
    with cloud.agents_stopped(FAKE_HOSTS):
        # Binds waiting for loads: their answers go with the broker.
        loading = cloud.bind(instance(1), [('compute-2_FakeDevice', 8,
                                            cloud.fake_image)])
        processes.wait_until(lambda: cloud.in_flight(loading), timeout=30,
                             message='binds in flight')
        # Casts no conductor consumes before the broker goes: lost.
        cloud.stop_conductor()
        try:
            queued = (cloud.bind(instance(2), [('compute-3_FakeDevice', 8,
                                                None)])
                      + cloud.bind(instance(3), [(U250, 1, None),
                                                 (U280, 1, None)]))
            broker.restart()
            back = time.monotonic()
        finally:
            os.kill(cloud.conductor.pid, signal.SIGCONT)
    uuids = loading + queued
    done, arqs = cloud.wait_resolved(uuids, RESOLVE_WITHIN + 30)

    lost = cloud.conductor.log().count('a bind cast that never arrived')
    report('RabbitMQ restarted (%d instance(s) whose cast was lost)' % lost,
           done - back, 'the broker was back', arqs)
    assert done - back <= RESOLVE_WITHIN
    assert {a.state for a in arqs.values()} == {'Bound'}
    cloud.check_aftermath(uuids)


def test_an_agent_killed_while_loading_is_asked_again_once_back(cloud):
    [uuid] = cloud.bind(instance(1), [(U250, 1, cloud.xclbins[U250])])
    processes.wait_until(cloud.loads_started, timeout=30,
                         message='the xclbin load')
    os.kill(cloud.agents['compute-0'], signal.SIGKILL)
    killed = time.monotonic()
    time.sleep(1)
    restarted = cloud.start_agent('compute-0', log_name='compute-0-again')
    done, arqs = cloud.wait_resolved([uuid], XILINX_PROGRAM_TIMEOUT
                                     + RESOLVE_WITHIN + 10)

    report('agent SIGKILLed mid-load, restarted', done - killed, 'the kill',
           arqs)
    assert done - killed <= XILINX_PROGRAM_TIMEOUT + RESOLVE_WITHIN
    assert arqs[uuid].state == 'Bound', arqs[uuid].bind_failure
    assert 'fell silent' in cloud.conductor.log()
    # The restarted agent read the card before loading, and what the
    # database says it runs is what it runs.
    log = restarted.log()
    assert 'Programming image %s' % cloud.xclbins[U250] in log or (
        'runs image %s already' % cloud.xclbins[U250]) in log
    deployable = multi_host.deployables_by_name(cloud.api)[U250]
    assert deployable['bitstream_id'] == cloud.xclbins[U250]
    assert cloud.card_runs(xilinx_host.U250) == cloud.xclbin_uuids[U250]
    cloud.check_aftermath([uuid])

    # The next instance asking for that image trusts what was read: it
    # gets the card without another load.
    cloud.api.ok('DELETE', '/v2/accelerator_requests?instance='
                 + instance(1), headers=SERVICE, status=204)
    loads = cloud.loads_started()
    [late] = cloud.bind(instance(2), [(U250, 1, cloud.xclbins[U250])])
    _, arqs = cloud.wait_resolved([late], RESOLVE_WITHIN)
    assert arqs[late].state == 'Bound'
    assert cloud.loads_started() == loads
