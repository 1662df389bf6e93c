"""FPGA image builds end to end: the HTTP API, oslo.messaging RPC (the
in-process transport), a real conductor, the file object store (buckets
under $state_path/buckets) and the file image store."""

import os
import tarfile
import time

import pytest
import sqlalchemy as sa

from cyborg_clone.clients import image_store
from cyborg_clone.conductor import fpga_image_build
from cyborg_clone.db import api as db_api
from cyborg_clone.objects import fpga_image
from tests.fixtures import dcp
from tests.fixtures import s3 as s3_fixture
from tests.fixtures.hardware import report_fake_host
from tests.functional import in_process

MEMBER = {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'member'}
OTHER = {'X-User-Id': 'u2', 'X-Project-Id': 'p2', 'X-Roles': 'member'}
BUCKET = 'obs-fpga'
IMAGES = '/v1/p1/cloudservers/fpga_image'


@pytest.fixture
def bucket(conf):
    path = os.path.join(conf.object_store.file_root, BUCKET)
    os.makedirs(os.path.join(path, 'vu9p'))
    return path


@pytest.fixture
def cloud(conf, bucket):
    with in_process.cloud(conf) as (api, _agent):
        yield api


def create(api, key='vu9p/dcp.tar', headers=MEMBER, project='p1',
           log_directory='vu9p/log'):
    response = api.post('/v2/%s/cloudservers/fpga_image' % project, {
        'fpga_image': {'dcp_location': '%s:%s' % (BUCKET, key),
                       'log_directory': log_directory, 'name': 'img'}},
        headers=headers, status=200)
    return response.json['fpga_image']['id']


def wait_finished(api, image_id, headers=MEMBER, project='p1'):
    path = ('/v1/%s/cloudservers/fpga_image/detail?fpga_image_id=%s'
            % (project, image_id))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        [item] = api.get(path, headers=headers,
                         status=200).json['fpgaimages']
        if item['status'] in ('active', 'error'):
            return item
        time.sleep(0.05)
    raise AssertionError('FPGA image %s never finished' % image_id)


def log_text(bucket, image_id, directory='vu9p/log'):
    path = os.path.join(bucket, directory, '%s_log.tar' % image_id)
    with tarfile.open(path) as tar:
        [member] = tar.getmembers()
        return tar.extractfile(member).read().decode()


def test_a_valid_dcp_becomes_an_active_image_with_a_log(conf, cloud,
                                                        bucket):
    dcp.make_dcp_tarball(os.path.join(bucket, 'vu9p', 'dcp.tar'))
    image_id = create(cloud)

    item = wait_finished(cloud, image_id)

    assert item['status'] == 'active', item['message']
    assert item['message'] is None
    assert item['metadata']['fpga_chip'] == 'vu9p'
    assert item['metadata']['pci_device_id'] == '0xD503'
    assert item['size'] >= 1
    stored = image_store.get_image_store(conf).get_metadata(image_id)
    assert stored['dcp_sha256'] == dcp.manifest_for()['dcp_sha256']
    assert stored['shell_id'] == '0x121b0001'
    assert len(stored['sha256']) == 64
    assert 'active' in log_text(bucket, image_id)
    # The work directory is gone and the project may build again.
    assert os.listdir(conf.fpga_image.work_dir) == []
    create(cloud)


def _broken(name):
    """Makers of broken tarballs, by the reason the build must give."""
    return {
        'MANIFEST_NOT_FOUND': lambda p: dcp.make_dcp_tarball(
            p, manifest=dcp.MISSING),
        'MANIFEST_PARSE_FAILED': lambda p: dcp.make_dcp_tarball(
            p, manifest=b'{not json'),
        'UNSUPPORTED_CHIP': lambda p: dcp.make_dcp_tarball(
            p, manifest=dcp.manifest_for(fpga_chip='vu13p')),
        'PCIID_SYNTAX_INVALID': lambda p: dcp.make_dcp_tarball(
            p, manifest=dcp.manifest_for(pci_device_id='D503')),
        'DCP_INTEGRITY_UNVERIFIED': lambda p: dcp.make_dcp_tarball(
            p, manifest=dcp.manifest_for(dcp_sha256='0' * 64)),
        'DCP_NOT_FOUND': lambda p: dcp.make_dcp_tarball(
            p, dcp_bytes=dcp.MISSING,
            manifest=dcp.manifest_for(dcp_sha256='0' * 64)),
        'CORRUPT_ARCHIVE': lambda p: open(p, 'wb').write(b'not a tar' * 99),
    }[name]


