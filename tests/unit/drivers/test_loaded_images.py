"""What a driver records about the images it loaded (drivers.base)."""

import os
import threading
from unittest import mock

import pytest

from cyborg_clone.drivers import base


def test_an_image_is_claimed_only_while_the_card_runs_its_function(conf):
    loaded = base.LoadedImages(conf, 'xilinx')
    loaded.record('h_card', 'a' * 32, 'function-a')
    assert loaded.image_id('h_card', 'function-a') == 'a' * 32
    # Reprogrammed behind the agent's back, reset, or a load killed
    # half-way: the record no longer names what the card runs.
    assert loaded.image_id('h_card', 'function-b') is None
    assert loaded.image_id('h_card', None) is None
    assert loaded.image_id('h_other', 'function-a') is None


def test_loads_ending_together_keep_every_record(conf):
    loaded = base.LoadedImages(conf, 'xilinx')
    names = ['h_card%d' % i for i in range(16)]
    start = threading.Barrier(len(names))

    def load(name):
        start.wait()
        loaded.record(name, name[-1] * 32, 'function-' + name)

    threads = [threading.Thread(target=load, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(loaded.image_id(name, 'function-' + name) == name[-1] * 32
               for name in names)


def test_a_record_that_cannot_be_written_leaves_the_old_one(conf):
    loaded = base.LoadedImages(conf, 'xilinx')
    loaded.record('h_card', 'a' * 32, 'function-a')
    before = sorted(os.listdir(conf.state_path))
    # Out of space, say: the new content never lands, and nothing of it
    # stays behind.
    with mock.patch('os.fsync', side_effect=OSError(28, 'No space left')):
        with pytest.raises(OSError):
            loaded.record('h_other', 'b' * 32, 'function-b')
    assert sorted(os.listdir(conf.state_path)) == before
    assert loaded.image_id('h_card', 'function-a') == 'a' * 32
    assert loaded.entry('h_other') is None
