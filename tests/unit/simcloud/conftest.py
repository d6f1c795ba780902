"""A simcloud server in a thread (its database in a temporary file) and a JSON HTTP helper."""

import http.client as http_client
import json
import urllib.parse

import openstack
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


def connect(simcloud, user='admin'):
    """An openstacksdk Connection to the simulator as ``user`` (admin or demo)."""
    return openstack.connect(auth_url=simcloud.url + '/identity', username=user,
                             password='password', project_name=user,
                             user_domain_name='Default', project_domain_name='Default')


@pytest.fixture
def conn(simcloud):
    return connect(simcloud, 'admin')


@pytest.fixture
def demo(simcloud):
    return connect(simcloud, 'demo')


@pytest.fixture
def cirros(conn):
    return conn.image.find_image('cirros-0.6.2-x86_64-disk', ignore_missing=False)


@pytest.fixture
def net(conn):
    """A network with a /24 subnet: (network, subnet)."""
    network = conn.network.create_network(name='private-net')
    subnet = conn.network.create_subnet(network_id=network.id, cidr='10.0.0.0/24',
                                        ip_version=4)
    return network, subnet


def faults(http, settings):
    """PUT /admin/faults (asserting success)."""
    status, payload, _ = http('PUT', '/admin/faults', settings)
    assert status == 200, payload
    return payload


class Api(Http):
    """Http with a token of ``user`` sent on every call; ``volumes`` is Cinder's base path."""

    def __init__(self, url, user='admin'):
        super().__init__(url)
        status, body, headers = self('POST', '/identity/v3/auth/tokens', {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'name': 'Default'}, 'password': 'password'}}}}})
        assert status == 201, body
        self.token = headers['X-Subject-Token']
        self.volumes = '/volume/v3/%s/volumes' % body['token']['project']['id']

    def __call__(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if getattr(self, 'token', None):
            headers.setdefault('X-Auth-Token', self.token)
        return super().__call__(method, path, body, headers)


@pytest.fixture
def api(simcloud):
    return Api(simcloud.url)
