"""[gpu_devices] options and the [vgpu_<type>] groups of the GPU driver."""

from oslo_config import cfg

GROUP = 'gpu_devices'
# One group per enabled vGPU type, e.g. [vgpu_nvidia-222].
VGPU_GROUP = 'vgpu_%s'

opts = [
    cfg.BoolOpt('filter_sriov_vfs', default=True,
                help='Leave SR-IOV virtual functions (functions with a '
                     '``physfn`` link, e.g. an A100\'s VFs) out of GPU '
                     'discovery: only physical GPUs are reported.'),
    cfg.ListOpt('enabled_vgpu_types', default=[],
                help="""
The mediated device (vGPU) types GPUs of this host are split into, by the
type ids their ``mdev_supported_types/`` list (e.g. ``nvidia-222``).

With one type and no ``[vgpu_<type>]`` section, every GPU that offers the
type uses it. Otherwise each type needs a section naming its GPUs::

    [gpu_devices]
    enabled_vgpu_types = nvidia-222, nvidia-223

    [vgpu_nvidia-222]
    device_addresses = 0000:84:00.0,0000:85:00.0

    [vgpu_nvidia-223]
    device_addresses = 0000:86:00.0

A GPU named for two types, or for a type it does not offer, is left out of
the report with an error in the agent's log; the other GPUs are reported.
A GPU that uses no type is reported whole (resource class ``PGPU``).
"""),
    cfg.StrOpt('mdevctl_path', default='/usr/sbin/mdevctl',
               help='Path of mdevctl, which creates a vGPU (mediated '
                    'device) when an accelerator request is bound to it '
                    'and removes it at unbind.'),
    cfg.StrOpt('cleanup', choices=[
                   ('pci-reset', 'write 1 to the function\'s sysfs '
                                 '``reset``: the kernel resets it')],
               help='What cleans a whole GPU between two tenants; unset, '
                    'nothing does. vGPUs are never reset: their mediated '
                    'device is removed at unbind, and resetting the GPU '
                    'would cut off the other tenants\' vGPUs.'),
]

vgpu_opts = [
    cfg.ListOpt('device_addresses', default=[],
                help='PCI addresses (``0000:84:00.0``) of the GPUs that use '
                     'this vGPU type.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def register_dynamic_opts(conf):
    """Register ``[vgpu_<type>]device_addresses`` for each type of
    ``[gpu_devices]enabled_vgpu_types``; call it once the configuration
    is loaded (the group names depend on it). Registering again is
    harmless."""
    for vgpu_type in conf.gpu_devices.enabled_vgpu_types:
        conf.register_opts(vgpu_opts, group=VGPU_GROUP % vgpu_type)


def device_addresses(conf, vgpu_type):
    """``[vgpu_<type>]device_addresses`` (registered on demand)."""
    group = VGPU_GROUP % vgpu_type
    conf.register_opts(vgpu_opts, group=group)
    return conf[group].device_addresses


def list_opts():
    return [(GROUP, opts)]
