"""The DCP manifest rules: Huawei's manifest.json, F1's manifest.txt."""

import json

import pytest

from cyborg_clone.conductor import dcp_manifest
from tests.fixtures.dcp import MISSING
from tests.fixtures.dcp import f1_manifest_bytes
from tests.fixtures.dcp import f1_manifest_for
from tests.fixtures.dcp import fp1_kit_manifest_for
from tests.fixtures.dcp import manifest_for

JSON = dcp_manifest.MANIFEST_JSON
TXT = dcp_manifest.MANIFEST_TXT


def parse_json(manifest):
    return dcp_manifest.parse(json.dumps(manifest).encode(), JSON)


def parse_txt(manifest, **kwargs):
    return dcp_manifest.parse(f1_manifest_bytes(manifest, **kwargs), TXT)


def fails(code, parse, *args):
    with pytest.raises(dcp_manifest.DCPError) as caught:
        parse(*args)
    assert caught.value.code == code
    return caught.value.message


@pytest.mark.parametrize('name, manifest_format', [
    ('manifest.json', JSON), ('manifest.txt', TXT),
    ('18_09_13-104247.manifest.txt', TXT), ('.manifest.txt', None),
    ('Manifest.json', None), ('manifest.txt.bak', None),
    ('manifest.JSON', None), ('design.dcp', None)])
def test_manifest_file_names(name, manifest_format):
    assert dcp_manifest.format_of(name) == manifest_format


def test_the_fp1_kits_dash_subsystem_ids_mean_not_set():
    manifest = parse_json(fp1_kit_manifest_for())

    assert 'pci_subsystem_id' not in manifest
    assert 'pci_subsystem_vendor_id' not in manifest
    assert manifest['pci_device_id'] == '0xD503'


@pytest.mark.parametrize('changes', [
    {'pci_subsystem_id': '-'}, {'pci_subsystem_vendor_id': '-'},
    {'pci_subsystem_id': None, 'pci_subsystem_vendor_id': '-'},
    {'pci_subsystem_id': MISSING, 'pci_subsystem_vendor_id': MISSING}],
    ids=['id-dash', 'vendor-dash', 'null-and-dash', 'absent'])
def test_every_way_of_not_setting_a_subsystem_id_leaves_it_out(changes):
    manifest = parse_json(manifest_for(**changes))
    for key in changes:
        assert key not in manifest
    for key in set(dcp_manifest.SUBSYSTEM_ID_KEYS) - set(changes):
        assert manifest[key] == '0x0000'


@pytest.mark.parametrize('key', ['pci_vendor_id', 'pci_device_id'])
def test_a_dash_is_no_vendor_or_device_id(key):
    message = fails('PCIID_SYNTAX_INVALID', parse_json,
                    manifest_for(**{key: '-'}))
    assert message.startswith("%s '-' is not 0x followed by 4 hex digits"
                              % key)
    assert 'only the subsystem ids may be "-"' in message


@pytest.mark.parametrize('value', [
    '--', ' - ', '-0x1', '0x0', '0x12345', '0xg000', '', 'none', 0],
    ids=repr)
@pytest.mark.parametrize('key', dcp_manifest.SUBSYSTEM_ID_KEYS)
def test_malformed_subsystem_ids_are_still_refused(key, value):
    message = fails('PCIID_SYNTAX_INVALID', parse_json,
                    manifest_for(**{key: value}))
    assert message.startswith('%s %r' % (key, value))


def test_an_f1_manifest_txt_is_read_as_vu9p_with_its_own_keys():
    manifest = parse_txt(f1_manifest_for())

    assert manifest == dict(f1_manifest_for(), fpga_chip='vu9p')
    assert dcp_manifest.expected_sha256(manifest, TXT) == (
        f1_manifest_for()['dcp_hash'])


def test_manifest_txt_layout_is_lenient_where_writers_differ():
    # CRLF line ends, a UTF-8 BOM, spaces around "=", a value holding "=".
    raw = ('\ufeffmanifest_format_version = 2\r\n'
           'pci_vendor_id=0x1D0F\r\npci_device_id= 0xF000 \r\n\r\n'
           'date=18_09_13-104247\r\nnote=a=b\r\n').encode()
    manifest = dcp_manifest.parse(raw, TXT)
    assert manifest['pci_device_id'] == '0xF000'
    assert manifest['note'] == 'a=b'
    # No blank lines at all, as the HDK's shell script writes it.
    assert parse_txt(f1_manifest_for(), blank_lines=False)['fpga_chip'] == (
        'vu9p')


@pytest.mark.parametrize('chip, code', [
    ('xcvu9p-flgb2104-2-i', None), ('vu13p', 'UNSUPPORTED_CHIP')])
