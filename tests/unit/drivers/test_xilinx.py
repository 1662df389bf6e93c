"""The xilinx driver against a realistic host: sysfs and fake XRT tools."""

import json
import logging
import os
import re
import subprocess
import tempfile
import uuid

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import base
from cyborg_clone.drivers import report
from cyborg_clone.drivers import xclbin
from cyborg_clone.drivers import xilinx
from tests.fixtures import sysfs
from tests.fixtures import xilinx_host
from tests.fixtures.xilinx_host import U250
from tests.fixtures.xilinx_host import U280

TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
HOST = 'compute-0'


def pci(address):
    domain, bus, rest = address.split(':')
    device, function = rest.split('.')
    return {'domain': domain, 'bus': bus, 'device': device,
            'function': function}


@pytest.fixture
def host(conf, tmp_path):
    host = xilinx_host.build(tmp_path / 'root', tmp_path / 'bin',
                             tmp_path / 'tool-state', HOST)
    conf.set_override('host', HOST)
    host.apply(conf)
    return host


@pytest.fixture
def driver(conf, host):
    return xilinx.XilinxDriver(conf)


@pytest.fixture
def image(tmp_path, host):
    """An xclbin built for the U250's shell, named by its image id."""
    path = tmp_path / 'images' / 'img-u250'
    path.parent.mkdir()
    xclbin_uuid = host.xclbin_for(U250, path)
    return str(path), xclbin_uuid


def deployables(driver):
    return {dep.name: dep for device in driver.discover()
            for dep in device.deployables}


def tool_calls(host, tool=None):
    return [call for call in host.calls()
            if tool is None or call[0] == tool]


# Discovery ------------------------------------------------------------------

def test_each_ready_alveo_card_is_one_fpga_device(driver):
    devices = driver.discover()
    assert [(d.type, d.vendor, d.model, d.driver_name) for d in devices] == [
        ('FPGA', '0x10ee', 'Alveo U250', 'xilinx'),
        ('FPGA', '0x10ee', 'Alveo U280', 'xilinx')]
    assert [d.std_board_info for d in devices] == [
        {'device_id': '0x5004', 'class': '0x120000', 'numa_node': 0},
        {'device_id': '0x500c', 'class': '0x120000', 'numa_node': 1}]


def test_mgmt_and_user_functions_merge_into_one_deployable(driver):
    devices = driver.discover()
    assert len(devices) == 2
    for device, card in zip(devices, (U250, U280), strict=True):
        [deployable] = device.deployables
        assert deployable.name == '%s_%s' % (HOST, card.mgmt)
        assert deployable.resource_class == 'FPGA'
        # The user function is the accelerator; the management function
        # stays with the host as the control path.
        assert deployable.num_accelerators == 1
        assert deployable.attach_handles == (
            report.AttachHandle(attach_type='PCI',
                                attach_info=pci(card.user)),)
        assert device.controlpath == report.ControlPath(
            cpid_type='PCI', cpid_info=pci(card.mgmt))


def test_blank_cards_have_product_traits_and_no_bitstream(driver):
    found = deployables(driver)
    assert found['compute-0_0000:3b:00.0'].traits == (
        'CUSTOM_FPGA_XILINX', 'CUSTOM_FPGA_PRODUCT_ID_5004')
    assert found['compute-0_0000:d8:00.0'].traits == (
        'CUSTOM_FPGA_XILINX', 'CUSTOM_FPGA_PRODUCT_ID_500C')
    assert {dep.bitstream_id for dep in found.values()} == {None}


def test_discovery_asks_xbutil_with_a_private_file_it_removes(
        driver, host, tmp_path, monkeypatch):
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
    driver.discover()
    calls = tool_calls(host)
    assert [call[:7] for call in calls] == [
        ['xbutil', 'examine', '-d', card.user, '-r', 'dynamic-regions',
         '-f'] for card in (U250, U280)]
    assert all(call[7:9] == ['JSON', '-o'] for call in calls)
    assert all(call[9].startswith(str(scratch)) for call in calls)
    assert list(scratch.iterdir()) == []


def test_unbound_card_is_left_out_with_one_warning(driver, caplog):
    with caplog.at_level(logging.WARNING, logger=xilinx.__name__):
        first = deployables(driver)
        second = deployables(driver)
    assert 'compute-0_0000:af:00.0' not in first
    assert first.keys() == second.keys()
    warnings = [r.getMessage() for r in caplog.records
                if '0000:af:00.0' in r.getMessage()]
    assert len(warnings) == 1
    assert 'no kernel driver is bound' in warnings[0]


def test_unbound_card_cannot_be_programmed(driver, image):
    with pytest.raises(exception.DriverError, match='no deployable named'):
        driver.program('compute-0_0000:af:00.0', image[0])