@pytest.mark.parametrize('reason', [
    'MANIFEST_NOT_FOUND', 'MANIFEST_PARSE_FAILED', 'UNSUPPORTED_CHIP',
    'PCIID_SYNTAX_INVALID', 'DCP_INTEGRITY_UNVERIFIED', 'DCP_NOT_FOUND',
    'CORRUPT_ARCHIVE'])
def test_each_broken_dcp_ends_in_error_with_its_reason_and_a_log(
        cloud, bucket, reason):
    _broken(reason)(os.path.join(bucket, 'vu9p', 'dcp.tar'))
    image_id = create(cloud)
    item = wait_finished(cloud, image_id)
    assert item['status'] == 'error'
    assert item['message'].startswith(reason + ':'), item['message']
    assert reason in log_text(bucket, image_id)


def test_a_missing_tarball_is_dcp_not_found(cloud, bucket):
    image_id = create(cloud, key='vu9p/absent.tar')
    item = wait_finished(cloud, image_id)
    assert item['message'].startswith('DCP_NOT_FOUND:')
    assert 'DCP_NOT_FOUND' in log_text(bucket, image_id)


def test_an_oversized_tarball_is_input_size_illegal(conf, cloud, bucket):
    conf.set_override('max_dcp_tarball_mb', 1, group='fpga_image')
    dcp.make_dcp_tarball(os.path.join(bucket, 'vu9p', 'dcp.tar'),
                         dcp_bytes=os.urandom(2 * 1024 * 1024))
    item = wait_finished(cloud, create(cloud))
    assert item['message'].startswith('INPUT_SIZE_ILLEGAL:')


@pytest.mark.parametrize('kind', dcp.MALICIOUS_KINDS)
def test_a_malicious_tarball_writes_nothing_outside_its_work_dir(
        conf, cloud, bucket, tmp_path, kind):
    outside = tmp_path / 'outside'
    outside.mkdir()
    dcp.make_malicious_tarball(os.path.join(bucket, 'vu9p', 'dcp.tar'),
                               kind, outside=str(outside))
    before = set(tmp_path.rglob('*'))

    item = wait_finished(cloud, create(cloud))

    assert item['status'] == 'error'
    assert item['message'].startswith('CORRUPT_ARCHIVE:'), item['message']
    assert list(outside.iterdir()) == []
    # A failed build leaves its log (and the database its journal) and an
    # empty work directory root, nothing else.
    log_dir = tmp_path / 'buckets' / BUCKET / 'vu9p' / 'log'
    work_root = tmp_path / 'builds'
    assert list(work_root.iterdir()) == []
    added = {p for p in set(tmp_path.rglob('*')) - before
             if p.parent != log_dir and p not in (log_dir, work_root)
             and not p.name.startswith('cyborg_clone.sqlite')}
    assert added == set()
    assert not [p for p in tmp_path.rglob('*')
                if p.name in ('escaped', 'out', 'pipe', 'null')]


def test_builds_of_two_projects_run_side_by_side(cloud, bucket):
    dcp.make_dcp_tarball(os.path.join(bucket, 'vu9p', 'dcp.tar'))
    mine = create(cloud)
    theirs = create(cloud, headers=OTHER, project='p2')
    assert wait_finished(cloud, mine)['status'] == 'active'
    assert wait_finished(cloud, theirs, headers=OTHER,
                         project='p2')['status'] == 'active'


