"""One JSON request to a running API, error statuses returned not raised."""

import json
import urllib.error
import urllib.request


def request(method, url, body=None):
    """(status, decoded JSON or None) of one request to our API."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, json.loads(text) if text else None
