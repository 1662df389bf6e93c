"""Checking and extracting DCP tarballs: every reason code, every attack."""

import dataclasses
import hashlib
import json
import os
import tarfile

import pytest

from cyborg_clone.conductor import dcp_archive
from tests.fixtures import dcp as fixtures
from tests.fixtures.dcp import MISSING
from tests.fixtures.dcp import make_dcp_tarball
from tests.fixtures.dcp import manifest_for

MIB = 1024 * 1024
LIMITS = dcp_archive.Limits(max_tarball_bytes=10 * MIB, max_members=16,
                            max_extracted_bytes=10 * MIB)
RANDOM_DCP = os.urandom(256 * 1024)


@pytest.fixture
def tarball(tmp_path):
    (tmp_path / 'in').mkdir()
    return tmp_path / 'in' / 'dcp.tar'


@pytest.fixture
def work_dir(tmp_path):
    return tmp_path / 'work'


def check(tarball, work_dir, limits=LIMITS):
    return dcp_archive.check_and_extract(str(tarball), str(work_dir), limits)


def tree(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob('*'))


@pytest.mark.parametrize('layout', [
    {}, {'compression': 'gz'}, {'directory': 'dcp'}, {'directory': '.'},
    {'directory': 'dcp', 'compression': 'gz'}],
    ids=['flat', 'gzip', 'one-directory', 'dot-slash', 'gzip-directory'])
def test_valid_tarball_passes_and_only_the_design_is_extracted(
        tarball, work_dir, layout):
    # Deeper members are fine, and ignored.
    docs = os.path.join(layout.get('directory', ''), 'docs', 'readme.txt')
    make_dcp_tarball(tarball, extra_members=[(docs, b'hi')], **layout)

    checked = check(tarball, work_dir)

    assert checked.manifest == manifest_for()
    assert checked.dcp_sha256 == hashlib.sha256(fixtures.DCP_BYTES).hexdigest()
    assert checked.size == os.path.getsize(tarball)
    assert checked.dcp_member.endswith(fixtures.DCP_NAME)
    assert tree(work_dir) == ['design.dcp', 'manifest.json']
    with open(checked.dcp_path, 'rb') as dcp:
        assert dcp.read() == fixtures.DCP_BYTES
    with open(checked.manifest_path) as manifest:
        assert json.load(manifest) == manifest_for()
    assert os.path.dirname(checked.dcp_path) == os.path.realpath(work_dir)


@pytest.mark.parametrize('chip', ['vu9p', 'VU9P', 'xcvu9p',
                                  'XCVU9P-FLGB2104-2-I'])
def test_vu9p_class_chip_names_are_accepted(tarball, work_dir, chip):
    make_dcp_tarball(tarball, manifest=manifest_for(fpga_chip=chip))
    assert check(tarball, work_dir).manifest['fpga_chip'] == chip


def test_subsystem_ids_are_optional(tarball, work_dir):
    make_dcp_tarball(tarball, manifest=manifest_for(
        pci_subsystem_id=MISSING, pci_subsystem_vendor_id=None))
    check(tarball, work_dir)


def write(data):
    def build(path):
        path.write_bytes(data)
    return build


def tarball_with(**kwargs):
    def build(path):
        make_dcp_tarball(path, **kwargs)
    return build


def manifest_with(**changes):
    return tarball_with(manifest=manifest_for(**changes))


def txt_bytes(**changes):
    return fixtures.f1_manifest_bytes(fixtures.f1_manifest_for(**changes))


def txt_tarball(**kwargs):
    return tarball_with(manifest_name='manifest.txt', **kwargs)


def txt_with(**changes):
    return txt_tarball(manifest=fixtures.f1_manifest_for(**changes))


def truncated(fraction, **kwargs):
    def build(path):
        # Incompressible, so that the cut falls inside the DCP's data even
        # for gzip (a cut between members looks like a shorter archive).
        make_dcp_tarball(path, dcp_bytes=RANDOM_DCP,
                         manifest=manifest_for(RANDOM_DCP), **kwargs)
        os.truncate(path, int(os.path.getsize(path) * fraction))
    return build