def test_a_registered_image_is_saved_then_deleted(conf, cloud, bucket):
    with open(os.path.join(bucket, 'vu9p', 'fir.xclbin'), 'wb') as image:
        image.write(b'xclbin2\0' * 1000)
    response = cloud.post(IMAGES, {'fpga_image': {
        'location': BUCKET + ':vu9p/fir.xclbin', 'name': 'fir',
        'metadata': {'shell_id': '0x1'}}}, headers=MEMBER, status=200)
    image_id = response.json['fpga_image']['id']
    item = wait_finished(cloud, image_id)
    assert item['status'] == 'active'
    store = image_store.get_image_store(conf)
    assert store.get_metadata(image_id)['shell_id'] == '0x1'

    cloud.delete(IMAGES + '/' + image_id, headers=MEMBER, status=204)
    # The record goes last, after the stored image.
    deadline = time.monotonic() + 10
    while cloud.get(IMAGES + '/detail', headers=MEMBER,
                    status=200).json['count'] and (
            time.monotonic() < deadline):
        time.sleep(0.05)
    assert cloud.get(IMAGES + '/detail', headers=MEMBER,
                     status=200).json['count'] == 0
    assert not store.exists(image_id)


def test_a_registration_of_a_missing_object_ends_in_error(cloud):
    response = cloud.post(IMAGES, {'fpga_image': {
        'location': BUCKET + ':vu9p/none.bin', 'name': 'none'}},
        headers=MEMBER, status=200)
    item = wait_finished(cloud, response.json['fpga_image']['id'])
    assert item['status'] == 'error'
    assert item['message'].startswith('OBJECT_NOT_FOUND:')


def test_builds_past_the_deadline_are_failed_by_recovery(conf):
    image = fpga_image.FpgaImage.create_build('p1', 'img', '', BUCKET,
                                              'vu9p/dcp.tar', 'vu9p/log')
    assert fpga_image.FpgaImage.transition(image.image_id, 'schedule')
    assert fpga_image.FpgaImage.transition(image.image_id, 'create')
    assert fpga_image_build.recover(conf) == []
    conf.set_override('build_deadline', 60, group='fpga_image')
    with db_api.writer() as session:
        session.execute(sa.text(
            "UPDATE fpga_images SET work_started_at = '2000-01-01'"))
    assert fpga_image_build.recover(conf) == [image.image_id]
    failed = fpga_image.FpgaImage.get(image.image_id)
    assert failed.status == 'error'
    assert failed.message.startswith('BUILD_INTERRUPTED:')
    # Its project may build again.
    fpga_image.FpgaImage.create_build('p1', 'again', '', BUCKET,
                                      'vu9p/dcp.tar', 'vu9p/log')


def test_the_same_build_through_the_s3_backend(conf, tmp_path):
    """A real S3-protocol server (moto) holds the bucket: the tarball is
    read from it and the log written back to it."""
    with s3_fixture.moto_server(tmp_path) as moto:
        for name, value in (('backend', 's3'), ('s3_endpoint_url', moto.url),
                            ('s3_region', s3_fixture.REGION),
                            ('s3_access_key', s3_fixture.ACCESS_KEY),
                            ('s3_secret_key', s3_fixture.SECRET_KEY)):
            conf.set_override(name, value, group='object_store')
        client = moto.client()
        client.create_bucket(Bucket=BUCKET)
        tarball = dcp.make_dcp_tarball(str(tmp_path / 'dcp.tar'))
        client.upload_file(tarball, BUCKET, 'vu9p/dcp.tar')
        with in_process.cloud(conf) as (api, _agent):
            image_id = create(api)
            item = wait_finished(api, image_id)
        assert item['status'] == 'active', item['message']
        log = tmp_path / 'log.tar'
        client.download_file(BUCKET, 'vu9p/log/%s_log.tar' % image_id,
                             str(log))
        with tarfile.open(log) as tar:
            assert [m.name for m in tar.getmembers()] == [
                '%s_build.log' % image_id]
        assert image_store.get_image_store(conf).exists(image_id)


def test_a_built_image_programs_a_card_by_its_id(conf, bucket):
    dcp.make_dcp_tarball(os.path.join(bucket, 'vu9p', 'dcp.tar'))
    report_fake_host(conf, conf.host)
    with in_process.cloud(conf, with_agent=True) as (api, _agent):
        image_id = create(api)
        assert wait_finished(api, image_id)['status'] == 'active'
        [deployable] = api.get('/v2/deployables',
                               status=200).json['deployables']
        programmed = api.patch(
            '/v2/deployables/%s/program' % deployable['uuid'],
            [{'path': '/program', 'op': 'replace',
              'value': [{'image_uuid': image_id}]}], status=200).json
    assert programmed['bitstream_id'] == image_id
