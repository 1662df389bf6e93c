"""``openstack`` with python-cyborgclient's accelerator commands, as an
OpenStackClient without its own accelerator module runs them.

python-openstackclient 10 ships ``openstack accelerator ...`` itself and
skips the cyborgclient plugin (its ``IGNORED_MODULES`` and
``PLUGIN_MODULES``); older releases loaded the plugin, as this does::

    python tests/functional/cyborgclient_cli.py --os-auth-type none \\
        accelerator arq create my-profile --group-id 1
"""

import sys

from cyborgclient.osc import plugin
from openstackclient import shell
from openstackclient.common import clientmanager
from osc_lib import clientmanager as osc_clientmanager


def use_cyborgclient():
    """Make the next OpenStackShell load cyborgclient's accelerator
    commands, global option and client instead of its own."""
    shell.IGNORED_MODULES = tuple(
        module for module in shell.IGNORED_MODULES
        if module != 'cyborgclient.osc.v2') + (
            'openstackclient.accelerator',)
    clientmanager.PLUGIN_MODULES[:] = [
        plugin if module.API_NAME == plugin.API_NAME else module
        for module in clientmanager.PLUGIN_MODULES]
    clientmanager.ClientManager.accelerator = osc_clientmanager.ClientCache(
        plugin.make_client)


if __name__ == '__main__':
    sys.argv[0] = 'openstack'
    use_cyborgclient()
    sys.exit(shell.main())