def test_other_vendors_and_huawei_shells_are_not_reported(driver, host):
    # The host has a Huawei VU9P shell (0x19e5, the huawei_vu9p driver's)
    # and a NIC besides its Alveo cards.
    assert os.path.isdir(host.tree.device_dir(xilinx_host.HUAWEI_VU9P))
    devices = driver.discover()
    assert {d.vendor for d in devices} == {'0x10ee'}
    assert set(deployables(driver)) == {'compute-0_0000:3b:00.0',
                                        'compute-0_0000:d8:00.0'}


def test_empty_host_reports_nothing(conf, tmp_path):
    sysfs.SysfsTree(tmp_path / 'bare')
    conf.set_override('sysfs_root', str(tmp_path / 'bare'), group='agent')
    assert xilinx.XilinxDriver(conf).discover() == []


def test_report_survives_the_rpc_round_trip(driver, image):
    driver.program('compute-0_0000:3b:00.0', image[0])
    devices = driver.discover()
    assert report.from_primitive(report.to_primitive(devices)) == devices


def test_examine_failure_fails_discovery(driver, host):
    host.set_state(U280, 'examine_error', 'Unable to open device: EIO')
    with pytest.raises(exception.DriverError,
                       match='Unable to open device: EIO'):
        driver.discover()


# Programming ----------------------------------------------------------------

def test_program_loads_verifies_and_reports_the_function(driver, host,
                                                         image):
    path, xclbin_uuid = image
    assert driver.program('compute-0_0000:3b:00.0', path) == xclbin_uuid
    assert host.loaded(U250) == xclbin_uuid
    assert tool_calls(host, 'xbmgmt') == [
        ['xbmgmt', 'program', '-d', U250.mgmt, '--user', path]]
    found = deployables(driver)
    loaded = found['compute-0_0000:3b:00.0']
    function_trait = ('CUSTOM_FPGA_FUNCTION_ID_XILINX_'
                      + uuid.UUID(xclbin_uuid).hex.upper())
    assert loaded.traits == ('CUSTOM_FPGA_XILINX',
                             'CUSTOM_FPGA_PRODUCT_ID_5004', function_trait)
    assert loaded.bitstream_id == 'img-u250'
    assert all(TRAIT.match(t) for dep in found.values() for t in dep.traits)
    # The other card is untouched.
    assert found['compute-0_0000:d8:00.0'].bitstream_id is None
    assert host.loaded(U280) is None


def test_a_card_reprogrammed_behind_our_back_loses_the_image_id(
        driver, host, image):
    driver.program('compute-0_0000:3b:00.0', image[0])
    other = str(uuid.uuid4())
    host.set_state(U250, 'xclbin_uuid', other)
    loaded = deployables(driver)['compute-0_0000:3b:00.0']
    assert loaded.bitstream_id is None
    assert loaded.traits[-1] == ('CUSTOM_FPGA_FUNCTION_ID_XILINX_'
                                 + uuid.UUID(other).hex.upper())


def test_without_xclmgmt_xbutil_programs_through_the_user_function(
        driver, host, image):
    host.rebind(U250.mgmt)
    [device] = [d for d in driver.discover() if d.model == 'Alveo U250']
    assert device.controlpath.cpid_info == pci(U250.mgmt)
    assert device.deployables[0].attach_handles[0].attach_info == \
        pci(U250.user)
    path, xclbin_uuid = image
    assert driver.program('compute-0_0000:3b:00.0', path) == xclbin_uuid
    assert tool_calls(host, 'xbmgmt') == []
    assert ['xbutil', 'program', '-d', U250.user, '-u', path] in \
        tool_calls(host, 'xbutil')


def test_a_card_held_by_a_guest_reports_what_we_loaded(driver, host,
                                                       image):
    path, xclbin_uuid = image
    driver.program('compute-0_0000:3b:00.0', path)
    host.rebind(U250.user, 'vfio-pci')
    before = len(host.calls())
    loaded = deployables(driver)['compute-0_0000:3b:00.0']
    assert loaded.bitstream_id == 'img-u250'
    assert loaded.attach_handles[0].attach_info == pci(U250.user)
    # Only the U280 was examined: vfio-pci hides the U250 from XRT.
    assert [c[3] for c in host.calls()[before:]] == [U280.user]
    with pytest.raises(exception.DriverError, match='bound to vfio-pci'):
        driver.program('compute-0_0000:3b:00.0', path)
    assert tool_calls(host, 'xbmgmt') == [
        ['xbmgmt', 'program', '-d', U250.mgmt, '--user', path]]


def test_unknown_deployable(driver, image):
    with pytest.raises(exception.DriverError,
                       match='no deployable named compute-1_0000:3b:00.0'):
        driver.program('compute-1_0000:3b:00.0', image[0])


