"""NVIDIA GPUs, whole or split into vGPUs, found in sysfs.

A GPU is a PCI function of vendor 0x10de whose class is a VGA (0x0300xx)
or 3D (0x0302xx) controller; the other functions NVIDIA makes (NVSwitches,
audio) are not GPUs. SR-IOV virtual functions are left out unless
``[gpu_devices]filter_sriov_vfs`` is False. Each GPU is one device with
one deployable ``<host>_<address>``:

* whole (no vGPU type for it): resource class ``PGPU``, one PCI attach
  handle, traits ``OWNER_CYBORG`` and ``CUSTOM_NVIDIA_<device id>``;
* split into vGPUs of a type (``conf/gpu_devices.py`` says which GPU uses
  which type): resource class ``VGPU``, one MDEV attach handle per
  instance of the type it can hold (those it can still create and those
  that exist), traits ``OWNER_CYBORG`` and
  ``CUSTOM_NVIDIA_<device id>_<type name>``.

A GPU whose vGPU configuration cannot be followed (named for two types,
or for a type it does not offer) is left out of the report, with an error
in the log each time the problem changes; the other GPUs are reported.

vGPUs are created when an accelerator request is bound (``create_mdev``)
and removed at unbind (``remove_mdev``), with mdevctl.
"""

import dataclasses
import uuid

from oslo_log import log as logging

from cyborg_clone.common import exception
from cyborg_clone.common import trait_names
from cyborg_clone.conf import gpu_devices as gpu_conf
from cyborg_clone.drivers import base
from cyborg_clone.drivers import device_cleanup
from cyborg_clone.drivers import mdev
from cyborg_clone.drivers import pci
from cyborg_clone.drivers import report

LOG = logging.getLogger(__name__)

VENDOR = '0x10de'
# PCI class prefixes (base class and subclass) of display controllers
# that are GPUs: VGA compatible, 3D.
GPU_CLASSES = ('0x0300', '0x0302')
DEVICE_TYPE = 'GPU'
MODELS = {
    '0x1eb8': 'Tesla T4',
    '0x20b5': 'A100 80GB PCIe',
    '0x20f1': 'A100 PCIe 40GB',
    '0x2235': 'A40',
    '0x2236': 'A10',
    '0x26b5': 'L40',
    '0x27b8': 'L4',
    '0x2331': 'H100 PCIe',
}
# _said's key for problems of the configuration as a whole.
_CONFIG = 'config'


@dataclasses.dataclass(frozen=True)
class Gpu:
    function: pci.PciFunction
    # The vGPU type it is split into, as it reports it; None: whole.
    vgpu: mdev.MdevType | None = None


class Unusable(Exception):
    """Why a GPU cannot be reported as configured."""


