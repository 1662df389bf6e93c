"""The request state hook: a request's context, and the policy decisions
made with it, exist once per request and only for requests that read
them."""

import pytest

from cyborg_clone.common import context

READER = {'X-User-Id': 'u', 'X-Project-Id': 'p1', 'X-Roles': 'reader'}


@pytest.fixture
def contexts_made(monkeypatch):
    made = []
    original = context.RequestContext.from_environ.__func__

    def counting(cls, environ, **kwargs):
        made.append(original(cls, environ, **kwargs))
        return made[-1]
    monkeypatch.setattr(context.RequestContext, 'from_environ',
                        classmethod(counting))
    return made


def test_version_documents_make_no_context(api, contexts_made):
    api.get('/', status=200)
    api.get('/v2', status=200)
    assert contexts_made == []


def test_a_request_makes_one_context_for_all_its_checks(api,
                                                        contexts_made):
    admin = dict(READER, **{'X-Roles': 'admin,member,reader'})
    created = api.post('/v2/accelerator_requests', headers=admin,
                       body={'device_profile_name': 'missing'})
    assert created.status_int == 404
    assert len(contexts_made) == 1
    # get_one checks the caller may read ARQs at all, then this one.
    api.get('/v2/accelerator_requests/00000000-0000-0000-0000-000000000000',
            headers=READER, status=404)
    assert len(contexts_made) == 2
    assert contexts_made[1].project_id == 'p1'
    assert contexts_made[1].roles == ['reader']


def test_the_context_is_the_callers(api, contexts_made):
    # A reader may list profiles; with no roles at all it may not.
    api.get('/v2/device_profiles', headers=READER, status=200)
    api.get('/v2/device_profiles', headers=dict(READER, **{'X-Roles': ''}),
            status=403)
    assert [c.roles for c in contexts_made] == [['reader'], []]
