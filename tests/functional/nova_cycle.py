"""nova's own Cyborg client (``nova.accelerator.cyborg``) against our API.

Runs only under the python of ``.venv-cloud`` (tools/install-cloud-venv),
where nova is installed; tests/functional/test_nova_client.py starts it once
per phase and asserts on the one JSON document it prints::

    .venv-cloud/bin/python tests/functional/nova_cycle.py \\
        --endpoint http://127.0.0.1:6666 groups my-profile

Each phase makes the client calls that nova-conductor or nova-compute make
at that point of a server's life, in the same order, with nova's own
configuration machinery building the connection (``[cyborg]`` adapter
options, ``[service_user]`` for the service token). Waiting for the
``accelerator-request-bound`` events is the caller's job: nova-compute
waits for them between ``build`` and ``resolved``.

The document always holds ``http``, every request the client sent (method,
path below the endpoint or a full URL for other hosts, status or connection
failure, and which auth and microversion headers went out), and ``error``:
null, or the nova exception the phase ended with, which nova would have
turned into a failed build. Anything else ends with a traceback and a
non-zero exit.
"""

import argparse
import json
import os
import sys
import tempfile
import urllib.parse
import warnings

import requests

# nova's dependencies warn on import (deprecation notices); the caller
# shows stderr when a phase fails and it should hold only what went wrong.
warnings.simplefilter('ignore')

from nova import context as nova_context  # noqa: E402
from nova import exception  # noqa: E402
from nova import objects  # noqa: E402
from nova.accelerator import cyborg  # noqa: E402
import nova.conf  # noqa: E402

CONF = nova.conf.CONF

SENT_HEADERS = ('X-Auth-Token', 'X-Service-Token', 'OpenStack-API-Version')


class HttpLog:
    """Every request any requests.Session of this process sends.

    keystoneauth builds its requests.Session deep inside nova's adapter
    code; hooking the class is the one way to see the wire without
    touching nova's objects.
    """

    def __init__(self, endpoint):
        self.endpoint = urllib.parse.urlsplit(endpoint)
        self.entries = []

    def install(self):
        send = requests.Session.send
        log = self

        def recording_send(session, request, **kwargs):
            try:
                response = send(session, request, **kwargs)
            except requests.RequestException as exc:
                log.entries.append(log.entry(request, None, exc))
                raise
            log.entries.append(log.entry(request, response))
            return response

        requests.Session.send = recording_send

    def entry(self, request, response, failure=None):
        url = urllib.parse.urlsplit(request.url)
        path = url.path
        prefix = self.endpoint.path.rstrip('/')
        if url.netloc != self.endpoint.netloc:
            # Keystone, when nova's service user logs in.
            path = '%s://%s%s' % (url.scheme, url.netloc, path)
        elif prefix and path.startswith(prefix):
            # Our API may be mounted under a prefix; paths below it read
            # like the API reference.
            path = path[len(prefix):] or '/'
        # Decoded, so that ``?arqs=a,b`` reads as nova wrote it.
        query = urllib.parse.unquote(url.query)
        return {'method': request.method,
                'path': path + ('?' + query if query else ''),
                'status': None if response is None else response.status_code,
                'failure': None if failure is None else str(failure),
                'headers': sorted(name for name in SENT_HEADERS
                                  if name in request.headers)}


def nova_conf(args):
    """The nova.conf sections nova-compute would have for Cyborg."""
    # nova finds Cyborg through the catalog unless [cyborg]endpoint_override
    # is set; a test has no catalog worth the name.
    sections = {'cyborg': {'endpoint_override': args.endpoint,
                           'timeout': args.timeout}}
    if args.service_token:
        # A fixed service token: enough for noauth, or for a Keystone whose
        # token the caller already holds.
        sections['service_user'] = {
            'send_service_user_token': True, 'auth_type': 'admin_token',
            'token': args.service_token}
    elif args.service_auth_url:
        # What a real deployment writes: nova's service user logs in to
        # Keystone itself.
        sections['service_user'] = {
            'send_service_user_token': True, 'auth_type': 'password',
            'auth_url': args.service_auth_url,
            'username': args.service_username,
            'password': args.service_password,
            'project_name': args.service_project_name,
            'user_domain_id': args.service_domain_id,
            'project_domain_id': args.service_domain_id}
    return sections


def configure(args, directory, sections=None):
    """Load nova's global config from a nova.conf written to
    ``directory``: ``sections`` (``{section: {option: value}}``), by
    default ``nova_conf(args)``.

    A file rather than set_override: keystoneauth registers an auth
    plugin's options (``token``, ``password``) only while it loads the
    plugin, so they cannot be overridden before, and a file is what nova
    itself reads.
    """
    if sections is None:
        sections = nova_conf(args)
    path = os.path.join(directory, 'nova.conf')
    with open(path, 'w') as conf_file:
        for section, options in sections.items():
            conf_file.write('[%s]\n' % section)
            for name, value in options.items():
                conf_file.write('%s = %s\n' % (name, value))
    CONF([], project='nova', default_config_files=[path],
         default_config_dirs=[])
    objects.register_all()


def request_context(args):
    """The user's context nova passes to the client: the token of the user
    who asked for the server, as keystonemiddleware gave it to nova-api."""
    return nova_context.RequestContext(
        user_id=args.user_id, project_id=args.project_id,
        auth_token=args.token, is_admin=False)


