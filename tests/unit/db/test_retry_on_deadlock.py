"""db_api.retry_on_deadlock: runs again only what the database rolled
back as a deadlock victim."""

import pymysql
import pytest
import sqlalchemy as sa

from cyborg_clone.db import api as db_api


def _error(code):
    return sa.exc.OperationalError('UPDATE ...', {},
                                   pymysql.err.OperationalError(code, 'x'))


def test_a_deadlock_victim_is_run_again():
    calls = []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise _error(1213)
        return 'done'
    assert db_api.retry_on_deadlock(work) == 'done'
    assert len(calls) == 3


def test_other_database_errors_are_not_retried():
    calls = []

    def work():
        calls.append(1)
        raise _error(1062)  # duplicate key
    with pytest.raises(sa.exc.OperationalError):
        db_api.retry_on_deadlock(work)
    assert len(calls) == 1


def test_a_deadlock_every_time_gives_up_after_the_attempts():
    calls = []

    def work():
        calls.append(1)
        raise _error(1213)
    with pytest.raises(sa.exc.OperationalError):
        db_api.retry_on_deadlock(work, attempts=3)
    assert len(calls) == 3