@pytest.mark.parametrize('content, reason', [
    (b'', 'does not start with the xclbin magic'),
    (b'-----BEGIN CERTIFICATE-----\n' * 40,
     'does not start with the xclbin magic'),
    (b'xclbin2\0' + b'\0' * 100, 'shorter than an xclbin header'),
])
def test_a_file_that_is_not_an_xclbin_never_reaches_the_tool(
        driver, host, tmp_path, content, reason):
    path = tmp_path / 'not-an-xclbin'
    path.write_bytes(content)
    with pytest.raises(exception.DriverError, match=reason) as raised:
        driver.program('compute-0_0000:3b:00.0', str(path))
    assert 'not-an-xclbin is not a loadable xclbin' in str(raised.value)
    assert host.calls() == []


def test_truncated_and_emulation_xclbins_are_refused(driver, host,
                                                     tmp_path):
    truncated = tmp_path / 'truncated'
    host.xclbin_for(U250, truncated)
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.raises(exception.DriverError, match='is truncated'):
        driver.program('compute-0_0000:3b:00.0', str(truncated))
    emulation = tmp_path / 'emulation'
    host.xclbin_for(U250, emulation, mode=4)
    with pytest.raises(exception.DriverError, match='built for hw_emu'):
        driver.program('compute-0_0000:3b:00.0', str(emulation))
    assert host.calls() == []


def test_missing_image_file(driver, host, tmp_path):
    with pytest.raises(exception.DriverError, match='cannot read image'):
        driver.program('compute-0_0000:3b:00.0', str(tmp_path / 'gone'))
    assert host.calls() == []


def test_incompatible_xclbin_is_refused_by_the_shell(driver, host,
                                                     tmp_path):
    # Built for the U280's shell, loaded onto the U250.
    path = tmp_path / 'img-u280'
    host.xclbin_for(U280, path)
    with pytest.raises(exception.DriverError) as raised:
        driver.program('compute-0_0000:3b:00.0', str(path))
    message = str(raised.value)
    assert 'xbmgmt program exited with status 1' in message
    assert 'incompatible with the shell' in message
    assert U280.interface_uuid in message
    assert host.loaded(U250) is None
    assert deployables(driver)['compute-0_0000:3b:00.0'].bitstream_id is None


def test_busy_card_is_not_programmed(driver, host, image):
    host.set_state(U250, 'busy', 'pid 4242 (vadd_host)')
    with pytest.raises(exception.DriverError,
                       match='Device or resource busy'):
        driver.program('compute-0_0000:3b:00.0', image[0])
    assert host.loaded(U250) is None


def test_tool_failure_carries_its_stderr(driver, host, image):
    host.set_state(U250, 'program_error',
                   'ICAP programming timed out (axi firewall tripped)')
    with pytest.raises(exception.DriverError) as raised:
        driver.program('compute-0_0000:3b:00.0', image[0])
    assert str(raised.value).endswith(
        'xbmgmt program exited with status 1: ERROR: Could not program '
        'device 0000:3b:00.0 : ICAP programming timed out (axi firewall '
        'tripped)')
    assert base.LoadedImages(driver.conf, 'xilinx').entry(
        'compute-0_0000:3b:00.0') is None


def test_success_that_did_not_load_is_caught_by_verification(driver, host,
                                                             image):
    host.set_state(U250, 'program_noop', '')
    with pytest.raises(exception.DriverError,
                       match='reported success, but deployable '
                             'compute-0_0000:3b:00.0 runs xclbin None'):
        driver.program('compute-0_0000:3b:00.0', image[0])
    assert deployables(driver)['compute-0_0000:3b:00.0'].bitstream_id is None


def test_program_timeout(driver, conf, host, image):
    conf.set_override('program_timeout', 1, group='xilinx')
    host.set_state(U250, 'program_delay', '30')
    with pytest.raises(exception.DriverError,
                       match='xbmgmt program did not finish within 1 '
                             'seconds'):
        driver.program('compute-0_0000:3b:00.0', image[0])
    assert host.loaded(U250) is None


def test_missing_tool(driver, conf, host, image, tmp_path):
    conf.set_override('xbmgmt_path', str(tmp_path / 'no-xrt' / 'xbmgmt'),
                      group='xilinx')
    with pytest.raises(exception.DriverError, match='cannot run .*xbmgmt'):
        driver.program('compute-0_0000:3b:00.0', image[0])


# The xclbin header and the examine report ------------------------------------

