"""[nic_devices] options and the per-NIC-type groups of intel_nic."""

from oslo_config import cfg

GROUP = 'nic_devices'

opts = [
    cfg.ListOpt('enabled_nic_types', default=[],
                help="""
The NIC types of this host the ``intel_nic`` driver maps to Neutron
physical networks and functions. Each type is a section of its own, named
after it, holding ``physical_device_mappings`` and
``function_device_mappings``::

    [nic_devices]
    enabled_nic_types = x710_static

    [x710_static]
    physical_device_mappings = physnet1:ens1f0|ens1f1, physnet2:ens2f0
    function_device_mappings = gtpv1:ens1f0

Each value is ``<name>:<interface>[|<interface>...]``, an interface being
a PF's network device as ``ip link`` names it. The functions of a card
(its VFs, or the PF while it has none) get the traits ``CUSTOM_<FUNCTION>``
and ``CUSTOM_<PHYSICAL NETWORK>`` of its interface, and attach handles
with ``physical_network``, which nova passes to Neutron. The mappings of
every enabled type apply to every X710-class card of the host. A card
whose interface no mapping names is reported without those traits and
without ``physical_network``; an interface mapped to two networks, or to
two functions, stops the agent at start.
"""),
]

type_opts = [
    cfg.ListOpt('physical_device_mappings', default=[],
                help='``<physical network>:<interface>[|<interface>...]`` '
                     'pairs: the Neutron physical network each interface '
                     '(a PF\'s network device, as ``ip link`` names it) '
                     'is cabled to. Its functions get the trait '
                     '``CUSTOM_<PHYSICAL NETWORK>`` and attach handles '
                     'with ``physical_network``, which nova passes to '
                     'Neutron. An interface mapped to two networks stops '
                     'the agent at start.'),
    cfg.ListOpt('function_device_mappings', default=[],
                help='``<function>:<interface>[|<interface>...]`` pairs: '
                     'the function (e.g. ``gtpv1``) the card behind each '
                     'interface runs; its functions get the trait '
                     '``CUSTOM_<FUNCTION>``. An interface mapped to two '
                     'functions stops the agent at start.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def register_dynamic_opts(conf):
    """Register the ``[<type>]`` groups of
    ``[nic_devices]enabled_nic_types``; call it once the configuration is
    loaded (the group names depend on it). Registering again is
    harmless."""
    for nic_type in conf.nic_devices.enabled_nic_types:
        conf.register_opts(type_opts, group=nic_type)


def mappings(conf, nic_type):
    """``(physical_device_mappings, function_device_mappings)`` of
    ``[<nic_type>]`` (registered on demand)."""
    conf.register_opts(type_opts, group=nic_type)
    group = conf[nic_type]
    return group.physical_device_mappings, group.function_device_mappings


def list_opts():
    return [(GROUP, opts)]
