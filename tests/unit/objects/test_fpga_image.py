"""FPGA image rows: status rules, the one-build-per-project slot and the
association limit, on a real database."""

import threading

import pytest

from cyborg_clone.common import exception
from cyborg_clone.objects import fpga_image
from tests.fixtures import databases

# Each test that uses the database runs on each backend.
DB_BACKENDS = databases.BACKENDS

FpgaImage = fpga_image.FpgaImage
VM = '0c1a2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b'


def build(project='p1', name='img'):
    return FpgaImage.create_build(project, name, '', 'obs-fpga',
                                  'vu9p/dcp.tar', 'vu9p/log')


def active(project='p1', name='img'):
    image = FpgaImage.register(project, name, '', {}, 'obs-fpga', 'x.bin')
    assert FpgaImage.transition(image.image_id, 'activate')
    return image


def test_a_build_starts_initialling_with_a_32_hex_id(conf):
    image = build()
    assert image.status == 'initialling'
    assert len(image.image_id) == 32 and int(image.image_id, 16) >= 0
    assert image.log_key == 'vu9p/log/%s_log.tar' % image.image_id


def test_one_build_per_project(conf):
    first = build()
    with pytest.raises(exception.FpgaImageBuildRunning) as error:
        build(name='second')
    assert first.image_id in str(error.value)
    assert error.value.code == 409
    build(project='p2')
    assert FpgaImage.list('p1')[0] == 1


def test_concurrent_creates_in_one_project_accept_one(conf):
    outcomes = []

    def create():
        try:
            outcomes.append(build().image_id)
        except exception.FpgaImageBuildRunning:
            outcomes.append('refused')
    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o == 'refused' for o in outcomes) == [False] + [True] * 3
    assert FpgaImage.list('p1')[0] == 1


def test_finishing_a_build_frees_the_project(conf):
    image = build()
    assert FpgaImage.transition(image.image_id, 'schedule')
    assert FpgaImage.transition(image.image_id, 'create')
    assert FpgaImage.transition(image.image_id, 'fail',
                                message='MANIFEST_NOT_FOUND: none')
    assert FpgaImage.get(image.image_id).status == 'error'
    build(name='next')


def test_transitions_only_from_their_states(conf):
    image = build()
    assert not FpgaImage.transition(image.image_id, 'create')
    assert not FpgaImage.transition(image.image_id, 'activate')
    assert not FpgaImage.transition(image.image_id, 'delete')
    assert FpgaImage.get(image.image_id).status == 'initialling'


def test_images_are_invisible_to_other_projects(conf):
    image = build()
    with pytest.raises(exception.FpgaImageNotFound):
        FpgaImage.get(image.image_id, 'p2')
    assert FpgaImage.list('p2') == (0, [])


def test_list_pages_newest_first(conf):
    ids = [active(name='i%d' % i).image_id for i in range(5)]
    count, page = FpgaImage.list('p1', offset=1, limit=2)
    assert count == 5
    assert [i.image_id for i in page] == list(reversed(ids))[1:3]


def test_delete_refuses_busy_and_protected_images(conf):
    building = build()
    with pytest.raises(exception.FpgaImageBusy):
        FpgaImage.start_delete(building.image_id, 'p1')
    image = active()
    FpgaImage.associate(image.image_id, 'p1', VM)
    with pytest.raises(exception.FpgaImageProtected):
        FpgaImage.start_delete(image.image_id, 'p1')
    FpgaImage.disassociate(image.image_id, 'p1', VM)
    FpgaImage.start_delete(image.image_id, 'p1')
    FpgaImage.remove(image.image_id)
    with pytest.raises(exception.FpgaImageNotFound):
        FpgaImage.get(image.image_id)


def test_associations_limit_duplicates_and_listing(conf):
    images = [active(name='i%d' % i) for i in range(11)]
    for image in images[:10]:
        FpgaImage.associate(image.image_id, 'p1', VM)
    with pytest.raises(exception.FpgaImageAssociationLimit):
        FpgaImage.associate(images[10].image_id, 'p1', VM)
    with pytest.raises(exception.FpgaImageAssociated):
        FpgaImage.associate(images[0].image_id, 'p1', VM)
    [(vm, listed)] = FpgaImage.associations('p1', vm_image_id=VM)
    assert vm == VM and len(listed) == 10 and all(i.protected
                                                  for i in listed)
    [(vm, only)] = FpgaImage.associations('p1',
                                          image_id=images[3].image_id)
    assert [i.image_id for i in only] == [images[3].image_id]
    assert FpgaImage.associations('p2', vm_image_id=VM) == []
    with pytest.raises(exception.FpgaImageNotAssociated):
        FpgaImage.disassociate(images[10].image_id, 'p1', VM)


def test_only_active_images_are_associated(conf):
    image = build()
    with pytest.raises(exception.FpgaImageBusy):
        FpgaImage.associate(image.image_id, 'p1', VM)
