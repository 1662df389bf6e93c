"""[pci] options: the devices the ``pci`` driver reports, and cleanups."""

from oslo_config import cfg

GROUP = 'pci'

opts = [
    cfg.MultiStrOpt('device_spec', default=[],
                    deprecated_name='passthrough_whitelist',
                    help="""
A PCI device the ``pci`` driver reports, as a JSON object in the style of
nova's ``[pci]device_spec``; repeat the option for more. Keys:

``vendor_id``, ``product_id``
    four hex digits (``"144d"``), or ``"*"`` for any;
``address``
    ``"[[[[domain]:]bus]:][slot][.[function]]"`` where any part may be
    ``"*"`` or left out (``"0000:5e:00.*"``, ``"*:af:*.*"``), or an
    object of regular expressions by part (``{"domain": "0000", "bus":
    "5[ef]", "slot": "00", "function": "[0-3]"}``);
``resource_class`` (optional)
    the Placement resource class (default ``CUSTOM_PCI``); a name that
    is not a standard class gets the ``CUSTOM_`` prefix;
``traits`` (optional)
    comma-separated custom traits added to ``OWNER_CYBORG`` and
    ``CUSTOM_PCI_PRODUCT_ID_<product id>``; ``CUSTOM_`` is prefixed
    where missing;
``cleanup`` (optional)
    what cleans the device between two tenants: ``nvme-secure-erase``
    (``nvme format /dev/<controller> --ses=1`` with ``[pci]nvme_path``)
    or ``pci-reset`` (the function's sysfs ``reset``).

Each matching function (the first spec it matches counts) is one device
with one deployable and one PCI attach handle. A value that is not such
an object, or names an unknown key, stops the agent at start with an
error naming it. Example::

    device_spec = {"vendor_id": "144d", "cleanup": "nvme-secure-erase"}
    device_spec = {"address": "0000:6b:00.*", "resource_class": "QAT"}
"""),
    cfg.StrOpt('nvme_path', default='/usr/sbin/nvme',
               help='Path of nvme-cli\'s ``nvme``, which runs the '
                    '``nvme-secure-erase`` cleanup.'),
    cfg.IntOpt('cleanup_timeout', default=900, min=1,
               help='Seconds one cleanup command (a secure erase) may run '
                    'before it is killed and the cleanup reported failed.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
