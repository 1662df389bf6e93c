"""The huawei_vu9p driver against a sysfs tree and a fake FpgaCmdEntry."""

import os
import re
import subprocess
import time

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import fpga_cmd_entry
from cyborg_clone.drivers import huawei_vu9p
from cyborg_clone.drivers import report
from tests.fixtures import sysfs
from tests.fixtures import vu9p_host

TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
IMAGE = '4010a32c5c62bad9015c62dc2290002b'
OTHER_IMAGE = 'ff8080825e9d1c2a015e9e74851ee002'
UNKNOWN_IMAGE = '0123456789abcdef0123456789abcdef'
HP, GP = (shell.address for shell in vu9p_host.SHELLS)


class Host:
    """The fixture host's paths, and the fake tool's record of its runs."""

    def __init__(self, tmp_path):
        self.root = tmp_path / 'root'
        self.bin_dir = tmp_path / 'bin'
        self.state = tmp_path / 'tool-state'
        self.catalog = tmp_path / 'catalog'

    def reinstall(self, **settings):
        vu9p_host.install_tool(self.bin_dir, self.root, self.state,
                               self.catalog, **settings)

    def tool(self, *args):
        return subprocess.run(
            [str(self.bin_dir / 'FpgaCmdEntry'), *args],
            capture_output=True, text=True)

    def calls(self):
        try:
            return (self.state / 'calls.log').read_text().splitlines()
        except FileNotFoundError:
            return []


@pytest.fixture
def host(conf, tmp_path):
    host = Host(tmp_path)
    overrides = vu9p_host.build(host.root, host.bin_dir, host.state,
                                host.catalog, poll_interval=0.01,
                                load_polls=1)
    for (group, name), value in overrides.items():
        conf.set_override(name, value, group=group)
    # Another vendor's card on the same host.
    sysfs.SysfsTree(host.root).add_pci('0000:3b:00.0', '0x10ee', '0x5000',
                                       driver='xclmgmt')
    for image_id in (IMAGE, OTHER_IMAGE):
        (host.catalog / image_id).write_bytes(b'AEI')
    return host


@pytest.fixture
def driver(conf, host):
    return huawei_vu9p.HuaweiVU9PDriver(conf)


def image(conf, image_id):
    """Where the agent would have put the image: its base name is the id."""
    return os.path.join(conf.state_path, 'images', image_id)


def by_address(devices):
    return {'%(domain)s:%(bus)s:%(device)s.%(function)s'
            % d.controlpath.cpid_info: d for d in devices}


def test_one_device_per_shell_and_no_other_function(driver):
    devices = by_address(driver.discover())
    assert sorted(devices) == [HP, GP]
    assert devices[HP].model == 'FP1 VU9P high-performance shell'
    assert devices[GP].model == 'FP1 VU9P general-purpose shell'
    for device in devices.values():
        assert (device.type, device.vendor, device.driver_name) == (
            'FPGA', '0x19e5', 'huawei_vu9p')


def test_deployable_is_the_shell_function_with_one_pci_handle(driver):
    for address, device in by_address(driver.discover()).items():
        [deployable] = device.deployables
        assert deployable.name == 'testhost_%s' % address
        assert deployable.num_accelerators == 1
        assert deployable.resource_class == 'FPGA'
        assert device.controlpath.cpid_type == 'PCI'
        assert deployable.attach_handles == (report.AttachHandle(
            attach_type='PCI', attach_info=device.controlpath.cpid_info),)
    assert by_address(driver.discover())[GP].controlpath.cpid_info == {
        'domain': '0000', 'bus': '87', 'device': '00', 'function': '0'}


def test_board_info_comes_from_sysfs_and_the_shell_id_from_the_tool(driver):
    devices = by_address(driver.discover())
    assert devices[HP].std_board_info == {
        'device_id': '0xd503', 'class': '0x120000', 'numa_node': 1}
    assert devices[GP].std_board_info['device_id'] == '0xd512'
    assert devices[HP].vendor_board_info == 'shell_id=01010021'
    assert devices[GP].vendor_board_info == 'shell_id=01210002'