def test_xclbin_header_offsets_match_xrt(tmp_path):
    interface = '00112233445566778899aabbccddeeff'
    own = uuid.UUID('d081de98-3fd3-4e9b-bab3-108b42c73101')
    path = xilinx_host.make_xclbin(tmp_path / 'a.xclbin', interface, own,
                                   vbnv='xilinx_u250_gen3x16_xdma_shell_4_1')
    raw = open(path, 'rb').read()
    # struct axlf: magic at 0, axlf_header at 304 with m_length first,
    # m_interface_uuid at 336, the uuid at 416.
    assert raw[:8] == b'xclbin2\0'
    assert int.from_bytes(raw[304:312], 'little') == len(raw)
    assert raw[336:352] == bytes.fromhex(interface)
    assert raw[416:432] == own.bytes
    header = xclbin.read_header(path)
    assert header.xclbin_uuid == str(own)
    assert header.interface_uuid == interface
    assert header.platform_vbnv == 'xilinx_u250_gen3x16_xdma_shell_4_1'
    assert (header.mode, header.version, header.length) == (
        'pr', '2.16.204', len(raw))


@pytest.mark.parametrize('regions, expected', [
    ([], None),
    ([{'xclbin_uuid': '00000000-0000-0000-0000-000000000000'}], None),
    ([{'xclbin_uuid': 'N/A'}], None),
    ([{'id': '0', 'xclbin_uuid': 'D081DE98-3FD3-4E9B-BAB3-108B42C73101'}],
     'd081de98-3fd3-4e9b-bab3-108b42c73101'),
])
def test_loaded_uuid_from_the_examine_report(regions, expected):
    examined = {'devices': [{'device_id': '0000:3b:00.1',
                             'dynamic_regions': regions}]}
    assert xilinx.loaded_uuid(examined, '0000:3b:00.1') == expected


def test_examine_report_of_another_device_is_an_error():
    with pytest.raises(ValueError, match='no device 0000:3b:00.1'):
        xilinx.loaded_uuid({'devices': [{'device_id': '0000:d8:00.1'}]},
                           '0000:3b:00.1')


# The fake tools, as the functional tests rely on them -----------------------

def run_tool(host, tool, *args):
    return subprocess.run([host[('xilinx', '%s_path' % tool)]] + list(args),
                          capture_output=True, text=True, timeout=30)


def test_xbutil_host_report_lists_the_ready_cards(host):
    done = run_tool(host, 'xbutil', 'examine')
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()
            if line.startswith('[')]
    assert rows == [
        ['[%s]' % card.user, ':', card.vbnv,
         str(uuid.UUID(card.logic_uuid)).upper(), 'user(inst=%d)' % inst,
         'Yes'] for inst, card in ((128, U250), (129, U280))]


def test_xbutil_examine_json_goes_only_into_a_new_file(host, tmp_path):
    out = tmp_path / 'report.json'
    done = run_tool(host, 'xbutil', 'examine', '-d', U250.user, '-r',
                    'dynamic-regions', '-f', 'JSON', '-o', str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())['devices'] == [{
        'interface_type': 'pcie', 'device_id': U250.user,
        'device_status': 'HEALTHY', 'dynamic_regions': []}]
    again = run_tool(host, 'xbutil', 'examine', '-d', U250.user, '-r',
                     'dynamic-regions', '-f', 'JSON', '-o', str(out))
    assert again.returncode == 1
    assert 'already exists' in again.stderr
    no_file = run_tool(host, 'xbutil', 'examine', '-d', U250.user, '-f',
                       'JSON', '-r', 'platform')
    assert no_file.returncode == 1
    assert 'specify an output file' in no_file.stderr


@pytest.mark.parametrize('tool, bdf', [
    ('xbutil', '0000:99:00.1'),
    # Each tool sees only its own side of the card.
    ('xbutil', U250.mgmt),
    ('xbmgmt', U250.user),
    # No driver bound: XRT does not see the card at all.
    ('xbutil', xilinx_host.U50_UNBOUND.user),
])
def test_tools_refuse_unknown_devices(host, tool, bdf, image):
    flag = '-u' if tool == 'xbutil' else '--user'
    done = run_tool(host, tool, 'program', '-d', bdf, flag, image[0])
    assert done.returncode == 1
    assert done.stderr == "ERROR: Specified device BDF '%s' not found\n" % bdf


def test_tools_refuse_missing_and_foreign_files(host, tmp_path):
    missing = tmp_path / 'missing.xclbin'
    done = run_tool(host, 'xbutil', 'program', '-d', U250.user, '-u',
                    str(missing))
    assert (done.returncode, done.stderr) == (
        1, "ERROR: The xclbin file '%s' does not exist\n" % missing)
    text = tmp_path / 'notes.txt'
    text.write_text('hello\n')
    done = run_tool(host, 'xbmgmt', 'program', '-d', U250.mgmt, '--user',
                    str(text))
    assert done.returncode == 1
    assert 'is not a valid xclbin' in done.stderr
    assert host.loaded(U250) is None
