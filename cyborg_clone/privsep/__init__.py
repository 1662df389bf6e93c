"""Privilege separation for the agent (oslo.privsep).

Vendor tools that program or query cards need root. The agent itself runs
unprivileged and sends each such call to a privsep daemon, started on first
use through ``[privsep]helper_command`` (by default ``sudo privsep-helper``
with the agent's config files), which keeps only the capabilities below.
Tests run the entry points in-process with
``sys_admin_pctxt.set_client_mode(False)``.
"""

from oslo_privsep import capabilities
from oslo_privsep import priv_context

sys_admin_pctxt = priv_context.PrivContext(
    'cyborg_clone',
    cfg_section='privsep',
    pypath=__name__ + '.sys_admin_pctxt',
    # Vendor tools open device nodes and write sysfs and PCI config space.
    capabilities=[capabilities.CAP_SYS_ADMIN,
                  capabilities.CAP_DAC_OVERRIDE,
                  capabilities.CAP_DAC_READ_SEARCH,
                  capabilities.CAP_CHOWN,
                  capabilities.CAP_FOWNER],
)
