"""The API contract written as gabbi specifications (gabbits/*.yaml): each
request of a file is a test, run against the app in this process.

gabbi builds the tests (``driver.build_tests``, as Placement's loader
does); pytest runs them one by one. A file's requests build on each other
in one database, set up by the fixture the file names
(tests/fixtures/gabbi_app.py). A test run on its own first replays the
requests before it (gabbi's ``use_prior_test``), so any subset and any
xdist split of a file still runs each request in its context.
"""

import pathlib
import unittest

from gabbi import driver
import pytest

from tests.fixtures import gabbi_app

GABBITS = pathlib.Path(__file__).parent / 'gabbits'

# Under --dist loadgroup a file stays on one worker; split between workers,
# each replays the requests the other ran, which this spares.
pytestmark = pytest.mark.xdist_group(__name__)


def _requests():
    """(file suite, request test) for every request, files by name and
    each file's requests in order."""
    suites = driver.build_tests(
        str(GABBITS), unittest.TestLoader(), intercept=gabbi_app.wsgi_app,
        fixture_module=gabbi_app, test_loader_name=__name__,
        response_handlers=[gabbi_app.FaultHandler])
    found = [(suite, test) for suite in suites for test in suite]
    return sorted(found, key=lambda pair: pair[1].test_base_name)


REQUESTS = _requests()


class RunningSuite:
    """The fixtures of one YAML file at a time: each points the process's
    database engines at a database of its own."""

    def __init__(self):
        self.suite = None
        self.fixtures = []

    def enter(self, suite, fixture_classes):
        if suite is self.suite:
            return
        self.leave()
        self.suite = suite
        for fixture_class in fixture_classes:
            started = fixture_class()
            started.__enter__()
            self.fixtures.append(started)

    def leave(self):
        while self.fixtures:
            self.fixtures.pop().__exit__(None, None, None)
        self.suite = None


@pytest.fixture(scope='module')
def running_suite():
    running = RunningSuite()
    yield running
    running.leave()


@pytest.mark.parametrize(
    'suite, request_test', REQUESTS,
    ids=['%s/%s' % (test.test_base_name, test.test_data['name'])
         for _, test in REQUESTS])
def test_request(running_suite, suite, request_test):
    assert not request_test.has_run, (
        'ran already, replayed before a later request of its file')
    running_suite.enter(suite, request_test.fixtures)
    result = unittest.TestResult()
    request_test.run(result)
    for _, trace in result.errors + result.failures:
        pytest.fail(trace, pytrace=False)
    for _, reason in result.skipped:
        pytest.skip(reason)
    if result.expectedFailures:
        pytest.xfail(request_test.test_data['desc'])
    assert not result.unexpectedSuccesses, (
        'marked "xfail: true" in the YAML but passed')
    assert result.testsRun == 1
