"""Nova's path through a cloud of real processes.

:func:`running_cloud` starts what a compute cloud has around us: a real
Keystone and a real Placement (from ``.venv-cloud``), a recording Nova, and
our API (with keystonemiddleware), conductor and three agents over a real
RabbitMQ (``multi_host``). :class:`NovaCycle` runs nova's own Cyborg
client code (tests/functional/nova_cycle.py, under ``.venv-cloud``'s
python) against it, one process per phase of a server's life, as nova's
conductor and compute are separate processes with their own clients.
"""

import contextlib
import dataclasses
import json
import os
import subprocess

from tests.fixtures import cloud
from tests.fixtures import keystone as keystone_fixture
from tests.fixtures import placement as placement_fixture
from tests.functional import multi_host
from tests.functional import processes
from tests.nova_recorder import NovaRecorder

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'nova_cycle.py')
EVENT = 'accelerator-request-bound'


class NovaCycle:
    """Runs nova_cycle.py phases against ``endpoint``; each returns the
    phase's JSON document.

    ``auth`` is nova_cycle.py's auth options; the default suits noauth,
    which ignores both tokens. Against Keystone use :meth:`with_keystone`.
    """

    def __init__(self, endpoint, auth=None):
        self.endpoint = endpoint
        self.auth = auth or ['--token', 'nova-user-token',
                             '--service-token', 'nova-service-token']

    @classmethod
    def with_keystone(cls, endpoint, keystone, persona):
        """nova acting for ``persona``: that user's token, and a service
        token nova's own service user logs in for, as nova's
        [service_user] section makes it do."""
        user, _, _ = keystone_fixture.PERSONAS['nova']
        return cls(endpoint, [
            '--token', keystone.token(persona),
            '--user-id', keystone.user_ids[persona],
            '--project-id', keystone.project_ids[
                keystone_fixture.PERSONAS[persona][1]],
            '--service-auth-url', keystone.auth_url,
            '--service-username', user,
            '--service-password', keystone_fixture.PASSWORD,
            '--service-project-name', keystone_fixture.SERVICE_PROJECT])

    def run(self, phase, *args):
        # -I: nova must see neither this venv's PYTHON* variables nor
        # tests/functional (the script's directory) on its sys.path.
        result = subprocess.run(
            [cloud.PYTHON, '-I', SCRIPT, '--endpoint', self.endpoint,
             *self.auth, phase, *args],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (
            'nova_cycle.py %s failed:\n%s' % (phase, result.stderr))
        return json.loads(result.stdout)


@dataclasses.dataclass
class Cloud:
    api: multi_host.Api          # as the cloud admin, with a real token
    url: str
    conductor: processes.Process
    keystone: keystone_fixture.Keystone
    placement: placement_fixture.Placement
    nova: NovaRecorder
    compute_nodes: dict          # host name -> its provider's uuid


@contextlib.contextmanager
def running_cloud(tmp_path, rabbitmq_url, keystone, placement):
    """The cloud, with each fixture host registered in Placement as
    nova-compute does before our agents report."""
    compute_nodes = {host: placement.register_compute_node(host)
                     for host in multi_host.HOSTS}
    with contextlib.ExitStack() as stack:
        nova = stack.enter_context(NovaRecorder())
        api, conductor, _ = multi_host.start(
            stack, tmp_path, rabbitmq_url, {
                'api': {'auth_strategy': 'keystone'},
                'keystone_authtoken': keystone.authtoken_options(),
                'placement': placement_fixture.options(placement.url),
                'nova': {'auth_type': 'none', 'endpoint_override': nova.url,
                         'event_retry_delay': 0}})
        api.headers = {'X-Auth-Token': keystone.token('admin')}
        yield Cloud(api, api.url, conductor, keystone, placement, nova,
                    compute_nodes)


def offered(placement, query):
    """What ``GET /allocation_candidates?<query>`` offers, as nova's
    scheduler reads it: [(provider uuid, its compute node's name)]."""
    answer = placement.get('/allocation_candidates?' + query)
    summaries = answer['provider_summaries']
    names = {}
    for rp_uuid in summaries:
        root = summaries[rp_uuid]['root_provider_uuid']
        names[rp_uuid] = placement.get('/resource_providers/' + root)['name']
    return [(rp_uuid, names[rp_uuid])
            for request in answer['allocation_requests']
            for rp_uuid in request['allocations']]


def events_for(nova, instance):
    return [e for e in nova.events if e['server_uuid'] == instance]
