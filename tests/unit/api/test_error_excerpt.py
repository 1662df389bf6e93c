"""Error bodies quote at most a short excerpt of what the client sent."""

import json

import pytest

from cyborg_clone.api import errors
from tests.conftest import error_of

LONG = 'z' * 20000


@pytest.mark.parametrize('method, path, body', [
    ('GET', '/v2/accelerator_requests/' + LONG, None),
    ('GET', '/v2/devices?filters=x&limit=' + LONG, None),
    ('POST', '/v2/device_profiles', ['x'] * 5000),
    ('PATCH', '/v2/accelerator_requests', {'a': LONG}),
])
def test_an_error_quotes_a_short_excerpt_of_the_request(api, method, path,
                                                        body):
    response = api.request(method, path, body=body)
    assert response.status_int == 400
    message = error_of(response)
    assert len(message) <= errors.MESSAGE_LIMIT + 3
    assert len(response.body) < 1000


def test_a_short_message_is_left_whole():
    fault = json.loads(json.loads(errors.error_body(400, 'short'))[
        'error_message'])
    assert fault['faultstring'] == 'short'
