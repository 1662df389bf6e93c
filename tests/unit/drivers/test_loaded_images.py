"""What a driver records about the images it loaded (drivers.base)."""

import threading

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
