"""Placement sync with a real Placement under uWSGI's ``--http-socket``, which
closes each connection after its answer without saying so."""

import http.client
import logging
import time
import urllib.parse
import uuid

import pytest

from cyborg_clone.conductor import manager as conductor_manager
from tests.fixtures import placement as placement_fixture
from tests.fixtures.placement import placement_uwsgi_server  # noqa: F401
from tests.unit.conductor import test_placement_sync as syncing

# One server for the module: its tests stay on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

SYNC_LOGGER = 'cyborg_clone.conductor.placement_sync'
# Reports, each adding, changing or removing a card.
OPERATIONS = 50


@pytest.fixture
def hostname():
    return 'host-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def compute_node(placement_uwsgi, hostname):
    return placement_uwsgi.register_compute_node(hostname)


def manager(conf, placement, **overrides):
    placement_fixture.configure(conf, placement.url)
    for name, value in overrides.items():
        conf.set_override(name, value, group='placement')
    return conductor_manager.ConductorManager(conf, agent_api=object())


def failures(caplog):
    return [r.getMessage() for r in caplog.records
            if r.name == SYNC_LOGGER and r.levelno >= logging.WARNING]


def test_the_server_closes_each_connection_without_saying_so(
        placement_uwsgi):
    url = urllib.parse.urlsplit(placement_uwsgi.url)
    connection = http.client.HTTPConnection(url.hostname, url.port,
                                            timeout=10)
    try:
        connection.request('GET', '/')
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        # HTTP/1.1 without "Connection: close": a client keeps it...
        assert (response.version, response.will_close) == (11, False)
        # ...but the server has closed it: the socket reads its end.
        assert connection.sock.recv(1) == b''
    finally:
        connection.close()


def operations(hostname):
    """The cards of OPERATIONS successive reports of one host: each adds a
    card, changes one's accelerators or removes one."""
    cards = {}
    for step in range(OPERATIONS):
        if step % 3 == 0 or not cards:
            bus = '%02x' % (step + 1)
            cards[bus] = 2
        elif step % 3 == 1:
            bus = sorted(cards)[-1]
            cards[bus] = cards[bus] % 4 + 1
        else:
            cards.pop(sorted(cards)[0])
        yield {bus: syncing.card(hostname, bus, accelerators=count)
               for bus, count in cards.items()}


def test_reports_survive_the_closed_connections(
        conf, placement_uwsgi, compute_node, hostname, caplog):
    caplog.set_level(logging.INFO)
    # The defaults, as deployed.
    assert (conf.placement.connect_retries,
            conf.placement.connect_retry_delay) == (3, 0.1)
    conductor = manager(conf, placement_uwsgi)
    started = time.monotonic()
    for step, cards in enumerate(operations(hostname)):
        syncing.send(conductor, hostname, *cards.values())
        assert not failures(caplog), (step, failures(caplog))
    tree = placement_uwsgi.get('/resource_providers?in_tree=' + compute_node)
    held = {rp['uuid'] for rp in tree['resource_providers']} - {compute_node}
    assert held == {syncing.rp_of(card) for card in cards.values()}
    for card in cards.values():
        [fpga] = placement_uwsgi.inventories(syncing.rp_of(card)).values()
        assert (fpga['total'], fpga['reserved']) == (
            card.deployables[0].num_accelerators, 0)
    # The server did drop connections under the client: each drop was
    # resent by keystoneauth1, which says so.
    resent = [r for r in caplog.records
              if r.name.startswith('keystoneauth') and 'Retrying' in
              r.getMessage()]
    assert resent, 'no connection was dropped in %d reports (%.1f s)' % (
        OPERATIONS, time.monotonic() - started)


def test_without_connect_retries_reports_fail(
        conf, placement_uwsgi, compute_node, hostname, caplog):
    conductor = manager(conf, placement_uwsgi, connect_retries=0)
    # The same reports, until one meets a dropped connection.
    for cards in operations(hostname):
        syncing.send(conductor, hostname, *cards.values())
        if failures(caplog):
            break
    else:
        pytest.fail('%d reports without a dropped connection' % OPERATIONS)
    [failure] = failures(caplog)
    assert 'Placement could not be reached' in failure
    assert 'Connection aborted' in failure, failure
