"""A simcloud server in a thread (its database in a temporary file) and a JSON HTTP helper."""

import http.client as http_client
import json
import urllib.parse

import pytest

from heat_taskflow.simcloud import server as server_mod


class Http:
    """Plain HTTP calls to a simcloud URL: ``(status, payload, headers)``."""

    def __init__(self, url):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port

    def __call__(self, method, path, body=None, headers=None):
        conn = http_client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body)
            conn.request(method, path, body=data, headers=dict(headers or {}))
            response = conn.getresponse()
            raw = response.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode()
            return response.status, payload, dict(response.headers)
        finally:
            conn.close()


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / 'simcloud.sqlite')


@pytest.fixture
def simcloud(db_path):
    """A running SimCloudServer over a fresh database file."""
    server = server_mod.SimCloudServer(db_path=db_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http(simcloud):
    return Http(simcloud.url)