@dataclasses.dataclass(frozen=True)
class VgpuPlan:
    """Which GPU uses which vGPU type, from the configuration."""

    # {address: (type ids that name it)}
    by_address: dict
    # The type of every GPU that offers it: the only enabled type, when
    # no [vgpu_<type>] section names GPUs for it.
    default_type: str | None
    # What is wrong with the configuration as a whole (not one GPU).
    problems: tuple

    @classmethod
    def of(cls, conf):
        """:raises Invalid: naming a device address that is no PCI
        address."""
        types = list(dict.fromkeys(
            t.strip() for t in conf.gpu_devices.enabled_vgpu_types
            if t.strip()))
        by_address = {}
        unnamed = []
        for vgpu_type in types:
            addresses = gpu_conf.device_addresses(conf, vgpu_type)
            if not addresses:
                unnamed.append(vgpu_type)
            for address in addresses:
                normal = address.strip().lower()
                try:
                    pci.attach_info(normal)
                except AttributeError:
                    raise exception.Invalid(
                        '[%s]device_addresses: %r is not a PCI address '
                        'like 0000:84:00.0.'
                        % (gpu_conf.VGPU_GROUP % vgpu_type, address)
                    ) from None
                named = by_address.setdefault(normal, ())
                if vgpu_type not in named:
                    by_address[normal] = named + (vgpu_type,)
        default_type = None
        problems = ()
        if len(types) == 1 and unnamed:
            default_type = types[0]
        elif unnamed:
            problems = tuple(
                '[gpu_devices]enabled_vgpu_types lists several types, but '
                '[%s]device_addresses names no GPU: no GPU uses %s.'
                % (gpu_conf.VGPU_GROUP % t, t) for t in unnamed)
        return cls(by_address, default_type, problems)

    def gpu(self, function):
        """The Gpu ``function`` is, as configured.

        :raises Unusable: saying why it cannot be reported.
        """
        named = self.by_address.get(function.address, ())
        if len(named) > 1:
            raise Unusable(
                'it is named for vGPU types %s (%s), but a GPU runs one '
                'type.' % (', '.join(named), ', '.join(
                    '[%s]device_addresses' % (gpu_conf.VGPU_GROUP % t)
                    for t in named)))
        offered = mdev.supported_types(function.path)
        if named:
            vgpu_type = named[0]
            if vgpu_type not in offered:
                raise Unusable(
                    '[%s]device_addresses names it, but it does not offer '
                    'vGPU type %s (its mdev_supported_types: %s).'
                    % (gpu_conf.VGPU_GROUP % vgpu_type, vgpu_type,
                       ', '.join(offered) or 'none'))
        elif self.default_type in offered:
            vgpu_type = self.default_type
        else:
            return Gpu(function)
        try:
            return Gpu(function, mdev.read_type(function.path, vgpu_type))
        except mdev.UnreadableType as error:
            raise Unusable(str(error)) from None


def is_gpu(function):
    pci_class = pci.read_attr(function.path, 'class') or ''
    return pci_class.startswith(GPU_CLASSES)


