"""What nova's libvirt driver makes of a bound vGPU ARQ (JSON on stdin).

Runs only under the python of ``.venv-cloud``: it calls nova 34's own
``LibvirtDriver._allocate_cyborg_mdevs`` with a host whose libvirt knows
every node device it is asked for (the mediated device exists: we made
it), and prints ``{"mdevs", "looked_up", "created"}``: the mdev uuids
nova gives the guest, the node devices it looked up, and those it would
have created itself.
"""

import json
import sys

from nova.virt.libvirt import driver


class Host:
    def __init__(self):
        self.looked_up = []

    def device_lookup_by_name(self, name):
        self.looked_up.append(name)
        return object()


class Driver:
    # nova's own methods, run on a stand-in holding only what they read.
    _allocate_cyborg_mdevs = driver.LibvirtDriver._allocate_cyborg_mdevs
    _warn_if_nova_managed = driver.LibvirtDriver._warn_if_nova_managed

    def __init__(self):
        self._host = Host()
        self.pgpu_type_mapping = {}
        self.pgpu_type_default = None
        self.created = []

    def _create_mdev(self, parent, mdev_type, uuid=None):
        self.created.append((parent, mdev_type, uuid))
        return uuid


def main():
    arq = json.load(sys.stdin)
    nova = Driver()
    mdevs = nova._allocate_cyborg_mdevs([arq])
    json.dump({'mdevs': mdevs, 'looked_up': nova._host.looked_up,
               'created': nova.created}, sys.stdout)


if __name__ == '__main__':
    main()
