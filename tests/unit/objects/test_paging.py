"""Paging lists by marker (objects/base.py), on every database backend:
the row-value comparison it builds, ``(sort_key, id) > (?, ?)``, must page
through every row once whatever the database."""

import pytest

from cyborg_clone.common import exception
from cyborg_clone.objects import base
from cyborg_clone.objects import device_profile
from tests.fixtures import databases

DB_BACKENDS = databases.BACKENDS

Profile = device_profile.DeviceProfile

# Names sharing sort values, so that ties are broken by id.
NAMES = ['b', 'a', 'c', 'a2', 'b2', 'c2', 'a3']


def walk(sort_key, sort_dir, limit=2):
    """Every profile, page by page, as the API pages them."""
    seen, marker = [], None
    while True:
        page = Profile.list(page=base.Page(limit=limit, marker=marker,
                                           sort_key=sort_key,
                                           sort_dir=sort_dir))
        seen.extend(p.name for p in page)
        if len(page) < limit:
            return seen
        marker = page[-1].uuid


@pytest.fixture
def profiles(conf):
    for name in NAMES:
        Profile.create(name, [{'resources:FPGA': '1'}])


@pytest.mark.parametrize('sort_dir', ['asc', 'desc'])
def test_pages_by_name_cover_every_row_once_in_order(profiles, sort_dir):
    expected = sorted(NAMES, reverse=sort_dir == 'desc')
    assert walk('name', sort_dir) == expected


def test_pages_by_created_at_break_ties_by_id(profiles):
    # Created within the same second: MySQL's DATETIME keeps no fraction,
    # so this is all ties there.
    assert walk('created_at', 'asc', limit=3) == NAMES


def test_an_unknown_marker_is_invalid(profiles):
    with pytest.raises(exception.Invalid):
        Profile.list(page=base.Page(limit=2, marker='nosuch'))