class NvidiaGPUDriver(base.Driver):
    """Whole GPUs and vGPUs; vGPUs are created and removed with mdevctl."""

    name = 'nvidia_gpu'

    def __init__(self, conf):
        """:raises Invalid: for a ``[vgpu_<type>]device_addresses`` entry
        that is no PCI address."""
        super().__init__(conf)
        gpu_conf.register_dynamic_opts(conf)
        VgpuPlan.of(conf)
        # Log-once bookkeeping: {address or _CONFIG: what was last said}.
        self._said = {}

    def discover(self):
        return [self._device(gpu) for gpu in self._gpus()]

    def program(self, deployable_name, image_path):
        self._gpu_named(deployable_name)
        raise self.error('%s is a GPU: it loads no image.' % deployable_name)

    def create_mdev(self, parent_address, mdev_type):
        """Create a vGPU of ``mdev_type`` on the GPU at ``parent_address``
        (see ``base.Driver``); returns its uuid."""
        gpu = next((g for g in self._gpus()
                    if g.function.address == parent_address), None)
        if gpu is None:
            raise self.error('no NVIDIA GPU this driver reports is at %s on '
                             'host %s.' % (parent_address, self.host))
        if gpu.vgpu is None or gpu.vgpu.type_id != mdev_type:
            raise self.error(
                'GPU %s is not configured for vGPU type %s (it is %s).'
                % (parent_address, mdev_type,
                   'a whole GPU' if gpu.vgpu is None
                   else 'split into ' + gpu.vgpu.type_id))
        mdev_uuid = str(uuid.uuid4())
        LOG.info('Creating vGPU %s of type %s on GPU %s.', mdev_uuid,
                 mdev_type, parent_address)
        mdev.start(self.name, self.conf.gpu_devices.mdevctl_path,
                   parent_address, mdev_type, mdev_uuid)
        if not mdev.is_active(self.sysfs_root, mdev_uuid):
            raise self.error('mdevctl reported success, but mediated device '
                             '%s does not exist.' % mdev_uuid)
        return mdev_uuid

    def remove_mdev(self, mdev_uuid):
        """Remove a vGPU ``create_mdev`` made (see ``base.Driver``)."""
        try:
            mdev_uuid = mdev.canonical_uuid(mdev_uuid)
        except ValueError:
            raise self.error('%r is not a mediated device uuid.'
                             % (mdev_uuid,)) from None
        if not mdev.is_active(self.sysfs_root, mdev_uuid):
            LOG.info('vGPU %s does not exist (removed already).', mdev_uuid)
            return
        LOG.info('Removing vGPU %s.', mdev_uuid)
        mdev.stop(self.name, self.conf.gpu_devices.mdevctl_path, mdev_uuid)

    def cleanup(self, deployable_name):
        """``[gpu_devices]cleanup`` on a whole GPU (see ``base.Driver``);
        a GPU split into vGPUs is never reset."""
        gpu = self._gpu_named(deployable_name)
        action = self.conf.gpu_devices.cleanup
        if action is None:
            return None
        if gpu.vgpu is not None:
            # The tenant's vGPU went with its mediated device; a reset
            # would reach every other tenant's vGPU on the GPU.
            LOG.info('Not running %s on %s: its GPU holds vGPUs.', action,
                     deployable_name)
            return None
        LOG.info('Cleaning %s (%s) with %s.', deployable_name,
                 gpu.function.address, action)
        device_cleanup.run(action, gpu.function.path, self.conf, self.name)
        return action

    def _gpu_named(self, deployable_name):
        for gpu in self._gpus():
            if self.name_for(gpu.function.address) == deployable_name:
                return gpu
        raise self.unknown(deployable_name)

    def _gpus(self):
        """The GPUs to report, saying once what is wrong with the others
        and with the configuration."""
        plan = VgpuPlan.of(self.conf)
        self._say(_CONFIG, ' '.join(plan.problems) or None)
        found = []
        for function in pci.scan(self.sysfs_root, {VENDOR}):
            if not is_gpu(function):
                continue
            if function.physfn and self.conf.gpu_devices.filter_sriov_vfs:
                continue
            try:
                gpu = plan.gpu(function)
            except Unusable as problem:
                self._say(function.address, 'NVIDIA GPU %s is not '
                          'reported: %s' % (function.address, problem))
                continue
            self._say(function.address, None)
            found.append(gpu)
        reported = {gpu.function.address for gpu in found}
        for address, types in sorted(plan.by_address.items()):
            if address not in reported and address not in self._said:
                self._say(address, '%s names %s, but no NVIDIA GPU this '
                          'driver reports is there.' % (', '.join(
                              '[%s]device_addresses'
                              % (gpu_conf.VGPU_GROUP % t) for t in types),
                              address))
        return found

    def _say(self, key, problem):
        """Log ``problem`` as an error unless it is what was last said for
        ``key``; None forgets what was said."""
        if problem is None:
            self._said.pop(key, None)
        elif self._said.get(key) != problem:
            self._said[key] = problem
            LOG.error('%s', problem)

    def _device(self, gpu):
        function = gpu.function
        product = function.device[2:]
        board = {'device_id': function.device,
                 'class': pci.read_attr(function.path, 'class'),
                 'numa_node': function.numa_node}
        if gpu.vgpu is None:
            resource_class = 'PGPU'
            traits = (trait_names.OWNER, trait_names.custom('NVIDIA', product))
            handles = (report.AttachHandle(attach_type='PCI',
                                           attach_info=function.attach_info),)
        else:
            resource_class = 'VGPU'
            traits = (trait_names.OWNER,
                      trait_names.custom('NVIDIA', product,
                                mdev.trait_name(gpu.vgpu)))
            handles = tuple(
                report.AttachHandle(attach_type='MDEV',
                                    attach_info=mdev.attach_info(
                                        function.address, gpu.vgpu.type_id,
                                        index))
                for index in range(gpu.vgpu.capacity))
            board['vgpu_type'] = gpu.vgpu.type_id
        deployable = report.Deployable(
            name=self.name_for(function.address),
            num_accelerators=len(handles), resource_class=resource_class,
            traits=traits, attach_handles=handles)
        return report.Device(
            type=DEVICE_TYPE, vendor=function.vendor,
            model=MODELS.get(function.device, 'NVIDIA %s' % function.device),
            driver_name=self.name,
            controlpath=report.ControlPath(cpid_type='PCI',
                                           cpid_info=function.attach_info),
            std_board_info=board, deployables=(deployable,))