def test_traits_of_empty_shells_are_valid_and_name_the_shell(driver):
    devices = by_address(driver.discover())
    for address, product in ((HP, 'D503'), (GP, 'D512')):
        [deployable] = devices[address].deployables
        assert set(deployable.traits) == {
            'CUSTOM_FPGA_XILINX', 'CUSTOM_FPGA_HUAWEI_VU9P',
            'CUSTOM_FPGA_PRODUCT_ID_' + product}
        assert all(TRAIT.match(t) for t in deployable.traits)
        assert deployable.bitstream_id is None


def test_report_survives_the_rpc_round_trip(driver):
    devices = driver.discover()
    assert report.from_primitive(report.to_primitive(devices)) == devices


def test_no_shells_needs_no_tool(conf, tmp_path):
    conf.set_override('sysfs_root', str(tmp_path / 'empty'), group='agent')
    conf.set_override('fpga_cmd_entry_path', str(tmp_path / 'missing'),
                      group='huawei_vu9p')
    assert huawei_vu9p.HuaweiVU9PDriver(conf).discover() == []


def test_program_polls_through_processing_until_success(conf, driver, host):
    assert driver.program('testhost_' + HP, image(conf, IMAGE)) == IMAGE
    # The first IF run shows PROCESSING (load_polls=1), the second SUCCESS.
    assert host.calls() == ['DF -D', 'LF -S 0 -I ' + IMAGE] + ['IF -S 0'] * 2


def test_discovery_reports_the_loaded_aei_as_bitstream(conf, driver):
    driver.program('testhost_' + GP, image(conf, IMAGE))
    devices = by_address(driver.discover())
    [loaded] = devices[GP].deployables
    assert loaded.bitstream_id == IMAGE
    assert 'CUSTOM_FPGA_FUNCTION_ID_HUAWEI_' + IMAGE.upper() in loaded.traits
    assert all(TRAIT.match(t) for t in loaded.traits)
    assert devices[HP].deployables[0].bitstream_id is None


def test_reloading_replaces_the_function_trait(conf, driver):
    name = 'testhost_' + HP
    driver.program(name, image(conf, IMAGE))
    assert driver.program(name, image(conf, OTHER_IMAGE)) == OTHER_IMAGE
    [deployable] = by_address(driver.discover())[HP].deployables
    functions = [t for t in deployable.traits if 'FUNCTION_ID' in t]
    assert functions == ['CUSTOM_FPGA_FUNCTION_ID_HUAWEI_'
                         + OTHER_IMAGE.upper()]


def test_slots_come_from_df_not_from_sysfs_order(conf, driver, host):
    # The tool numbers shells in its own scan order: here 87 is slot 0.
    host.reinstall(slot_order='reverse')
    driver.program('testhost_' + GP, image(conf, IMAGE))
    assert 'LF -S 0 -I ' + IMAGE in host.calls()
    devices = by_address(driver.discover())
    assert devices[GP].deployables[0].bitstream_id == IMAGE
    assert devices[HP].deployables[0].bitstream_id is None


def test_a_shell_beyond_the_tools_eight_slots_cannot_be_loaded(
        conf, driver, host):
    tree = sysfs.SysfsTree(host.root)
    extra = ['0000:%02x:00.0' % bus for bus in range(0x90, 0x97)]
    for address in extra:
        tree.add_pci(address, '0x19e5', '0xd503', driver='vfio-pci')
    # Slots 0..7 are 86, 87 and 90..95; the tool has no slot for 96.
    devices = by_address(driver.discover())
    assert len(devices) == 9
    assert devices[extra[-1]].deployables[0].bitstream_id is None
    with pytest.raises(exception.DriverError) as caught:
        driver.program('testhost_' + extra[-1], image(conf, IMAGE))
    assert 'FpgaCmdEntry DF -D does not list %s' % extra[-1] in str(
        caught.value)
    assert 'IF -S 8' not in host.calls()


