"""The intel_opae driver against a PAC host in both kernel layouts, with
the fake fpgaconf; and the GBS header it checks images with."""

import logging
import os
import re
import shutil
import subprocess

import pytest

from cyborg_clone.common import exception
from cyborg_clone.drivers import gbs
from cyborg_clone.drivers import intel_opae
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import report
from tests.fixtures import fake_tools
from tests.fixtures import opae_host
from tests.fixtures.opae_host import ARRIA10
from tests.fixtures.opae_host import N3000
from tests.fixtures.opae_host import UNBOUND

TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
A10_INTERFACE = '9926ab6d6c925a68aabca7d84c545738'
N3000_INTERFACE = '69528db6eb31577a8c3668f9faa081f6'
NEW_AFU = 'f7df405cbd7acf7222f144b0b93acd18'


def pci_handle(address):
    domain, bus, rest = address.split(':')
    device, function = rest.split('.')
    return report.AttachHandle(attach_type='PCI', attach_info={
        'domain': domain, 'bus': bus, 'device': device,
        'function': function})


def bdf(info):
    return '%(domain)s:%(bus)s:%(device)s.%(function)s' % info


@pytest.fixture
def host(tmp_path):
    return opae_host.build(tmp_path / 'root', tmp_path / 'bin',
                           tmp_path / 'tool-state', 'testhost')


@pytest.fixture
def driver(conf, host):
    host.apply(conf)
    return intel_opae.IntelOPAEDriver(conf)


def discover(driver):
    """``{PF address: deployable}`` of one discovery."""
    return {bdf(d.controlpath.cpid_info): d.deployables[0]
            for d in driver.discover()}


def loud_tool(conf, tmp_path):
    """Point fpgaconf_path at a tool that leaves a mark and fails; returns
    the mark's path."""
    mark = tmp_path / 'loud-tool-ran'
    tool = tmp_path / 'loud-fpgaconf'
    tool.write_text('#!/bin/sh\ntouch %s\necho "must not run" >&2\nexit 99\n'
                    % mark)
    tool.chmod(0o755)
    conf.set_override('fpgaconf_path', str(tool), group='intel_opae')
    return mark


# Discovery.

def test_legacy_layout_arria10_with_vfs(driver):
    device = driver.discover()[0]
    assert device == report.Device(
        type='FPGA', vendor='0x8086', model='Intel PAC Arria 10 GX',
        driver_name='intel_opae',
        controlpath=report.ControlPath(cpid_type='PCI', cpid_info={
            'domain': '0000', 'bus': '5e', 'device': '00',
            'function': '0'}),
        std_board_info={'device_id': '0x09c4', 'class': '0x120000',
                        'numa_node': 0},
        vendor_board_info='fim_bitstream_id=0x123000200000185',
        deployables=(report.Deployable(
            name='testhost_0000:5e:00.0', num_accelerators=3,
            resource_class='FPGA',
            traits=('CUSTOM_FPGA_INTEL', 'CUSTOM_FPGA_INTEL_PAC_ARRIA10',
                    'CUSTOM_FPGA_REGION_INTEL_'
                    '9926AB6D6C925A68AABCA7D84C545738',
                    'CUSTOM_FPGA_FUNCTION_ID_INTEL_'
                    'D8424DC4A4A3C413F89E433683F9040B'),
            bitstream_id=None,
            attach_handles=(pci_handle('0000:5e:00.1'),
                            pci_handle('0000:5e:00.2'),
                            pci_handle('0000:5e:00.3'))),))


def test_dfl_layout_n3000_without_vfs_is_its_own_accelerator(driver):
    device = driver.discover()[1]
    assert (device.model, device.std_board_info) == (
        'Intel FPGA PAC N3000',
        {'device_id': '0x0b30', 'class': '0x120000', 'numa_node': 1})
    assert device.controlpath == report.ControlPath(
        cpid_type='PCI', cpid_info={'domain': '0000', 'bus': 'af',
                                    'device': '00', 'function': '0'})
    assert device.deployables == (report.Deployable(
        name='testhost_0000:af:00.0', num_accelerators=1,
        resource_class='FPGA',
        traits=('CUSTOM_FPGA_INTEL', 'CUSTOM_FPGA_INTEL_PAC_N3000',
                'CUSTOM_FPGA_REGION_INTEL_69528DB6EB31577A8C3668F9FAA081F6',
                'CUSTOM_FPGA_FUNCTION_ID_INTEL_'
                '9AEFFE5F84570612C000C9660D824272'),
        attach_handles=(pci_handle('0000:af:00.0'),)),)