def test_a_chip_named_in_manifest_txt_is_checked(chip, code):
    manifest = f1_manifest_for(fpga_chip=chip)
    if code is None:
        assert parse_txt(manifest)['fpga_chip'] == chip
    else:
        fails(code, parse_txt, manifest)


def test_manifest_txt_subsystem_ids_follow_the_same_rules():
    manifest = parse_txt(f1_manifest_for(pci_subsystem_id='-'))
    assert 'pci_subsystem_id' not in manifest
    fails('PCIID_SYNTAX_INVALID', parse_txt,
          f1_manifest_for(pci_subsystem_vendor_id='0xFED'))
    fails('PCIID_SYNTAX_INVALID', parse_txt,
          f1_manifest_for(pci_vendor_id='1D0F'))
    fails('PCIID_SYNTAX_INVALID', parse_txt, f1_manifest_for(pci_device_id=''))


@pytest.mark.parametrize('raw, says', [
    (b'manifest_format_version=2\npci_vendor_id 0x1D0F\n',
     "manifest.txt line 2 is not key=value with a key of letters, digits "
     "and _: 'pci_vendor_id 0x1D0F'"),
    (b'manifest_format_version=2\n=0x1D0F\n', 'line 2 is not key=value'),
    (b'manifest_format_version=2\npci vendor id=0x1D0F\n',
     'line 2 is not key=value'),
    (b'manifest_format_version=2\n\ndcp_hash=a\ndcp_hash=b\n',
     'manifest.txt line 4 sets dcp_hash a second time'),
    (b'pci_vendor_id=0x1D0F\npci_device_id=0xF000\n',
     'manifest.txt lacks manifest_format_version=2'),
    (b'manifest_format_version=1\npci_vendor_id=0x1D0F\n',
     "manifest.txt has manifest_format_version '1'; only 2 is supported"),
    (b'manifest_format_version=2\npci_vendor_id=0x\xff\n',
     'manifest.txt is not UTF-8 text'),
    (b'{"manifest_format_version": "2"}', 'line 1 is not key=value'),
    (b'', 'manifest.txt lacks manifest_format_version=2'),
], ids=['no-equals', 'no-key', 'key-with-spaces', 'repeated-key',
        'no-version', 'version-1', 'not-utf8', 'json-in-txt', 'empty'])
def test_manifest_txt_parse_errors_say_what_and_where(raw, says):
    message = fails('MANIFEST_PARSE_FAILED', dcp_manifest.parse, raw, TXT)
    assert says in message


@pytest.mark.parametrize('key', ['pci_vendor_id', 'pci_device_id'])
def test_manifest_txt_needs_the_pci_ids(key):
    message = fails('MANIFEST_PARSE_FAILED', parse_txt,
                    f1_manifest_for(**{key: MISSING}))
    assert message == 'manifest.txt lacks required keys: %s' % key


@pytest.mark.parametrize('name', [3, '', ['a.dcp']], ids=repr)
def test_dcp_file_name_must_be_a_file_name(name):
    message = fails('MANIFEST_PARSE_FAILED', parse_json,
                    manifest_for(dcp_file_name=name))
    assert message == 'manifest.json dcp_file_name %r is not a file name' % (
        name,)


@pytest.mark.parametrize('manifest_format, manifest, key', [
    (TXT, f1_manifest_for(dcp_hash=MISSING), 'dcp_hash'),
    (TXT, f1_manifest_for(dcp_hash='abc'), 'dcp_hash'),
    # Each format has its own key: a dcp_sha256 line is not F1's hash.
    (TXT, f1_manifest_for(dcp_hash=MISSING, dcp_sha256='a' * 64),
     'dcp_hash'),
    (JSON, manifest_for(dcp_sha256=MISSING, dcp_hash='a' * 64),
     'dcp_sha256')], ids=['txt-none', 'txt-short', 'txt-other-key',
                          'json-other-key'])
def test_a_manifest_without_its_hash_leaves_the_dcp_unverified(
        manifest_format, manifest, key):
    parse = parse_txt if manifest_format == TXT else parse_json
    message = fails('DCP_INTEGRITY_UNVERIFIED', dcp_manifest.expected_sha256,
                    parse(manifest), manifest_format)
    assert message == ('the %s has no %s of 64 hex digits to check the DCP '
                       'with' % (manifest_format, key))


def test_the_hash_is_compared_in_lowercase():
    manifest = parse_txt(f1_manifest_for(dcp_hash='AB' * 32))
    assert dcp_manifest.expected_sha256(manifest, TXT) == 'ab' * 32
