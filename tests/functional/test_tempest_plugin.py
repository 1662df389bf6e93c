"""The Cyborg tempest plugin's API tests (PyPI cyborg-tempest-plugin 2.8.0
on tempest 47.0.0, in ``.venv-cloud``) against our running service.

A real Keystone (tests/fixtures/keystone.py) lists our API as the
``accelerator`` endpoint; the all-in-one (API with keystonemiddleware,
conductor and fake-driver agent) serves it. The whole suite runs twice:
with the plugin's default config, where every call is made as a cloud
admin and the SRBAC classes skip, and with ``[cyborg_policy]
enforce_new_defaults = True``, where each call is made as the least
persona the policy needs (project reader, member, manager, a service-role
user, a system-scoped admin). Every test must pass except
:data:`EXPECTED_FAILURES`, which must fail the way that entry says.
"""

import pytest
import requests

from tests.fixtures import tempest
from tests.fixtures.keystone import keystone_fixture  # noqa: F401
from tests.functional import processes

# One service and one Keystone for both runs: keep them on one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(__name__)]

# Not the name of any node the plugin's tests send: the API tests never
# bind, and a bind's hostname is Nova's node name anyway.
HOST = 'tempest-agent-host'
PLUGIN = 'cyborg_tempest_plugin.tests.api.'

# Every test of the plugin's API suite, by module and class.
SUITE = {
    'test_accelerator_request.TestAcceleratorRequestController': (
        'test_create_accelerator_request',
        'test_list_get_delete_accelerator_request'),
    'test_accelerator_request_negative.AcceleratorRequestNegativeTest': (
        'test_create_accelerator_request_device_profile_name_is_null',
        'test_create_accelerator_request_device_profile_name_non_exist',
        'test_create_accelerator_request_with_special_characters',
        'test_delete_non_existent_accelerator_request',
        'test_get_non_existent_accelerator_request'),
    'test_attribute_negative.AttributeNegativeTest': (
        'test_get_non_existent_attribute',),
    'test_attributes.TestAttributes': (
        'test_get_attribute', 'test_list_attributes'),
    'test_deployable_negative.DeployableNegativeTest': (
        'test_get_non_existent_deployable',),
    'test_deployables.TestDeployables': ('test_list_deployables',),
    'test_device.TestDevice': (
        'test_list_devices_filter_by_combine_args',
        'test_list_devices_filter_by_hostname',
        'test_list_devices_filter_by_non_exist_hostname',
        'test_list_devices_filter_by_non_exist_type',
        'test_list_devices_filter_by_non_exist_vendor',
        'test_list_devices_filter_by_type',
        'test_list_devices_filter_by_vendor',
        'test_list_get_device'),
    'test_device_negative.DeviceNegativeTest': (
        'test_get_non_existent_device',),
    'test_device_profile.TestDeviceProfileController': (
        'test_create_device_profile',
        'test_delete_device_profile_by_name',
        'test_delete_multiple_device_profile',
        'test_get_and_delete_device_profile'),
    'test_device_profile_negative.DeviceProfileNegativeTest': (
        'test_create_device_profile_conflict',
        'test_create_device_profile_name_is_null',
        'test_create_device_profile_name_to_long',
        'test_create_device_profile_server_fault',
        'test_delete_device_profile_name_null',
        'test_delete_multiple_non_existent_device_profile',
        'test_delete_non_existent_device_profile',
        'test_get_non_existent_device_profile'),
}
# Run only with enforce_new_defaults; otherwise each class skips whole.
SRBAC = {
    'test_srbac.TestSRBACServiceRole': (
        'test_service_create_and_delete_arq',),
    'test_srbac.TestSRBACAdminImpliedRoles': (
        'test_admin_can_list_attributes', 'test_admin_can_read_arqs',
        'test_admin_can_read_deployables', 'test_admin_can_read_devices',
        'test_admin_can_write_arqs', 'test_reader_can_list_arqs',
        'test_reader_can_list_device_profiles'),
    'test_srbac.TestSRBACScopeEnforcement': (
        'test_system_admin_cannot_list_devices',),
}

_PROFILES = PLUGIN + 'test_device_profile_negative.DeviceProfileNegativeTest.'
# test -> (why it fails, the exception tempest's client must have raised).
# Each asserts upstream's 500 (tempest's ServerFault) for a client mistake;
# we answer 4xx (API-CONTRACT.md: "client mistakes are 4xx, never 500").
EXPECTED_FAILURES = {
    _PROFILES + 'test_create_device_profile_name_is_null': (
        'an empty device profile name is a 400, not a 500',
        'tempest.lib.exceptions.BadRequest'),
    _PROFILES + 'test_create_device_profile_name_to_long': (
        'a 256-character device profile name is a 400, not a 500',
        'tempest.lib.exceptions.BadRequest'),
    _PROFILES + 'test_create_device_profile_server_fault': (
        'a device profile with the uuid of an existing one is a 409, '
        'not a 500',
        'tempest.lib.exceptions.Conflict'),
}


def ids_of(classes):
    return {PLUGIN + cls + '.' + test
            for cls, tests in classes.items() for test in tests}


# Why the SRBAC classes skip with the default config (the skip's reason).
SRBAC_SKIP = 'SRBAC tests require cyborg_policy.enforce_new_defaults = True'