def test_only_bound_pacs_are_cards(driver, host, caplog):
    """The NIC, the VFs and the card without a driver are not reported;
    the unbound PAC is warned about once, not every report."""
    caplog.set_level(logging.WARNING)
    for _ in range(2):
        devices = driver.discover()
    assert [bdf(d.controlpath.cpid_info) for d in devices] == [
        '0000:5e:00.0', '0000:af:00.0']
    handles = {bdf(h.attach_info) for d in devices
               for h in d.deployables[0].attach_handles}
    assert not handles & {host.nic, UNBOUND.pf}
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert warnings == ['Intel PAC Arria 10 GX 0000:d8:00.0 has no OPAE FME '
                        'in sysfs (kernel driver: none); leaving it out of '
                        'the report.']


def test_every_trait_is_a_valid_custom_trait(driver):
    traits = [t for d in driver.discover() for t in d.deployables[0].traits]
    assert len(traits) == 8
    assert all(TRAIT.match(t) for t in traits), traits


def test_afu_id_with_dashes_is_normalised(driver, host):
    host.set_afu_id(ARRIA10, 'F7DF405C-BD7A-CF72-22F1-44B0B93ACD18')
    traits = discover(driver)[ARRIA10.pf].traits
    assert traits[-1] == ('CUSTOM_FPGA_FUNCTION_ID_INTEL_'
                          'F7DF405CBD7ACF7222F144B0B93ACD18')


def test_a_vf_with_its_own_fpga_device_is_no_card(driver, host):
    """The legacy driver gives a VF bound to it an fpga device holding
    only a port: part of its PF's card, not a card."""
    vf = host.tree.device_dir(ARRIA10.vfs[0])
    dev = os.path.join(vf, 'fpga', 'intel-fpga-dev.1')
    host.tree.write(os.path.join(dev, 'intel-fpga-port.1'), 'afu_id',
                    NEW_AFU)
    host.tree.link(dev, 'sys', 'class', 'fpga', 'intel-fpga-dev.1')
    assert list(discover(driver)) == [ARRIA10.pf, N3000.pf]


def test_a_port_invisible_to_the_host_reports_no_function(driver, host,
                                                          tmp_path):
    shutil.rmtree(os.path.dirname(host.afu_id_path(N3000)))
    deployable = discover(driver)[N3000.pf]
    assert not [t for t in deployable.traits if 'FUNCTION_ID' in t]
    image = tmp_path / 'n3000.gbs'
    host.gbs_for(N3000, image)
    with pytest.raises(exception.DriverError, match='no accelerator port'):
        driver.program(deployable.name, str(image))
    assert host.calls() == []


def test_host_without_pacs_reports_nothing(conf, tmp_path):
    conf.set_override('sysfs_root', str(tmp_path / 'empty'), group='agent')
    conf.set_override('fpgaconf_path', str(tmp_path / 'none'),
                      group='intel_opae')
    assert intel_opae.IntelOPAEDriver(conf).discover() == []


def test_report_survives_the_rpc_round_trip(driver):
    devices = driver.discover()
    assert report.from_primitive(report.to_primitive(devices)) == devices


# Programming.

@pytest.mark.parametrize('card, bus', [(ARRIA10, '0x5e'), (N3000, '0xaf')])
def test_program_loads_verifies_and_reports_the_image(driver, host,
                                                      tmp_path, card, bus):
    image = str(tmp_path / 'nlb3.gbs')
    host.gbs_for(card, image, afu_id=NEW_AFU, name='nlb_mode_3')
    name = host.deployable_name(card)

    assert driver.program(name, image) == NEW_AFU

    assert host.afu_id(card) == NEW_AFU
    assert host.calls() == [['fpgaconf', '-B', bus, '-D', '0x00',
                             '-F', '0x0', image]]
    deployable = discover(driver)[card.pf]
    assert deployable.bitstream_id == 'nlb3.gbs'
    assert deployable.traits[-1] == ('CUSTOM_FPGA_FUNCTION_ID_INTEL_'
                                     'F7DF405CBD7ACF7222F144B0B93ACD18')
    assert len([t for t in deployable.traits if 'FUNCTION_ID' in t]) == 1


def test_fpgaconf_gets_a_segment_only_for_a_non_zero_domain(driver):
    pf = pci.PciFunction(address='0001:3d:00.0', vendor='0x8086',
                         device='0x0b30', path='/nowhere')
    assert driver._fpgaconf_argv(pf, '/images/x.gbs')[1:] == [
        '--segment', '0x0001', '-B', '0x3d', '-D', '0x00', '-F', '0x0',
        '/images/x.gbs']


def test_bitstream_id_only_while_the_port_runs_that_afu(driver, host,
                                                        tmp_path):
    image = str(tmp_path / 'nlb3.gbs')
    host.gbs_for(ARRIA10, image, afu_id=NEW_AFU)
    driver.program(host.deployable_name(ARRIA10), image)
    host.set_afu_id(ARRIA10, ARRIA10.afu_id)
    assert discover(driver)[ARRIA10.pf].bitstream_id is None


