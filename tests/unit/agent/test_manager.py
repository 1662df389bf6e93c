"""The agent: reports what its drivers find and programs on request."""

import os

import pytest

from cyborg_clone.agent import manager
from cyborg_clone.agent import resource_tracker
from cyborg_clone.agent import rpcapi
from cyborg_clone.common import context
from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import fake
from cyborg_clone.drivers import report
from tests.conftest import FakeConductor
from tests.fixtures.images import put_image

CTX = context.get_admin_context()


class FlakyDriver(base.Driver):
    """A driver whose vendor tool fails whenever ``broken`` is set."""

    name = 'flaky'

    def __init__(self, conf, devices=()):
        super().__init__(conf)
        self.devices = list(devices)
        self.broken = False

    def discover(self):
        if self.broken:
            raise OSError('vendor tool crashed')
        return self.devices

    def program(self, deployable_name, image_path):
        raise exception.DriverError(driver=self.name, reason='unsupported')


def flaky_card(name):
    return report.Device(
        type='FPGA', vendor='0x10ee', model='m', driver_name='flaky',
        controlpath=report.ControlPath('PCI', {'bus': name}),
        deployables=(report.Deployable(name=name, num_accelerators=1,
                                       resource_class='FPGA'),))


@pytest.fixture
def conductor():
    return FakeConductor()


def reports(conductor):
    return [kwargs for name, kwargs in conductor.calls
            if name == 'report_data']


def reported_names(call):
    return sorted(dep['name'] for device in call['report']
                  for dep in device['deployables'])


def test_rpc_target_is_the_agent_api_version(conf, conductor):
    agent = manager.AgentManager(conf, conductor)
    assert agent.target.version == rpcapi.RPC_API_VERSION


def test_report_once_casts_the_enabled_drivers_devices(conf, conductor):
    agent = manager.AgentManager(conf, conductor)
    sent = agent.report_once(CTX)
    [call] = reports(conductor)
    assert call['hostname'] == 'testhost'
    assert call['report'] == report.to_primitive(
        fake.FakeDriver(conf).discover())
    assert call['failed_drivers'] is None
    assert report.to_primitive(sent) == call['report']
    assert sent.failed == {}


def test_a_failing_driver_is_reported_as_failed_not_with_devices(
        conf, conductor):
    # The conductor keeps its rows as they are; the healthy driver's
    # devices are reported as usual.
    flaky = FlakyDriver(conf, [flaky_card('a')])
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[fake.FakeDriver(conf), flaky])
    agent.report_once(CTX)
    flaky.broken = True
    assert agent.report_once(CTX).failed == {
        'flaky': 'OSError: vendor tool crashed'}
    first, second = reports(conductor)
    assert reported_names(first) == ['a', 'testhost_FakeDevice']
    assert first['failed_drivers'] is None
    assert reported_names(second) == ['testhost_FakeDevice']
    assert second['failed_drivers'] == {
        'flaky': 'OSError: vendor tool crashed'}


def test_other_drivers_changes_still_flow_while_one_fails(conf, conductor):
    flaky = FlakyDriver(conf, [flaky_card('a')])
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[flaky, fake.FakeDriver(conf)])
    agent.report_once(CTX)
    flaky.broken = True
    image = put_image(conf)
    agent.program(CTX, 'testhost_FakeDevice', image)
    agent.report_once(CTX)
    last = reports(conductor)[-1]
    assert reported_names(last) == ['testhost_FakeDevice']
    assert last['report'][0]['deployables'][0]['bitstream_id'] == image
    assert list(last['failed_drivers']) == ['flaky']


def test_a_driver_failing_from_the_start_does_not_hide_the_others(
        conf, conductor):
    flaky = FlakyDriver(conf, [flaky_card('a')])
    flaky.broken = True
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[fake.FakeDriver(conf), flaky])
    agent.report_once(CTX)
    flaky.broken = False
    agent.report_once(CTX)
    failing, recovered = reports(conductor)
    assert reported_names(failing) == ['testhost_FakeDevice']
    assert list(failing['failed_drivers']) == ['flaky']
    assert reported_names(recovered) == ['a', 'testhost_FakeDevice']
    assert recovered['failed_drivers'] is None


class BrokenToolDriver(FlakyDriver):
    """A driver whose vendor tool is missing, as tools.run says it."""

    def discover(self):
        raise exception.DriverError(
            driver=self.name, reason='cannot run /opt/tool: No such file '
                                     'or directory')


def test_a_driver_error_is_reported_as_its_reason_without_a_traceback(
        conf, conductor, caplog):
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[BrokenToolDriver(conf)])
    caplog.set_level('WARNING', logger='cyborg_clone.agent')
    assert agent.report_once(CTX).failed == {
        'flaky': 'cannot run /opt/tool: No such file or directory'}
    [error] = [r for r in caplog.records if r.levelname == 'ERROR']
    assert error.getMessage() == ('Discovery by driver flaky failed: cannot '
                                  'run /opt/tool: No such file or directory')
    assert error.exc_info is None