def srbac_class_skips():
    """{the SRBAC classes' setUpClass "tests": their skip reason}."""
    return {'setUpClass (%s%s)' % (PLUGIN, cls): SRBAC_SKIP for cls in SRBAC}


@pytest.fixture(scope='module')
def service(keystone, tmp_path_factory):
    """Our all-in-one in ``keystone``'s catalog, its fake card reported;
    its base URL."""
    port = processes.free_port()
    url = 'http://127.0.0.1:%d' % port
    tempest.register_accelerator(keystone, url + '/v2')
    with processes.all_in_one(
            tmp_path_factory.mktemp('cyborg'), HOST,
            api={'auth_strategy': 'keystone', 'port': port},
            keystone_authtoken=keystone.authtoken_options()):
        headers = {'X-Auth-Token': keystone.token('admin')}

        def listed(collection):
            response = requests.get('%s/v2/%s' % (url, collection),
                                    headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            return response.json()[collection]

        # The device, deployable and attribute tests read the first one
        # listed (test_get_attribute skips when there is none).
        processes.wait_until(
            lambda: all(listed(c) for c in ('devices', 'deployables',
                                            'attributes')),
            message='the fake card reported')
        yield url


@pytest.fixture(scope='module')
def runner(keystone, service, tmp_path_factory):
    return tempest.Tempest(keystone, tmp_path_factory.mktemp('tempest'))


def check(results, expected_tests, expected_skips):
    """Fail listing every test that did not end as expected: each of
    ``expected_tests`` passed, or failed as :data:`EXPECTED_FAILURES` says
    it must; each of ``expected_skips`` ({test: reason}) skipped for that
    reason; nothing else ran."""
    problems = []
    for test in sorted((set(expected_tests) | set(expected_skips))
                       - set(results)):
        problems.append('%s: did not run' % test)
    for test, result in sorted(results.items()):
        if test in EXPECTED_FAILURES:
            reason, raised = EXPECTED_FAILURES[test]
            if result.status != 'fail':
                problems.append('%s: expected to fail (%s) but ended %s' % (
                    test, reason, result.status))
            elif raised not in result.text:
                problems.append('%s: expected to fail with %s (%s):\n%s' % (
                    test, raised, reason, result.text))
        elif test in expected_skips:
            if (result.status != 'skip'
                    or expected_skips[test] not in result.text):
                problems.append('%s: expected to skip (%s), ended %s:\n%s'
                                % (test, expected_skips[test],
                                   result.status, result.text))
        elif test not in expected_tests:
            problems.append('%s: unexpected test, ended %s:\n%s' % (
                test, result.status, result.text))
        elif result.status != 'success':
            problems.append('%s: %s\n%s' % (test, result.status,
                                            result.text))
    if problems:
        raise AssertionError('%d of %d plugin tests went wrong:\n\n%s' % (
            len(problems), len(results), '\n\n'.join(problems)))


def test_plugin_api_suite_with_its_default_config(runner):
    results = runner.run(enforce_new_defaults=False)

    check(results, ids_of(SUITE), srbac_class_skips())
    passed = {test for test, result in results.items()
              if result.status == 'success'}
    assert passed == ids_of(SUITE) - set(EXPECTED_FAILURES)


def test_plugin_api_suite_with_enforce_new_defaults(runner):
    results = runner.run(enforce_new_defaults=True)

    check(results, ids_of(SUITE) | ids_of(SRBAC), {})
    passed = {test for test, result in results.items()
              if result.status == 'success'}
    assert passed == (ids_of(SUITE) | ids_of(SRBAC)) - set(
        EXPECTED_FAILURES)


def test_check_fails_on_every_way_a_run_can_go_wrong():
    """The verdict itself, on made-up results: an expected failure that
    passes or fails otherwise, a failure, a test that did not run, an
    unexpected skip."""
    name_is_null, to_long, server_fault = sorted(EXPECTED_FAILURES)
    ok, missing, failed = sorted(ids_of(SUITE) - set(EXPECTED_FAILURES))[:3]
    expected = {ok, missing, failed, *EXPECTED_FAILURES}
    [(srbac_setup, reason)] = list(srbac_class_skips().items())[:1]
    results = {
        ok: tempest.Result('success', ''),
        failed: tempest.Result('fail', 'Traceback: Forbidden'),
        name_is_null: tempest.Result('success', ''),
        to_long: tempest.Result('fail', 'tempest.lib.exceptions.ServerFault'),
        server_fault: tempest.Result('fail', EXPECTED_FAILURES[server_fault][
            1]),
        srbac_setup: tempest.Result('skip', 'no reason'),
    }

    with pytest.raises(AssertionError) as raised:
        check(results, expected, {srbac_setup: reason})

    report = str(raised.value)
    assert '5 of 6 plugin tests went wrong' in report
    for line in ('%s: did not run' % missing,
                 '%s: fail\nTraceback: Forbidden' % failed,
                 '%s: expected to fail (%s) but ended success' % (
                     name_is_null, EXPECTED_FAILURES[name_is_null][0]),
                 '%s: expected to fail with %s' % (
                     to_long, EXPECTED_FAILURES[to_long][1]),
                 '%s: expected to skip (%s), ended skip' % (
                     srbac_setup, reason)):
        assert line in report
    assert server_fault not in report and ok + ':' not in report
