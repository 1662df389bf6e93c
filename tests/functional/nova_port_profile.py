"""nova's own code taking a SmartNIC port through Placement, our API and
Neutron's binding profile.

Runs only under the python of ``.venv-cloud`` (nova 34);
tests/functional/test_smartnic_ports.py starts it once per phase, as
nova's services are separate processes, and reads the one JSON document it
prints. Each phase runs the nova functions that service runs for a port of
vnic type ``accelerator-direct`` whose ``device_profile`` is DP; only
Neutron is missing, so its port is a UUID and a ``{"port": {}}`` request
body:

``schedule DP PORT INSTANCE COMPUTE_NODE``
    nova-api turns the profile into the port's request group
    (``device_profile_0<port>``), nova-scheduler asks Placement for
    allocation candidates (``ResourceRequest``, the report client), keeps
    those on COMPUTE_NODE (the host its filters chose) and claims the
    first for INSTANCE.
``build DP PORT INSTANCE NODE ALLOCATION_REQUEST``
    nova-conductor maps the request group to its provider from the claimed
    allocation request's ``mappings`` and runs
    ``_create_and_bind_arq_for_instance``: the port's ARQ is created from
    the profile name alone, matched to the group by its
    ``device_profile_group_id`` and bound with hostname NODE.
``attach PORT INSTANCE ARQ``
    nova-compute reads the instance's resolved ARQs, splits off the
    port's (``_split_network_arqs``) and builds the port's binding
    profile from it (``_populate_neutron_binding_profile``, which calls
    ``get_arq_pci_device_profile``).
``delete INSTANCE``
    nova-compute deleting the server deletes its ARQs.

Connection options and the document's ``http`` and ``error`` keys are
those of tests/functional/nova_cycle.py, whose machinery this reuses;
``--placement`` is Placement's URL (noauth2, token ``admin``).
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile

# nova_cycle.py silences nova's import warnings before importing it.
_SPEC = importlib.util.spec_from_file_location(
    'nova_cycle', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               'nova_cycle.py'))
nova_cycle = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(nova_cycle)

from nova import objects  # noqa: E402
from nova.accelerator import cyborg  # noqa: E402
from nova.compute import manager as compute_manager  # noqa: E402
from nova.conductor import manager as conductor_manager  # noqa: E402
from nova.network import neutron  # noqa: E402
from nova.scheduler import utils as scheduler_utils  # noqa: E402
from nova.scheduler.client import report  # noqa: E402

# What the flavor asks of the compute node itself.
FLAVOR = {'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'ephemeral_gb': 0,
          'swap': 0}


class Conductor:
    """nova-conductor's own methods, on a stand-in holding what they
    read (nothing of self but each other)."""

    manager = conductor_manager.ComputeTaskManager
    _create_and_bind_arq_for_instance = \
        manager._create_and_bind_arq_for_instance
    _create_and_bind_arqs = manager._create_and_bind_arqs
    _create_arqs_for_ports = manager._create_arqs_for_ports


class Selection:
    """What the scheduler hands the conductor: the claimed allocation
    request, as JSON (``objects.Selection.allocation_request``)."""

    def __init__(self, allocation_request):
        self.allocation_request = json.dumps(allocation_request)


def port_request_groups(context, args):
    """nova-api (neutron.API.create_resource_requests) for a port of an
    accelerator vnic type: at most one device, one group owned by the
    port."""
    client = cyborg.get_client(context)
    dp_groups = client.get_device_profile_groups(args.device_profile)
    devices = cyborg.get_device_amount_of_dp_groups(dp_groups)
    return devices, client.get_device_request_groups(dp_groups,
                                                     owner=args.port)


def request_spec(groups):
    return objects.RequestSpec(
        flavor=objects.Flavor(extra_specs={}, **FLAVOR),
        requested_resources=groups,
        request_level_params=objects.RequestLevelParams(), is_bfv=False)


def instance(args):
    return objects.Instance(uuid=args.instance,
                            flavor=objects.Flavor(extra_specs={}, **FLAVOR))


def requested_networks(args, arq_uuid=None):
    return objects.NetworkRequestList(objects=[objects.NetworkRequest(
        port_id=args.port, device_profile=args.device_profile,
        arq_uuid=arq_uuid)])


def phase_schedule(context, args):
    devices, groups = port_request_groups(context, args)
    resources = scheduler_utils.ResourceRequest.from_request_spec(
        request_spec(groups))
    client = report.SchedulerReportClient()
    candidates, summaries, version = client.get_allocation_candidates(
        context, resources)
    on_host = [c for c in candidates if all(
        summaries[rp]['root_provider_uuid'] == args.compute_node
        for rp in c['allocations'])]
    chosen = on_host[0] if on_host else None
    claimed = chosen is not None and client.claim_resources(
        context, args.instance, chosen, context.project_id, context.user_id,
        version)
    return {'devices': devices,
            'request_groups': [nova_cycle.request_group(g) for g in groups],
            'query': resources.to_querystring(),
            'allocation_request': chosen, 'claimed': bool(claimed)}


def phase_build(context, args):
    _, groups = port_request_groups(context, args)
    spec = request_spec(groups)
    scheduler_utils.fill_provider_mapping(
        spec, Selection(json.loads(args.allocation_request)))
    networks = requested_networks(args)
    accel_uuids = Conductor()._create_and_bind_arq_for_instance(
        context, instance(args), args.hostname, spec, networks)
    client = cyborg.get_client(context)
    return {'group_mapping': spec.get_request_group_mapping(),
            'accel_uuids': accel_uuids,
            'port_arq_uuid': networks[0].arq_uuid,
            'arqs': [client.get_arq_by_uuid(u) for u in accel_uuids]}


def phase_attach(context, args):
    arqs = cyborg.get_client(context).get_arqs_for_instance(
        args.instance, only_resolved=True)
    spec_arqs, port_arqs = compute_manager.ComputeManager._split_network_arqs(
        None, arqs, requested_networks(args, args.arq))
    body = {'port': {}}
    neutron.API._populate_neutron_binding_profile(
        None, instance(args), None, body, port_arqs.get(args.arq))
    return {'spec_arqs': sorted(spec_arqs), 'port_arqs': sorted(port_arqs),
            'binding_profile': body['port'].get('binding:profile')}


def phase_delete(context, args):
    cyborg.get_client(context).delete_arqs_for_instance(args.instance)
    return {}


def configure(args, directory):
    """nova.conf as nova_cycle.py writes it, with nova's [placement]."""
    sections = nova_cycle.nova_conf(args)
    sections['placement'] = {'auth_type': 'admin_token', 'token': 'admin',
                             'endpoint': args.placement,
                             'endpoint_override': args.placement}
    nova_cycle.configure(args, directory, sections)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--endpoint', required=True)
    parser.add_argument('--placement', required=True)
    parser.add_argument('--timeout', type=int, default=30)
    parser.add_argument('--token', default='nova-port-user-token')
    parser.add_argument('--user-id', default='nova-port-user')
    parser.add_argument('--project-id', default='nova-port-project')
    parser.add_argument('--service-token', default='nova-service-token')
    parser.set_defaults(service_auth_url=None)
    phases = parser.add_subparsers(dest='phase', required=True)
    for name, run, arguments in (
            ('schedule', phase_schedule,
             ('device_profile', 'port', 'instance', 'compute_node')),
            ('build', phase_build,
             ('device_profile', 'port', 'instance', 'hostname',
              'allocation_request')),
            ('attach', phase_attach, ('port', 'instance', 'arq')),
            ('delete', phase_delete, ('instance',))):
        phase = phases.add_parser(name)
        phase.set_defaults(run=run, device_profile=None)
        for argument in arguments:
            phase.add_argument(argument)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    http = nova_cycle.HttpLog(args.endpoint)
    http.install()
    with tempfile.TemporaryDirectory(prefix='nova-port-') as directory:
        configure(args, directory)
        result = nova_cycle.run_phase(args)
    result['http'] = http.entries
    json.dump(result, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