def with_huge_pax_header(path):
    # tarfile reads a pax header whole; this one asks for 2 MiB at once.
    member = tarfile.TarInfo('docs/readme.txt')
    member.pax_headers = {'comment': 'x' * (2 * MIB)}
    make_dcp_tarball(path, extra_members=[(member, b'')])


def case(name, build, code, **limits):
    return pytest.param(build, code, limits, id=name)


JSON_MANIFEST = json.dumps(manifest_for()).encode()
OTHER_SHA256 = hashlib.sha256(b'another design').hexdigest()
BROKEN = [
    case('not-a-tar', write(b'not a tarball\n' * 100), 'CORRUPT_ARCHIVE'),
    case('empty-file', write(b''), 'CORRUPT_ARCHIVE'),
    case('truncated', truncated(0.3), 'CORRUPT_ARCHIVE'),
    case('truncated-gzip', truncated(0.5, compression='gz'),
         'CORRUPT_ARCHIVE'),
    case('bzip2-is-not-accepted', tarball_with(compression='bz2'),
         'CORRUPT_ARCHIVE'),
    case('huge-pax-header', with_huge_pax_header, 'CORRUPT_ARCHIVE'),
    case('tarball-too-big', tarball_with(), 'INPUT_SIZE_ILLEGAL',
         max_tarball_bytes=4096),
    case('member-too-big', tarball_with(), 'INPUT_SIZE_ILLEGAL',
         max_extracted_bytes=2000),
    case('members-together-too-big', tarball_with(
        extra_members=[('docs/a', b'a' * 3000)]), 'INPUT_SIZE_ILLEGAL',
        max_extracted_bytes=5000),
    case('too-many-members', tarball_with(
        extra_members=[('docs/%d' % i, b'') for i in range(15)]),
        'INPUT_SIZE_ILLEGAL'),
    case('manifest-over-1-mib', tarball_with(manifest=b' ' * (MIB + 1)),
         'INPUT_SIZE_ILLEGAL'),
    case('no-manifest', tarball_with(manifest=MISSING),
         'MANIFEST_NOT_FOUND'),
    case('manifest-misnamed', tarball_with(
        manifest=MISSING, extra_members=[('Manifest.json', JSON_MANIFEST)]),
        'MANIFEST_NOT_FOUND'),
    case('manifest-only-deeper', tarball_with(
        manifest=MISSING, extra_members=[('a/manifest.json', JSON_MANIFEST)]),
        'MANIFEST_NOT_FOUND'),
    case('two-leading-directories', tarball_with(directory='dcp/inner'),
         'MANIFEST_NOT_FOUND'),
    case('manifest-not-json', tarball_with(manifest=b'fpga_chip = vu9p'),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-not-utf8', tarball_with(manifest=b'{"a": "\xff"}'),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-deeply-nested', tarball_with(manifest=b'[' * 100000),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-not-an-object', tarball_with(manifest=b'["vu9p"]'),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-without-chip', manifest_with(fpga_chip=MISSING),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-without-vendor', manifest_with(pci_vendor_id=MISSING),
         'MANIFEST_PARSE_FAILED'),
    case('manifest-without-device', manifest_with(pci_device_id=MISSING),
         'MANIFEST_PARSE_FAILED'),
    case('chip-vu13p', manifest_with(fpga_chip='vu13p'), 'UNSUPPORTED_CHIP'),
    case('chip-ku115', manifest_with(fpga_chip='xcku115'),
         'UNSUPPORTED_CHIP'),
    case('chip-is-the-board', manifest_with(fpga_chip='vu9p_vb'),
         'UNSUPPORTED_CHIP'),
    case('chip-not-a-string', manifest_with(fpga_chip=9), 'UNSUPPORTED_CHIP'),
    case('vendor-without-0x', manifest_with(pci_vendor_id='19e5'),
         'PCIID_SYNTAX_INVALID'),
    case('vendor-3-digits', manifest_with(pci_vendor_id='0x19e'),
         'PCIID_SYNTAX_INVALID'),
    case('device-5-digits', manifest_with(pci_device_id='0xD5030'),
         'PCIID_SYNTAX_INVALID'),
    case('device-not-hex', manifest_with(pci_device_id='0xD50G'),
         'PCIID_SYNTAX_INVALID'),
    case('device-a-number', manifest_with(pci_device_id=0xD503),
         'PCIID_SYNTAX_INVALID'),
    case('subsystem-short', manifest_with(pci_subsystem_id='0x0'),
         'PCIID_SYNTAX_INVALID'),
    case('subsystem-vendor-empty', manifest_with(pci_subsystem_vendor_id=''),
         'PCIID_SYNTAX_INVALID'),
    case('no-dcp', tarball_with(dcp_bytes=MISSING), 'DCP_NOT_FOUND'),
    case('two-dcps', tarball_with(extra_members=[('other.DCP', b'x')]),
         'DCP_NOT_FOUND'),
    case('dcp-only-deeper', tarball_with(dcp_bytes=MISSING, extra_members=[
        ('sub/design.dcp', fixtures.DCP_BYTES)]), 'DCP_NOT_FOUND'),
    case('no-dcp-sha256', manifest_with(dcp_sha256=MISSING),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('dcp-sha256-null', manifest_with(dcp_sha256=None),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('dcp-sha256-not-hex', manifest_with(dcp_sha256='abc'),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('dcp-sha256-mismatch', manifest_with(dcp_sha256=OTHER_SHA256),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('fp1-kit-dash-vendor', manifest_with(pci_vendor_id='-'),
         'PCIID_SYNTAX_INVALID'),
    case('fp1-kit-dash-then-junk', manifest_with(pci_subsystem_id='-x'),
         'PCIID_SYNTAX_INVALID'),
    case('txt-not-key-value', txt_tarball(manifest=b'manifest_format_'
                                          b'version=2\npci_vendor_id\n'),
         'MANIFEST_PARSE_FAILED'),
    case('txt-version-1', txt_with(manifest_format_version='1'),
         'MANIFEST_PARSE_FAILED'),
    case('txt-without-device', txt_with(pci_device_id=MISSING),
         'MANIFEST_PARSE_FAILED'),
    case('txt-chip-vu13p', txt_with(fpga_chip='vu13p'), 'UNSUPPORTED_CHIP'),
    case('txt-bad-subsystem', txt_with(pci_subsystem_id='0x1D5'),
         'PCIID_SYNTAX_INVALID'),
    case('txt-over-1-mib', txt_tarball(manifest=b'#' * (MIB + 1)),
         'INPUT_SIZE_ILLEGAL'),
    case('txt-no-dcp-hash', txt_with(dcp_hash=MISSING),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('txt-dcp-hash-mismatch', txt_with(dcp_hash=OTHER_SHA256),
         'DCP_INTEGRITY_UNVERIFIED'),
    case('txt-names-a-missing-dcp', txt_with(dcp_file_name='other.dcp'),
         'DCP_NOT_FOUND'),
    case('txt-names-a-deeper-dcp', txt_tarball(
        manifest=txt_bytes(dcp_file_name='sub/' + fixtures.F1_DCP_NAME),
        extra_members=[('sub/' + fixtures.F1_DCP_NAME, fixtures.DCP_BYTES)]),
        'DCP_NOT_FOUND'),
    case('txt-names-itself', txt_with(dcp_file_name='manifest.txt'),
         'DCP_NOT_FOUND'),
    case('txt-two-dcps-none-named', txt_tarball(
        manifest=txt_bytes(dcp_file_name=MISSING),
        extra_members=[('b.dcp', b'b')]), 'DCP_NOT_FOUND'),
    case('two-timestamped-manifests', tarball_with(
        manifest=MISSING, extra_members=[
            ('a.manifest.txt', txt_bytes()), ('b.manifest.txt', txt_bytes())]),
        'MANIFEST_NOT_FOUND'),
]


@pytest.mark.parametrize('build, code, limits', BROKEN)
def test_broken_input_fails_with_its_reason_and_leaves_nothing(
        tarball, work_dir, build, code, limits):
    build(tarball)

    with pytest.raises(dcp_archive.DCPError) as caught:
        check(tarball, work_dir, dataclasses.replace(LIMITS, **limits))

    assert caught.value.code == code
    assert str(caught.value).startswith(code + ': ')
    assert tree(work_dir) == []


def test_every_reason_code_has_a_broken_input():
    assert {param.values[1] for param in BROKEN} == {
        'CORRUPT_ARCHIVE', 'INPUT_SIZE_ILLEGAL', 'MANIFEST_NOT_FOUND',
        'MANIFEST_PARSE_FAILED', 'UNSUPPORTED_CHIP', 'PCIID_SYNTAX_INVALID',
        'DCP_NOT_FOUND', 'DCP_INTEGRITY_UNVERIFIED'}


def assert_rejected_before_writing(tarball, work_dir, code, limits=LIMITS):
    """Header-level rejection: nothing new anywhere, not even work_dir."""
    root = work_dir.parent
    before = tree(root)
    with pytest.raises(dcp_archive.DCPError) as caught:
        check(tarball, work_dir, limits)
    assert caught.value.code == code
    assert tree(root) == before
    assert not work_dir.exists()


@pytest.mark.parametrize('kind', fixtures.MALICIOUS_KINDS)
def test_malicious_member_is_rejected_before_anything_is_written(
        tarball, work_dir, tmp_path, kind):
    fixtures.make_malicious_tarball(tarball, kind, outside=tmp_path)
    assert_rejected_before_writing(tarball, work_dir, 'CORRUPT_ARCHIVE')


@pytest.mark.parametrize('build, code, limits', [
    case('oversize-member', tarball_with(
        extra_members=[('docs/big', b'x' * 5000)]), 'INPUT_SIZE_ILLEGAL',
        max_extracted_bytes=4096),
    case('too-many-members', tarball_with(
        extra_members=[('docs/%d' % i, b'') for i in range(64)]),
        'INPUT_SIZE_ILLEGAL'),
    case('header-claims-too-much', lambda path: fixtures.make_lying_tarball(
        path, claimed_size=100 * MIB), 'INPUT_SIZE_ILLEGAL'),
    case('header-claims-more-than-there-is',
         lambda path: fixtures.make_lying_tarball(path, claimed_size=4096),
         'CORRUPT_ARCHIVE'),
])
def test_size_attack_is_rejected_before_anything_is_written(
        tarball, work_dir, build, code, limits):
    build(tarball)
    assert_rejected_before_writing(tarball, work_dir, code,
                                   dataclasses.replace(LIMITS, **limits))


def test_refuses_to_write_through_a_link_planted_in_the_work_dir(
        tarball, work_dir, tmp_path):
    make_dcp_tarball(tarball)
    victim = tmp_path / 'victim'
    victim.write_bytes(b'precious')
    work_dir.mkdir()
    (work_dir / 'design.dcp').symlink_to(victim)

    with pytest.raises(ValueError):
        check(tarball, work_dir)

    assert victim.read_bytes() == b'precious'


def test_limits_come_from_the_fpga_image_options(conf):
    conf.set_override('max_dcp_tarball_mb', 3, group='fpga_image')
    conf.set_override('max_members', 5, group='fpga_image')
    conf.set_override('max_extracted_mb', 7, group='fpga_image')

    assert dcp_archive.Limits.from_conf(conf) == dcp_archive.Limits(
        max_tarball_bytes=3 * MIB, max_members=5,
        max_extracted_bytes=7 * MIB)


def test_error_prints_as_code_then_message():
    error = dcp_archive.DCPError('DCP_NOT_FOUND', 'no .dcp file')
    assert (error.code, error.message) == ('DCP_NOT_FOUND', 'no .dcp file')
    assert str(error) == 'DCP_NOT_FOUND: no .dcp file'


def test_a_real_fp1_kits_manifest_json_with_dashes_passes(tarball, work_dir):
    kit_manifest = fixtures.fp1_kit_manifest_for()
    make_dcp_tarball(tarball, manifest=kit_manifest)

    checked = check(tarball, work_dir)

    assert checked.manifest == {
        key: value for key, value in kit_manifest.items()
        if key not in ('pci_subsystem_id', 'pci_subsystem_vendor_id')}
    # The tenant's file is kept as written, for the vendor toolchain.
    with open(checked.manifest_path) as manifest:
        assert json.load(manifest) == kit_manifest


@pytest.mark.parametrize('layout', [
    {'manifest_name': 'manifest.txt'},
    {'manifest_name': 'manifest.txt', 'compression': 'gz'},
    # As the HDK's build script packs it: to_aws/<timestamp>.* files.
    {'manifest_name': '18_09_13-104247.manifest.txt', 'directory': 'to_aws'},
], ids=['flat', 'gzip', 'hdk-to_aws'])
def test_an_f1_manifest_txt_passes_as_a_vu9p_design(tarball, work_dir,
                                                    layout):
    make_dcp_tarball(tarball, **layout)

    checked = check(tarball, work_dir)

    assert checked.manifest == dict(fixtures.f1_manifest_for(),
                                    fpga_chip='vu9p')
    assert checked.dcp_member.endswith(fixtures.F1_DCP_NAME)
    assert tree(work_dir) == ['design.dcp', 'manifest.txt']
    with open(checked.manifest_path, 'rb') as manifest:
        assert manifest.read() == txt_bytes()
    with open(checked.dcp_path, 'rb') as dcp:
        assert dcp.read() == fixtures.DCP_BYTES


@pytest.mark.parametrize('manifest_name', ['manifest.txt', 'manifest.json'])
def test_dcp_file_name_picks_the_design_among_several(tarball, work_dir,
                                                      manifest_name):
    chosen = b'the design to build\n' * 32
    manifest = (fixtures.f1_manifest_for(chosen, dcp_name='b.dcp')
                if manifest_name.endswith('.txt')
                else manifest_for(chosen, dcp_file_name='b.dcp'))
    make_dcp_tarball(tarball, manifest=manifest, dcp_name='a.dcp',
                     manifest_name=manifest_name, directory='to_aws',
                     extra_members=[('to_aws/b.dcp', chosen),
                                    ('to_aws/c.DCP', b'another')])

    checked = check(tarball, work_dir)

    assert checked.dcp_member == 'to_aws/b.dcp'
    assert checked.dcp_sha256 == hashlib.sha256(chosen).hexdigest()
    with open(checked.dcp_path, 'rb') as dcp:
        assert dcp.read() == chosen


def test_dcp_file_name_naming_a_missing_member_says_what_is_there(
        tarball, work_dir):
    make_dcp_tarball(tarball, manifest=fixtures.f1_manifest_for(
        dcp_name='gone.dcp'), manifest_name='manifest.txt')
    with pytest.raises(dcp_archive.DCPError) as caught:
        check(tarball, work_dir)
    assert caught.value.code == 'DCP_NOT_FOUND'
    assert caught.value.message == (
        "manifest.txt names dcp_file_name 'gone.dcp', which is no .dcp file "
        "beside it; found 1 %s" % fixtures.F1_DCP_NAME)


def test_manifest_json_wins_over_manifest_txt(tarball, work_dir):
    # The manifest.txt would fail the build, so passing proves it unread.
    make_dcp_tarball(tarball, extra_members=[
        ('manifest.txt', b'not key=value at all\nmanifest_format_version=1')])

    checked = check(tarball, work_dir)

    assert checked.manifest == manifest_for()
    assert tree(work_dir) == ['design.dcp', 'manifest.json']


def test_manifest_txt_wins_over_a_timestamped_one(tarball, work_dir):
    make_dcp_tarball(tarball, manifest_name='manifest.txt', extra_members=[
        ('18_09_13-104247.manifest.txt', b'manifest_format_version=1\n')])
    assert check(tarball, work_dir).manifest['manifest_format_version'] == '2'


def test_several_timestamped_manifests_are_named_in_the_error(tarball,
                                                              work_dir):
    make_dcp_tarball(tarball, manifest=MISSING, extra_members=[
        ('b.manifest.txt', txt_bytes()), ('a.manifest.txt', txt_bytes())])
    with pytest.raises(dcp_archive.DCPError) as caught:
        check(tarball, work_dir)
    assert caught.value.message == (
        'no manifest.json or manifest.txt at the top of the tarball or of '
        'its one directory; which of a.manifest.txt, b.manifest.txt applies '
        'is unclear')
