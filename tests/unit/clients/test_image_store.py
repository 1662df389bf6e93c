"""clients/image_store.py: images by id on local disk, verified on the
way out."""

import hashlib
import json
import os

import pytest

from cyborg_clone.clients import image_store
from cyborg_clone.common import exception

IMAGE = '4010a32c5c62bad9015c62dc2290002b'
DATA = os.urandom(3 * 1024 * 1024 + 5)


@pytest.fixture
def store(tmp_path):
    return image_store.FileImageStore(str(tmp_path / 'images'))


@pytest.fixture
def source(tmp_path):
    path = tmp_path / 'built.bin'
    path.write_bytes(DATA)
    return str(path)


def test_put_records_size_and_sha256_with_the_metadata(store, source):
    stored = store.put(IMAGE, source, {'fpga_chip': 'vu9p', 'size': 1})
    assert stored == {'fpga_chip': 'vu9p', 'size': len(DATA),
                      'sha256': hashlib.sha256(DATA).hexdigest()}
    assert store.get_metadata(IMAGE) == stored


def test_the_image_is_a_file_named_after_its_id(store, source):
    # The agent programs <state_path>/images/<id> directly.
    store.put(IMAGE, source, {})
    assert sorted(os.listdir(store.root)) == [IMAGE, IMAGE + '.json']
    with open(os.path.join(store.root, IMAGE), 'rb') as image:
        assert image.read() == DATA
    assert store.image_path(IMAGE) == os.path.join(store.root, IMAGE)


def test_fetch_copies_the_image_out(store, source, tmp_path):
    stored = store.put(IMAGE, source, {'name': 'x'})
    dest = tmp_path / 'fetched.bin'
    assert store.fetch(IMAGE, str(dest)) == stored
    assert dest.read_bytes() == DATA


def test_put_replaces_an_image(store, source, tmp_path):
    store.put(IMAGE, source, {'v': 1})
    other = tmp_path / 'other.bin'
    other.write_bytes(b'other')
    assert store.put(IMAGE, str(other), {'v': 2})['size'] == 5
    store.fetch(IMAGE, str(tmp_path / 'dest'))
    assert (tmp_path / 'dest').read_bytes() == b'other'
    assert store.get_metadata(IMAGE)['v'] == 2


def test_exists_and_delete(store, source):
    assert not store.exists(IMAGE)
    store.put(IMAGE, source, {})
    assert store.exists(IMAGE)
    store.delete(IMAGE)
    assert not store.exists(IMAGE)
    assert os.listdir(store.root) == []
    store.delete(IMAGE)


def test_an_unknown_id_is_image_not_found(store, tmp_path):
    with pytest.raises(exception.ImageNotFound) as caught:
        store.get_metadata(IMAGE)
    assert IMAGE in str(caught.value)
    assert caught.value.code == 404
    with pytest.raises(exception.ImageNotFound):
        store.fetch(IMAGE, str(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists()


@pytest.mark.parametrize('image_id', [
    IMAGE.upper(), IMAGE[:-1], IMAGE + '0', IMAGE + '\n', '../' + IMAGE[3:],
    '', None, 42, '4010a32c-5c62-bad9-015c-62dc2290002b'])
def test_ids_that_are_not_32_lowercase_hex_are_refused(store, source,
                                                       image_id, tmp_path):
    calls = [lambda: store.put(image_id, source, {}),
             lambda: store.get_metadata(image_id),
             lambda: store.fetch(image_id, str(tmp_path / 'dest')),
             lambda: store.exists(image_id),
             lambda: store.delete(image_id)]
    for call in calls:
        with pytest.raises(exception.Invalid):
            call()
    assert not os.path.exists(store.root)


@pytest.mark.parametrize('damage', [
    lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
    lambda data: data[:-1],
    lambda data: data + b'\0'])
def test_fetch_detects_a_corrupted_stored_file(store, source, tmp_path,
                                               damage):
    store.put(IMAGE, source, {})
    path = store.image_path(IMAGE)
    with open(path, 'rb') as image:
        damaged = damage(image.read())
    with open(path, 'wb') as image:
        image.write(damaged)
    with pytest.raises(exception.ImageCorrupt, match=IMAGE):
        store.fetch(IMAGE, str(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists()
    assert sorted(os.listdir(tmp_path)) == ['built.bin', 'images']


def test_fetch_of_an_image_whose_file_is_gone_is_corrupt(store, source,
                                                         tmp_path):
    store.put(IMAGE, source, {})
    os.unlink(store.image_path(IMAGE))
    with pytest.raises(exception.ImageCorrupt):
        store.fetch(IMAGE, str(tmp_path / 'dest'))


@pytest.mark.parametrize('content', [b'{not json', b'[]', b'{"size": 1}'])
def test_unreadable_metadata_is_corrupt(store, source, content):
    store.put(IMAGE, source, {})
    with open(store.image_path(IMAGE) + '.json', 'wb') as metadata:
        metadata.write(content)
    with pytest.raises(exception.ImageCorrupt):
        store.get_metadata(IMAGE)


def test_metadata_that_is_not_json_stores_nothing(store, source):
    with pytest.raises(TypeError):
        store.put(IMAGE, source, {'when': object()})
    assert not store.exists(IMAGE)
    assert not os.path.exists(store.image_path(IMAGE))


def test_a_put_that_fails_leaves_no_image(store, tmp_path):
    with pytest.raises(OSError):
        store.put(IMAGE, str(tmp_path / 'missing.bin'), {})
    assert not store.exists(IMAGE)
    assert os.listdir(store.root) == []


def test_metadata_is_stored_as_json_beside_the_image(store, source):
    stored = store.put(IMAGE, source, {'fpga_board': 'vu9p_vb'})
    with open(store.image_path(IMAGE) + '.json') as metadata:
        assert json.load(metadata) == stored


def test_get_image_store_uses_state_path_images(conf):
    store = image_store.get_image_store(conf)
    assert isinstance(store, image_store.FileImageStore)
    assert store.root == os.path.join(conf.state_path, 'images')