def test_a_cleared_shell_reports_no_bitstream(conf, driver, host):
    driver.program('testhost_' + HP, image(conf, IMAGE))
    assert host.tool('CF', '-S', '0').returncode == 0
    host.reinstall(load_polls=0)
    assert host.tool('IF', '-S', '0').returncode == 0
    [deployable] = by_address(driver.discover())[HP].deployables
    assert deployable.bitstream_id is None
    assert not [t for t in deployable.traits if 'FUNCTION_ID' in t]


def test_an_aei_id_the_image_service_does_not_know_fails_the_load(
        conf, driver):
    name = 'testhost_' + HP
    driver.program(name, image(conf, IMAGE))
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name, image(conf, UNKNOWN_IMAGE))
    assert 'Load/ClearOpsError INVALID_AEI_ID' in str(caught.value)
    assert UNKNOWN_IMAGE in str(caught.value)
    # The failed load never reached the PR region.
    [deployable] = by_address(driver.discover())[HP].deployables
    assert deployable.bitstream_id == IMAGE


def test_a_busy_slot_refuses_the_load(conf, driver, host):
    host.reinstall(load_polls=1000)
    assert host.tool('LF', '-S', '1', '-I', OTHER_IMAGE).returncode == 0
    with pytest.raises(exception.DriverError) as caught:
        driver.program('testhost_' + GP, image(conf, IMAGE))
    assert 'FpgaCmdEntry LF exited with status' in str(caught.value)
    assert 'Command busy' in str(caught.value)


def test_a_load_past_the_deadline_fails_with_the_last_status(
        conf, driver, host):
    host.reinstall(load_polls=100000)
    conf.set_override('load_timeout', 1, group='huawei_vu9p')
    started = time.monotonic()
    with pytest.raises(exception.DriverError) as caught:
        driver.program('testhost_' + HP, image(conf, IMAGE))
    assert 1 <= time.monotonic() - started < 5
    message = str(caught.value)
    assert 'did not finish within 1 seconds' in message
    assert ('last status: Load/ClearOpsStatus PROCESSING, '
            'FPGA PR status PROGRAMMING') in message


def test_success_with_another_aei_id_is_a_failure(conf, driver, host):
    host.reinstall(load_as=OTHER_IMAGE)
    with pytest.raises(exception.DriverError) as caught:
        driver.program('testhost_' + HP, image(conf, IMAGE))
    assert 'reports AEI %s after loading %s' % (OTHER_IMAGE, IMAGE) in str(
        caught.value)


@pytest.mark.parametrize('image_id', [
    'not-an-image', IMAGE.upper(), IMAGE[:-1], IMAGE + '0',
    '..%s' % IMAGE[2:]])
def test_a_malformed_image_id_runs_no_tool(conf, driver, host, image_id):
    with pytest.raises(exception.DriverError) as caught:
        driver.program('testhost_' + HP, image(conf, image_id))
    assert 'does not name an FPGA image id' in str(caught.value)
    assert host.calls() == []


@pytest.mark.parametrize('name', [
    'testhost_' + vu9p_host.OTHER_HUAWEI, 'testhost_0000:3b:00.0',
    'otherhost_' + HP, 'testhost_FakeDevice'])
def test_an_unknown_deployable_runs_no_load(conf, driver, host, name):
    with pytest.raises(exception.DriverError) as caught:
        driver.program(name, image(conf, IMAGE))
    assert 'no deployable named %s' % name in str(caught.value)
    assert not [c for c in host.calls() if c.startswith('LF')]


def test_a_missing_tool_fails_discovery_and_programming(conf, driver,
                                                        tmp_path):
    conf.set_override('fpga_cmd_entry_path', str(tmp_path / 'nope'),
                      group='huawei_vu9p')
    with pytest.raises(exception.DriverError, match='cannot run'):
        driver.discover()
    with pytest.raises(exception.DriverError, match='cannot run'):
        driver.program('testhost_' + HP, image(conf, IMAGE))