def test_program_uses_the_program_timeout(driver, host, conf, tmp_path,
                                          monkeypatch):
    conf.set_override('program_timeout', 7, group='intel_opae')
    timeouts = []
    real_run = intel_opae.tools.run

    def run(name, argv, timeout):
        timeouts.append(timeout)
        return real_run(name, argv, timeout)
    monkeypatch.setattr(intel_opae.tools, 'run', run)
    image = str(tmp_path / 'a.gbs')
    host.gbs_for(N3000, image)
    driver.program(host.deployable_name(N3000), image)
    assert timeouts == [7]


def test_incompatible_image_is_refused_before_the_tool_runs(driver, host,
                                                            conf, tmp_path):
    mark = loud_tool(conf, tmp_path)
    image = str(tmp_path / 'for-n3000.gbs')
    host.gbs_for(N3000, image)
    with pytest.raises(exception.DriverError) as raised:
        driver.program(host.deployable_name(ARRIA10), image)
    message = str(raised.value)
    assert N3000_INTERFACE in message and A10_INTERFACE in message
    assert not mark.exists()
    assert host.afu_id(ARRIA10) == ARRIA10.afu_id


def _metadata(**image):
    metadata = opae_host.gbs_metadata(A10_INTERFACE, NEW_AFU)
    metadata['afu-image'].update(image)
    return metadata


GUID = opae_host.GBS_GUID
NOT_GBS = {
    'text': b'this is not a bitstream at all',
    'empty': b'',
    'xclbin': b'xclbin2\0' + b'\0' * 600,
    'guid only': GUID,
    'metadata past the end': GUID + b'\xff\x00\x00\x00{}',
    'not json': opae_host.pack_gbs(b'{"version": 1,'),
    'not an object': opae_host.pack_gbs(b'[1]'),
    'version 2': opae_host.pack_gbs(dict(_metadata(), version=2)),
    'no afu-image': opae_host.pack_gbs({'version': 1}),
    'bad magic-no': opae_host.pack_gbs(_metadata(**{'magic-no': 1})),
    'bad interface': opae_host.pack_gbs(
        _metadata(**{'interface-uuid': 'nope'})),
    'no clusters': opae_host.pack_gbs(
        _metadata(**{'accelerator-clusters': []})),
    'no afu id': opae_host.pack_gbs(
        _metadata(**{'accelerator-clusters': [{'name': 'x'}]})),
    'no bitstream': opae_host.pack_gbs(_metadata(), bitstream=b''),
}


@pytest.mark.parametrize('content', NOT_GBS.values(), ids=list(NOT_GBS))
def test_not_a_gbs_is_refused_before_the_tool_runs(driver, host, conf,
                                                   tmp_path, content):
    mark = loud_tool(conf, tmp_path)
    image = tmp_path / 'upload.gbs'
    image.write_bytes(content)
    with pytest.raises(exception.DriverError, match='upload.gbs'):
        driver.program(host.deployable_name(ARRIA10), str(image))
    assert not mark.exists()


def test_missing_image_file(driver, host, tmp_path):
    with pytest.raises(exception.DriverError, match='cannot read'):
        driver.program(host.deployable_name(ARRIA10),
                       str(tmp_path / 'gone.gbs'))


def test_tool_failure_carries_its_stderr(driver, host, tmp_path):
    # fpgaconf looking at another sysfs finds no card there.
    fake_tools.install(tmp_path / 'bin', 'fpgaconf', 'fpgaconf.py',
                       sysfs_root=tmp_path / 'elsewhere',
                       state=host.state_dir)
    image = str(tmp_path / 'a.gbs')
    host.gbs_for(ARRIA10, image)
    with pytest.raises(exception.DriverError) as raised:
        driver.program(host.deployable_name(ARRIA10), image)
    assert 'exited with status 4: No suitable slots found.' in str(
        raised.value)
    assert host.afu_id(ARRIA10) == ARRIA10.afu_id


def test_busy_port_fails_and_records_nothing(driver, host, tmp_path):
    image = str(tmp_path / 'a.gbs')
    afu = host.gbs_for(ARRIA10, image)
    name = host.deployable_name(ARRIA10)
    host.hold_port(ARRIA10)
    with pytest.raises(exception.DriverError,
                       match='status 5: Error writing bitstream to FPGA: '
                             'resource busy'):
        driver.program(name, image)
    assert host.afu_id(ARRIA10) == ARRIA10.afu_id
    assert driver.loaded.entry(name) is None

    host.release_port(ARRIA10)
    assert driver.program(name, image) == afu