class VerboseDriver(FlakyDriver):
    def discover(self):
        raise RuntimeError('line one\n' + 'x' * 2000)


def test_a_long_failure_is_cut_to_one_storable_line(conf, conductor):
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[VerboseDriver(conf)])
    reason = agent.report_once(CTX).failed['flaky']
    assert reason.startswith('RuntimeError: line one xxx')
    assert len(reason) == resource_tracker.MAX_REASON


def test_program_while_a_driver_fails_casts_the_full_report(conf, conductor):
    # The answer's report cannot say a driver failed (and applied as
    # complete it would delete that driver's cards): it is left out, and
    # the report goes as a cast, failures included.
    flaky = FlakyDriver(conf, [flaky_card('a')])
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[fake.FakeDriver(conf), flaky])
    agent.report_once(CTX)
    flaky.broken = True
    image = put_image(conf)
    answer = agent.program(CTX, 'testhost_FakeDevice', image)
    assert answer == {'function_id': image, 'report': None}
    cast = reports(conductor)[-1]
    assert reported_names(cast) == ['testhost_FakeDevice']
    assert cast['report'][0]['deployables'][0]['bitstream_id'] == image
    assert list(cast['failed_drivers']) == ['flaky']


def test_program_loads_a_private_copy_and_answers_with_a_fresh_report(
        conf, conductor, monkeypatch):
    image = put_image(conf, b'the bitstream')
    seen = {}
    driver = fake.FakeDriver(conf)
    real_program = driver.program

    def program(deployable_name, path):
        with open(path, 'rb') as copy:
            seen['content'] = copy.read()
        seen['path'] = path
        seen['mode'] = os.stat(os.path.dirname(path)).st_mode & 0o777
        return real_program(deployable_name, path)

    monkeypatch.setattr(driver, 'program', program)
    agent = manager.AgentManager(conf, conductor, drivers=[driver])
    answer = agent.program(CTX, 'testhost_FakeDevice', image)
    assert answer['function_id'] == image
    assert answer['report'][0]['deployables'][0]['bitstream_id'] == image
    assert seen['content'] == b'the bitstream'
    assert os.path.basename(seen['path']) == image
    assert seen['mode'] == 0o700
    # Cleaned up after the load.
    assert not os.path.exists(os.path.dirname(seen['path']))
    # The periodic report agrees.
    agent.report_once(CTX)
    [call] = reports(conductor)
    assert call['report'] == answer['report']


def test_program_before_any_report_discovers_first(conf, conductor):
    flaky = FlakyDriver(conf, [flaky_card('a')])
    agent = manager.AgentManager(conf, conductor,
                                 drivers=[fake.FakeDriver(conf), flaky])
    with pytest.raises(exception.DriverError) as caught:
        agent.program(CTX, 'a', put_image(conf))
    assert 'flaky' in str(caught.value)


def test_program_an_unknown_deployable_is_not_found(conf, conductor):
    agent = manager.AgentManager(conf, conductor)
    with pytest.raises(exception.DeployableNotFound):
        agent.program(CTX, 'elsewhere_FakeDevice', put_image(conf))


def test_program_an_image_not_in_the_store_loads_nothing(conf, conductor):
    agent = manager.AgentManager(conf, conductor)
    with pytest.raises(exception.ImageNotFound):
        agent.program(CTX, 'testhost_FakeDevice', '0' * 32)
    [device] = fake.FakeDriver(conf).discover()
    assert device.deployables[0].bitstream_id is None


def test_program_refuses_a_corrupt_image(conf, conductor):
    image = put_image(conf, b'good')
    with open(os.path.join(conf.image_store.file_root, image), 'wb') as f:
        f.write(b'evil')
    agent = manager.AgentManager(conf, conductor)
    with pytest.raises(exception.ImageCorrupt):
        agent.program(CTX, 'testhost_FakeDevice', image)
    [device] = fake.FakeDriver(conf).discover()
    assert device.deployables[0].bitstream_id is None


@pytest.mark.parametrize('image_id', ['../etc/passwd', '', '.hidden',
                                      'a/b', None, 'x' * 65,
                                      'd5ca2f11-3108-4426-a11c-a959987565df'])
def test_program_refuses_ids_that_are_not_image_ids(
        conf, conductor, image_id):
    agent = manager.AgentManager(conf, conductor)
    with pytest.raises(exception.Invalid):
        agent.program(CTX, 'testhost_FakeDevice', image_id)


def test_program_on_a_host_whose_state_path_does_not_exist_yet(
        conf, conductor, tmp_path):
    conf.set_override('file_root', str(tmp_path / 'shared-images'),
                      group='image_store')
    image = put_image(conf)
    conf.set_override('state_path', str(tmp_path / 'fresh' / 'state'))
    agent = manager.AgentManager(conf, conductor)
    assert agent.program(CTX, 'testhost_FakeDevice', image)[
        'function_id'] == image