def test_an_unreadable_status_block_is_a_driver_error(conf, driver, host):
    # DF answers as the fake does; IF prints a block that lost its fields.
    wrapper = host.bin_dir / 'Truncated'
    wrapper.write_text(
        '#!/bin/sh\n'
        'if [ "$1" = IF ]; then\n'
        '  echo " ---------Image Information---------"\n'
        '  echo "Command execution is complete."\n'
        '  exit 0\n'
        'fi\n'
        'exec "%s" "$@"\n' % (host.bin_dir / 'FpgaCmdEntry'))
    wrapper.chmod(0o755)
    conf.set_override('fpga_cmd_entry_path', str(wrapper),
                      group='huawei_vu9p')
    with pytest.raises(exception.DriverError) as caught:
        driver.discover()
    assert 'cannot read the output of FpgaCmdEntry IF -S 0' in str(
        caught.value)


# The parser, on output as Huawei's documentation shows it.

DOC_STATUS = (
    ' -------------Image Information--------------------\n'
    '     Type                       Fpga Device\n'
    '     Slot\t\t\t0\n'
    '     VendorId\t\t\t0x19e5\n'
    '     DeviceId\t\t\t0xd512\n'
    '     DBDF                       0000:00:06.0\n'
    '     AEI ID                     %s\n'
    '     Shell ID\t\t\t01210002\n'
    '     FPGA PR status             %s\n'
    '     Load/ClearOpsStatus        %s\n'
    '%s'
    ' --------------------------------------------------\n'
    'Command execution is complete.\n')


def test_parser_reads_space_padded_output_too():
    status = fpga_cmd_entry.parse_status(
        DOC_STATUS % (IMAGE, 'PROGRAMMED', 'SUCCESS', ''))
    assert (status.slot, status.dbdf, status.shell_id) == (
        0, '0000:00:06.0', '01210002')
    assert status.loaded_aei_id == IMAGE
    assert status.ops_error is None


def test_parser_reads_the_failure_reason():
    status = fpga_cmd_entry.parse_status(DOC_STATUS % (
        '', 'NOT_PROGRAMMED', 'FAILURE',
        '     Load/ClearOpsError\t\tINVALID_AEI_ID\n'))
    assert status.aei_id is None and status.loaded_aei_id is None
    assert status.ops_error == 'INVALID_AEI_ID'


@pytest.mark.parametrize('output', [
    '',
    'There is no FPGA Resource.\n',
    (DOC_STATUS % (IMAGE, 'PROGRAMMED', 'SUCCESS', '')).replace(
        'Command execution is complete.\n', ''),
    DOC_STATUS % (IMAGE, 'PROGRAMMED', 'DONE', ''),
    DOC_STATUS % (IMAGE, 'LOADED', 'SUCCESS', ''),
    (DOC_STATUS % (IMAGE, 'PROGRAMMED', 'SUCCESS', '')).replace(
        'Slot\t\t\t0', 'Slot\t\t\tzero'),
    (DOC_STATUS % (IMAGE, 'PROGRAMMED', 'SUCCESS', '')) * 2,
])
def test_parser_refuses_what_it_cannot_read(output):
    with pytest.raises(fpga_cmd_entry.ParseError):
        fpga_cmd_entry.parse_status(output)


# The fake tool fails where the real one does.

@pytest.mark.parametrize('args, message', [
    (['XX'], 'The valid input operate code are listed below.'),
    (['LOAD'], 'All operate codes consist of 2 characters.'),
    (['IF', '-S', '8'], 'Fpga slot number(8) must be less than 8'),
    (['IF', '-S', 'one'], 'Option -S should be followed by a decimal'),
    (['IF', '-S', '2'], 'There is no fpga device in slot(2).'),
    (['LF', '-S', '0', '-I', 'abc'], 'Input AEI id length must be 32'),
    (['LF', '-S', '0'], 'FpgaCmdEntry LF -S <slot num> -I <AEI id>'),
])
def test_fake_tool_refuses_bad_commands(host, args, message):
    done = host.tool(*args)
    assert done.returncode != 0
    assert message in done.stdout
    assert 'Command execution is complete.' not in done.stdout
