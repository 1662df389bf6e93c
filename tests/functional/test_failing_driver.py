"""One broken driver does not hide the others: an agent running the fake
and the Xilinx drivers, whose Xilinx tool goes missing, over RPC to a real
conductor and the database (all in the test process, ``fake://``), seen
through the API and ``cyborg-clone-status``'s check."""

import time

import pytest

from cyborg_clone.cmd import status
from cyborg_clone.common import context
from cyborg_clone.objects import host_inventory
from tests.fixtures import xilinx_host
from tests.functional import in_process

CTX = context.get_admin_context()


@pytest.fixture
def host(conf, tmp_path):
    host = xilinx_host.build(tmp_path / 'sys-root', tmp_path / 'bin',
                             tmp_path / 'xrt', conf.host)
    host.apply(conf)
    conf.set_override('enabled_drivers', ['fake', 'xilinx'], group='agent')
    return host


def break_xbutil(conf, tmp_path):
    conf.set_override('xbutil_path', str(tmp_path / 'gone' / 'xbutil'),
                      group='xilinx')


def deployables(api):
    return {d['name']: d['uuid'] for d in
            api.get('/v2/deployables', status=200).json['deployables']}


def report_and_wait(agent, condition):
    """Report, then wait until the conductor applied it (a cast)."""
    agent.report_once(CTX)
    for _ in range(250):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError('the report was not applied as expected')


def failures():
    return [(f.hostname, f.driver, f.reason)
            for f in host_inventory.driver_failures()]


def test_healthy_cards_appear_while_a_driver_fails_from_the_start(
        conf, host, tmp_path):
    break_xbutil(conf, tmp_path)
    xilinx_names = sorted(host.deployable_name(c) for c in host.ready_cards)
    with in_process.cloud(conf, with_agent=True) as (api, agent):
        report_and_wait(agent, lambda: failures())
        assert list(deployables(api)) == ['testhost_FakeDevice']
        [(hostname, driver, reason)] = failures()
        assert (hostname, driver) == ('testhost', 'xilinx')
        assert reason.startswith('cannot run %s' % (tmp_path / 'gone'))
        check = status.check_drivers(conf)
        assert check.code == status.Code.WARNING
        assert 'host testhost, driver xilinx (since ' in check.details

        # The tool is back: its cards appear, the failure is cleared.
        host.apply(conf)
        report_and_wait(agent, lambda: not failures())
        assert sorted(deployables(api)) == sorted(
            xilinx_names + ['testhost_FakeDevice'])
        assert status.check_drivers(conf).code == status.Code.SUCCESS


def test_a_driver_that_fails_later_keeps_its_cards(conf, host, tmp_path):
    with in_process.cloud(conf, with_agent=True) as (api, agent):
        report_and_wait(agent, lambda: len(deployables(api)) == 3)
        before = deployables(api)
        break_xbutil(conf, tmp_path)
        report_and_wait(agent, lambda: failures())
        # Same cards, same uuids: nothing deleted or recreated.
        assert deployables(api) == before
