"""The build log: its lines and the tar it is uploaded as."""

import datetime
import tarfile

from cyborg_clone.conductor import build_log

IMAGE = '4010a32c5c62bad9015c62dc2290002b'


def fixed_clock():
    return datetime.datetime(2024, 5, 6, 7, 8, 9,
                             tzinfo=datetime.timezone.utc)


def test_lines_carry_utc_time_level_and_formatted_text():
    log = build_log.BuildLog(clock=fixed_clock)
    log.info('Fetched %s (%d bytes).', 'bucket:dcp.tar', 10240)
    log.error('100% of nothing')  # no args: taken as is, like logging

    assert log.text == ('2024-05-06T07:08:09Z INFO Fetched bucket:dcp.tar '
                        '(10240 bytes).\n'
                        '2024-05-06T07:08:09Z ERROR 100% of nothing\n')


def test_every_line_of_a_multi_line_entry_is_prefixed():
    log = build_log.BuildLog(clock=fixed_clock)
    log.info('Toolchain stderr:\n%s', 'line one\nline two\n')

    assert log.text.splitlines() == [
        '2024-05-06T07:08:09Z INFO Toolchain stderr:',
        '2024-05-06T07:08:09Z INFO line one',
        '2024-05-06T07:08:09Z INFO line two']


def test_write_tar_writes_a_real_tar_holding_the_log(tmp_path):
    log = build_log.BuildLog()
    log.info('Build of FPGA image %s.', IMAGE)
    log.error('DCP_NOT_FOUND: no .dcp file')
    path = tmp_path / ('%s_log.tar' % IMAGE)

    log.write_tar(str(path), IMAGE)

    assert tarfile.is_tarfile(path)
    with tarfile.open(path) as tar:
        [member] = tar.getmembers()
        assert member.name == '%s_build.log' % IMAGE
        assert member.isfile()
        text = tar.extractfile(member).read().decode('utf-8')
    assert text == log.text
    assert 'DCP_NOT_FOUND: no .dcp file' in text