def request_group(group):
    return {'requester_id': group.requester_id,
            'resources': dict(group.resources),
            'required_traits': sorted(group.required_traits),
            'forbidden_traits': sorted(group.forbidden_traits),
            'use_same_provider': group.use_same_provider}


def phase_groups(context, args):
    """nova-api and nova-conductor: the profile's groups become numbered
    request groups of the request spec, for the scheduler."""
    groups = cyborg.get_device_profile_request_groups(
        context, args.device_profile)
    return {'request_groups': [request_group(g) for g in groups]}


def phase_build(context, args):
    """nova-conductor (_create_and_bind_arq_for_instance): create the ARQs,
    match each to the provider the scheduler picked for its group, start
    the bind; on a refused bind delete them again and give up."""
    client = cyborg.get_client(context)
    rg_rp_map = json.loads(args.rg_rp_map)
    arqs = client.create_arqs_and_match_resource_providers(
        args.device_profile, rg_rp_map)
    bindings = {arq['uuid']: {'hostname': args.hostname,
                              'device_rp_uuid': arq['device_rp_uuid'],
                              'instance_uuid': args.instance}
                for arq in arqs}
    result = {'arqs': arqs, 'bindings': bindings}
    try:
        client.bind_arqs(bindings)
    except exception.AcceleratorRequestBindingFailed as exc:
        # Seen before the cleanup nova does next, which removes them.
        result['after_failed_bind'] = [
            client.get_arq_by_uuid(uuid) for uuid in bindings]
        cyborg.get_client(context).delete_arqs_by_uuid(exc.arqs)
        raise PhaseFailed(exc, result) from exc
    return result


def phase_resolved(context, args):
    """nova-compute (_get_bound_arq_resources), once every bound event has
    arrived: the resolved ARQs of the instance, or all of them when the
    resolved ones are not the ones conductor created."""
    client = cyborg.get_client(context)
    expected = sorted(args.arqs.split(','))
    resolved = client.get_arqs_for_instance(args.instance,
                                            only_resolved=True)
    result = {'resolved': resolved, 'requeried': False}
    if sorted(arq['uuid'] for arq in resolved) != expected:
        result['requeried'] = True
        result['arqs'] = client.get_arqs_for_instance(args.instance)
    else:
        result['arqs'] = resolved
    return result


def phase_delete(context, args):
    """nova-compute deleting the server (_delete_instance).

    nova goes through compute_utils.delete_arqs_if_needed, which only logs
    a failure; the client call itself lets the failure reach the caller.
    """
    cyborg.get_client(context).delete_arqs_for_instance(args.instance)
    return {}


class PhaseFailed(Exception):
    """A nova exception that ends a phase, with what it saw until then."""

    def __init__(self, error, result):
        super().__init__(str(error))
        self.error = error
        self.result = result


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--endpoint', required=True,
                        help="Our API's root URL ([cyborg]endpoint_override)")
    parser.add_argument('--timeout', type=int, default=30,
                        help='Seconds per HTTP request ([cyborg]timeout).')
    parser.add_argument('--token', default='nova-cycle-user-token',
                        help="The user's token (any string under noauth).")
    parser.add_argument('--user-id', default='nova-cycle-user')
    parser.add_argument('--project-id', default='nova-cycle-project')
    service = parser.add_mutually_exclusive_group()
    service.add_argument('--service-token',
                         help='Send this as X-Service-Token.')
    service.add_argument('--service-auth-url',
                         help="Keystone URL for nova's service user.")
    parser.add_argument('--service-username', default='nova')
    parser.add_argument('--service-password')
    parser.add_argument('--service-project-name', default='service')
    parser.add_argument('--service-domain-id', default='default')

    phases = parser.add_subparsers(dest='phase', required=True)
    groups = phases.add_parser('groups', help=phase_groups.__doc__)
    groups.set_defaults(run=phase_groups)
    groups.add_argument('device_profile')
    build = phases.add_parser('build', help=phase_build.__doc__)
    build.set_defaults(run=phase_build)
    build.add_argument('device_profile')
    build.add_argument('instance')
    build.add_argument('hostname')
    build.add_argument('rg_rp_map',
                       help='JSON {requester_id: [rp_uuid]}, as placement '
                            'allocated')
    resolved = phases.add_parser('resolved', help=phase_resolved.__doc__)
    resolved.set_defaults(run=phase_resolved)
    resolved.add_argument('instance')
    resolved.add_argument('arqs', help='Comma-separated ARQ uuids')
    delete = phases.add_parser('delete', help=phase_delete.__doc__)
    delete.set_defaults(run=phase_delete)
    delete.add_argument('instance')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    http = HttpLog(args.endpoint)
    http.install()
    with tempfile.TemporaryDirectory(prefix='nova-cycle-') as directory:
        configure(args, directory)
        result = run_phase(args)
    result['http'] = http.entries
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')


def run_phase(args):
    context = request_context(args)
    try:
        result = args.run(context, args)
        result['error'] = None
    except PhaseFailed as failed:
        result = dict(failed.result, error=describe(failed.error))
    except exception.NovaException as exc:
        result = {'error': describe(exc)}
    return result


def describe(error):
    return {'type': type(error).__name__, 'message': str(error)}


if __name__ == '__main__':
    main()
