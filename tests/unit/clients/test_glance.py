"""clients/glance.py: lookups and verified downloads against a real Glance
(tests/fixtures/glance.py), and how it reads Glance's image records."""

import dataclasses
import hashlib
import os
import uuid

import pytest

from cyborg_clone.clients import glance as glance_client
from cyborg_clone.common import exception
from tests.fixtures import glance as glance_fixture
from tests.fixtures.glance import glance_server  # noqa: F401
from tests.functional import processes

DATA = b'\x00xclbin2\x00' + bytes(range(256)) * 64


def with_glance(test):
    """Glance runs as a server of its own: one for the module, whose
    tests stay on one xdist worker."""
    return pytest.mark.slow(pytest.mark.xdist_group(__name__)(test))


@pytest.fixture
def client(conf, glance):
    glance.configure(conf)
    return glance_client.GlanceClient(conf)


@pytest.fixture
def work(tmp_path):
    """An empty directory to download into (tmp_path holds the
    database)."""
    path = tmp_path / 'work'
    path.mkdir()
    return path


@with_glance
def test_image_gives_what_a_download_is_checked_against(client, glance):
    uploaded = glance.upload(DATA, name='afu')
    image = client.image(uploaded['id'])
    assert image == glance_client.Image(
        id=uploaded['id'], size=len(DATA), hash_algo='sha512',
        hash_value=hashlib.sha512(DATA).hexdigest())


@with_glance
def test_image_takes_the_id_as_32_hex_characters(client, glance):
    uploaded = glance.upload(DATA)
    assert client.image(uuid.UUID(uploaded['id']).hex).id == uploaded['id']


@with_glance
def test_an_unknown_image_is_not_found(client):
    unknown = str(uuid.uuid4())
    with pytest.raises(exception.ImageNotFound) as error:
        client.image(unknown)
    assert unknown in error.value.faultstring


@with_glance
def test_an_image_without_data_cannot_be_loaded(client, glance):
    queued = glance.create_queued()
    with pytest.raises(exception.Invalid) as error:
        client.image(queued)
    assert 'Glance image %s is queued, not active' % queued in str(
        error.value)


@with_glance
def test_images_providing_a_function_newest_first(client, glance):
    function = str(uuid.uuid4())
    older = glance.upload(DATA, **{'accel:function_id': function})
    newer = glance.upload(DATA + b'v2', **{'accel:function_id': function})
    glance.upload(DATA, **{'accel:function_id': function + '-other'})
    assert [i.id for i in client.images_providing(function)] == [
        newer['id'], older['id']]
    assert client.images_providing(str(uuid.uuid4())) == []


@with_glance
def test_download_writes_the_verified_image(client, glance, work):
    image = client.image(glance.upload(DATA)['id'])
    dest = work / image.id
    assert client.download(image, str(dest)) == len(DATA)
    assert dest.read_bytes() == DATA
    assert oct(dest.stat().st_mode & 0o777) == '0o600'


@with_glance
def test_download_checks_the_md5_checksum_when_that_is_all(client, glance,
                                                           work):
    uploaded = glance.upload(DATA)
    image = glance_client.Image(
        id=uploaded['id'], size=None, hash_algo='md5',
        hash_value=uploaded['checksum'])
    client.download(image, str(work / image.id))
    assert (work / image.id).read_bytes() == DATA


@with_glance
def test_a_damaged_image_is_refused_and_leaves_nothing(client, glance,
                                                      work):
    image = client.image(glance.upload(DATA)['id'])
    # Same size, other bytes: only the hash can tell.
    with open(glance.stored_file(image.id), 'r+b') as stored:
        stored.write(b'\xff')
    with pytest.raises(exception.ImageCorrupt) as error:
        client.download(image, str(work / image.id))
    message = error.value.faultstring
    assert 'Glance image %s does not match its sha512 hash' % image.id in (
        message)
    assert image.hash_value in message
    assert 'not loaded' in message
    assert os.listdir(work) == []


@with_glance
def test_a_truncated_image_is_refused(client, glance, work):
    image = client.image(glance.upload(DATA)['id'])
    with open(glance.stored_file(image.id), 'r+b') as stored:
        stored.truncate(100)
    # Glance announces the recorded length, and the connection breaks
    # short of it.
    with pytest.raises(exception.ServiceUnavailable) as error:
        client.download(image, str(work / image.id))
    assert 'downloading Glance image %s failed' % image.id in (
        error.value.faultstring)
    assert os.listdir(work) == []


@with_glance
def test_a_size_other_than_recorded_is_refused(client, glance, work):
    image = client.image(glance.upload(DATA)['id'])
    recorded = dataclasses.replace(image, size=len(DATA) + 1)
    with pytest.raises(exception.ImageCorrupt) as error:
        client.download(recorded, str(work / image.id))
    assert ('does not match its size: Glance sent %d bytes and records %d'
            % (len(DATA), len(DATA) + 1)) in error.value.faultstring
    assert os.listdir(work) == []


@with_glance
def test_an_image_gone_from_glance_is_not_found(client, glance, work):
    image = client.image(glance.upload(DATA)['id'])
    glance.request('DELETE', '/v2/images/' + image.id, 204)
    with pytest.raises(exception.ImageNotFound):
        client.download(image, str(work / image.id))
    assert os.listdir(work) == []


def test_an_unreachable_glance_is_service_unavailable(conf, tmp_path):
    glance_fixture.Glance('http://127.0.0.1:%d' % processes.free_port(),
                          str(tmp_path)).configure(conf)
    conf.set_override('connect_retries', 0, group='glance')
    unreachable = glance_client.GlanceClient(conf)
    with pytest.raises(exception.ServiceUnavailable) as error:
        unreachable.image(str(uuid.uuid4()))
    assert 'Glance could not be reached' in error.value.faultstring


def test_not_configured_without_an_auth_type(conf):
    assert not glance_client.GlanceClient(conf).configured


def test_a_record_without_os_hash_is_checked_by_its_checksum():
    image = glance_client.Image.from_glance({
        'id': 'x', 'status': 'active', 'size': 3, 'checksum': 'abc',
        'os_hash_algo': None, 'os_hash_value': None})
    assert (image.hash_algo, image.hash_value) == ('md5', 'abc')


def test_a_record_without_any_hash_cannot_be_loaded():
    with pytest.raises(exception.Invalid) as error:
        glance_client.Image.from_glance({'id': 'x', 'status': 'active'})
    assert 'no hash of image x' in str(error.value)


def test_an_id_that_is_no_uuid_is_invalid():
    with pytest.raises(exception.Invalid):
        glance_client.image_id_from('../../etc/passwd')
    assert glance_client.image_id_from(
        'A6A1267070144CFFA563CEA949B57FB3') == (
        'a6a12670-7014-4cff-a563-cea949b57fb3')


def test_a_hash_this_host_cannot_compute_is_refused_before_asking(
        conf, work):
    image = glance_client.Image(id=str(uuid.uuid4()), size=1,
                                hash_algo='no-such-hash', hash_value='00')
    with pytest.raises(exception.Invalid) as error:
        glance_client.GlanceClient(conf).download(image,
                                                  str(work / image.id))
    assert 'cannot compute the no-such-hash hash' in str(error.value)
    assert os.listdir(work) == []