def test_a_load_the_port_does_not_show_is_an_error(driver, host, conf,
                                                   tmp_path):
    tool = tmp_path / 'quiet-fpgaconf'
    tool.write_text('#!/bin/sh\nexit 0\n')
    tool.chmod(0o755)
    conf.set_override('fpgaconf_path', str(tool), group='intel_opae')
    image = str(tmp_path / 'a.gbs')
    afu = host.gbs_for(N3000, image)
    name = host.deployable_name(N3000)
    with pytest.raises(exception.DriverError) as raised:
        driver.program(name, image)
    assert afu in str(raised.value) and N3000.afu_id in str(raised.value)
    assert driver.loaded.entry(name) is None


@pytest.mark.parametrize('name', [
    'testhost_0000:d8:00.0',      # the PAC without a driver
    'testhost_0000:18:00.0',      # the NIC
    'testhost_0000:5e:00.1',      # a VF
    'otherhost_0000:5e:00.0',
])
def test_unknown_deployable(driver, host, tmp_path, name):
    image = str(tmp_path / 'a.gbs')
    host.gbs_for(ARRIA10, image)
    with pytest.raises(exception.DriverError,
                       match='no deployable named %s' % name):
        driver.program(name, image)
    assert host.calls() == []


def test_missing_tool(driver, host, conf, tmp_path):
    conf.set_override('fpgaconf_path', str(tmp_path / 'no-fpgaconf'),
                      group='intel_opae')
    image = str(tmp_path / 'a.gbs')
    host.gbs_for(ARRIA10, image)
    with pytest.raises(exception.DriverError, match='cannot run .*'
                                                    'no-fpgaconf'):
        driver.program(host.deployable_name(ARRIA10), image)


# The fake fpgaconf fails the way the real one does.

def fpgaconf(host, *args):
    return subprocess.run([host[('intel_opae', 'fpgaconf_path')], *args],
                          capture_output=True, text=True, timeout=30)


def test_fake_fpgaconf_mismatch_is_no_suitable_slot(host, tmp_path):
    image = str(tmp_path / 'for-n3000.gbs')
    host.gbs_for(N3000, image)
    done = fpgaconf(host, '-V', '--bus', '0x5e', image)
    assert (done.returncode, done.stderr) == (4, 'No suitable slots found.\n')
    assert ('Expected Interface id:  9926ab6d-6c92-5a68-aabc-a7d84c545738'
            in done.stdout)
    assert ('Actual Interface id:    69528db6-eb31-577a-8c36-68f9faa081f6'
            in done.stdout)


def test_fake_fpgaconf_finds_the_card_by_interface_and_dry_runs(host,
                                                                tmp_path):
    image = str(tmp_path / 'a.gbs')
    afu = host.gbs_for(N3000, image)
    done = fpgaconf(host, '-n', image)
    assert (done.returncode, done.stdout) == (0, '--dry-run is set\n')
    assert host.afu_id(N3000) == N3000.afu_id
    assert fpgaconf(host, image).returncode == 0
    assert host.afu_id(N3000) == afu


def test_fake_fpgaconf_rejects_a_non_gbs(host, tmp_path):
    image = tmp_path / 'x.gbs'
    image.write_bytes(b'\0' * 64)
    done = fpgaconf(host, '-B', '0x5e', str(image))
    assert done.returncode == 2
    assert 'GBS guid is invalid' in done.stderr


# The GBS header.

def test_gbs_guid_is_stored_in_uuid_parse_byte_order():
    assert gbs.MAGIC == b'XeonFPGA\xb7GBSv001' == opae_host.GBS_GUID


def test_gbs_header_fields(tmp_path):
    path = opae_host.make_gbs(
        tmp_path / 'a.gbs', '9926AB6D-6C92-5A68-AABC-A7D84C545738', NEW_AFU,
        name='nlb_mode_3', platform='DCP')
    assert gbs.read_header(path) == gbs.Header(
        interface_id=A10_INTERFACE, afu_id=NEW_AFU, afu_name='nlb_mode_3',
        platform_name='DCP', bitstream_length=256)


@pytest.mark.parametrize('text', [
    'f7df405c-bd7a-cf72-22f1-44b0b93acd18',
    'F7DF405CBD7ACF7222F144B0B93ACD18', ' f7df405cbd7acf7222f144b0b93acd18\n'])
def test_normalise_uuid(text):
    assert gbs.normalise_uuid(text) == NEW_AFU


@pytest.mark.parametrize('text', ['', 'f7df405c', None, 42])
def test_normalise_uuid_refuses_non_ids(text):
    with pytest.raises(ValueError):
        gbs.normalise_uuid(text)
