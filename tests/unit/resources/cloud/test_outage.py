"""A cloud that does not answer for a while (a restart) against resources.cloud and the
plugin base: authentication and version discovery are retried like any call, a lookup
that gets no answer is no validation failure, and polls and deletes wait for the cloud
until the operation's deadline.

The outage is injected under keystoneauth, in the HTTP session of the shared Connection:
``refuse(conn, '/identity', 2)`` makes the next two requests whose path starts so fail as a
refused connection does (requests' ConnectionError, which keystoneauth turns into its
ConnectFailure), deterministically; everything else reaches the simulator.
"""

import http.server
import threading
import uuid

import pytest
import requests
import yaml

from heat_taskflow.conf import CONF
from heat_taskflow.resources import cloud
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.types.openstack import common, constraints
from tests.unit.resources.cloud.test_cloud_resource import MiniServer, make, run_delete
from tests.unit.resources.openstack.conftest import new_ctx


class Outage:
    """The requests refused so far, by ``METHOD path``."""

    def __init__(self):
        self.refused = []
        self.rules = []        # [path prefix, how many more, exception factory, method]

    def add(self, prefix, times, error, method=None):
        self.rules.append([prefix, times, error, method])

    def check(self, request):
        path = requests.utils.urlparse(request.url).path
        for rule in self.rules:
            prefix, times, error, method = rule
            if times and path.startswith(prefix) and method in (None, request.method):
                rule[1] -= 1
                self.refused.append('%s %s' % (request.method, path))
                raise error()


def _refused():
    return requests.exceptions.ConnectionError('[Errno 111] Connection refused')


def refuse(conn, prefix, times, error=_refused, method=None):
    """The next ``times`` requests of ``conn`` to a path starting with ``prefix`` (and of
    ``method``, when given) fail with ``error()`` before anything is sent; the Outage."""
    http = conn.session.session
    outage = getattr(http, 'outage', None)
    if outage is None:
        outage = http.outage = Outage()
        send = http.send

        def refusing(request, **kwargs):
            outage.check(request)
            return send(request, **kwargs)
        http.send = refusing
    outage.add(prefix, times, error, method)
    return outage


def override(**values):
    for name, value in values.items():
        CONF.set_override(name, value, group='cloud')


# -- authentication and version discovery --------------------------------------------------

@pytest.mark.parametrize('error', [
    _refused,
    lambda: requests.exceptions.ConnectionError(ConnectionResetError(104, 'reset by peer')),
    lambda: requests.exceptions.ReadTimeout('read timed out'),
], ids=['refused', 'reset', 'timeout'])
def test_authentication_while_the_cloud_is_down_is_retried(client, error):
    conn = cloud.connection()                 # made, not yet authenticated
    outage = refuse(conn, '/identity', 2, error)
    flavors = cloud.call(lambda: list(conn.compute.flavors()))
    assert flavors
    assert outage.refused == ['GET /identity', 'GET /identity']     # version discovery


def test_a_token_request_without_an_answer_is_retried(client):
    conn = cloud.connection()
    outage = refuse(conn, '/identity/v3/auth/tokens', 1, method='POST')
    assert cloud.call(lambda: list(conn.network.networks()))
    assert outage.refused == ['POST /identity/v3/auth/tokens']


def test_a_failed_authentication_leaves_the_connection_usable(client):
    override(retries=0)
    conn = cloud.connection()
    refuse(conn, '/identity', 1)
    with pytest.raises(cloud.TransientError, match='no answer from the cloud'):
        cloud.call(lambda: list(conn.compute.flavors()))
    assert cloud.connection() is conn
    assert cloud.call(lambda: list(conn.compute.flavors()))


def test_a_service_version_discovery_without_an_answer_is_retried(client):
    conn = cloud.connection()
    conn.session.get_token()
    # Glance's discovery: keystoneauth swallows the refusals and openstacksdk says "no
    # supported versions"; the proxy is not kept, the retry discovers again.
    outage = refuse(conn, '/image', 3)
    assert cloud.call(lambda: list(conn.image.images()))
    assert len(outage.refused) == 3
    assert conn.image.get_endpoint().rstrip('/').endswith('/image/v2')


@pytest.fixture
def answers_404():
    """An HTTP server answering 404 to everything: ``(its URL, the paths asked)``."""
    asked = []

    class NotHere(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), NotHere)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/identity' % server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_auth_url_that_answers_404_is_a_configuration_error_not_retried(client,
                                                                          tmp_path,
                                                                          answers_404):
    url, asked = answers_404
    with open(client.clouds_file) as f:
        clouds = yaml.safe_load(f)
    clouds['clouds']['simcloud']['auth']['auth_url'] = url
    bad = tmp_path / 'clouds.yaml'
    bad.write_text(yaml.safe_dump(clouds))
    override(clouds_file=str(bad))
    cloud.reset()
    conn = cloud.connection()
    with pytest.raises(cloud.ConfigurationError, match='auth_url'):
        cloud.call(lambda: list(conn.compute.flavors()))
    assert asked == ['/identity']                 # one discovery, not retries + 1


def test_translate_tells_an_outage_from_a_configuration_error():
    from keystoneauth1 import exceptions as ksa_exc

    def discovery_failure(cause):
        try:
            raise cause
        except Exception:  # noqa: BLE001 - as keystoneauth raises it, with its context
            try:
                raise ksa_exc.DiscoveryFailure('Could not find versioned identity endpoints')
            except ksa_exc.DiscoveryFailure as exc:
                return exc

    down = discovery_failure(ksa_exc.ConnectFailure('Connection refused'))
    busy = discovery_failure(ksa_exc.ServiceUnavailable())
    wrong = discovery_failure(ksa_exc.NotFound())
    tls = discovery_failure(ksa_exc.SSLError('certificate verify failed'))
    assert type(cloud.translate(down)) is cloud.TransientError
    assert type(cloud.translate(busy)) is cloud.TransientError
    assert type(cloud.translate(wrong)) is cloud.ConfigurationError
    assert type(cloud.translate(tls)) is cloud.ConfigurationError


# -- constraints ---------------------------------------------------------------------------

def test_a_constraint_lookup_rides_out_an_outage(client, conn):
    net = conn.network.create_network(name='o-%s' % uuid.uuid4().hex[:8])
    cloud.reset()
    fresh = cloud.connection()
    outage = refuse(fresh, '/identity', 1)
    refuse(fresh, '/network', 2)
    try:
        assert constraints.network(net.name) is True
        assert len(outage.refused) == 3
    finally:
        conn.network.delete_network(net.id)


def test_a_constraint_lookup_without_an_answer_is_not_a_validation_failure(client):
    override(retries=1)
    conn = cloud.connection()
    conn.session.get_token()
    refuse(conn, '/network', 2)
    with pytest.raises(cloud.TransientError):
        constraints.network('net-1')
    with pytest.raises(ValueError, match='the cloud has no network "net-1"'):
        constraints.network('net-1')            # the cloud answers again: a definite no


# -- polls and deletes ---------------------------------------------------------------------

def test_a_poll_without_an_answer_polls_on(client):
    override(retries=0)
    client.faults(**{'servers.create': {'build_time': 30}})
    res = make(new_ctx(deadline=100.0))
    res.handle_create()
    outage = refuse(cloud.connection(), '/compute', 1)
    assert res.check_create_complete(None) is False
    assert outage.refused == ['GET /compute/v2.1/servers/%s' % res.physical_id]
    client.admin('PATCH', 'servers/%s' % res.physical_id, {'status': 'ACTIVE'})
    assert res.check_create_complete(None) is True
    run_delete(res)


def test_a_cloud_silent_until_the_deadline_fails_the_wait_saying_so(client):
    override(retries=0)
    client.faults(**{'servers.create': {'build_time': 30}})
    ctx = new_ctx(deadline=10.0)
    res = make(ctx)
    res.handle_create()
    refuse(cloud.connection(), '/compute', 2)
    assert res.check_create_complete(None) is False
    ctx.advance(11)
    with pytest.raises(ResourceFailure, match='timed out') as err:
        res.check_create_complete(None)
    assert 'the cloud does not answer' in str(err.value)
    run_delete(res)


def test_a_delete_without_an_answer_is_sent_again_by_the_poll(client):
    override(retries=0)
    ctx = new_ctx(deadline=100.0)
    res = make(ctx)
    res.handle_create()
    server_id = res.physical_id
    outage = refuse(cloud.connection(), '/compute', 1, method='DELETE')
    cookie = res.handle_delete()
    assert outage.refused == ['DELETE /compute/v2.1/servers/%s' % server_id]
    refuse(cloud.connection(), '/compute', 1, method='GET')
    assert res.check_delete_complete(cookie) is False          # the resend's poll: no answer
    for _ in range(500):
        if res.check_delete_complete(cookie):
            break
    else:
        raise AssertionError('the server was not deleted')
    assert common.field(cloud.connection().compute.find_server(server_id), 'id') is None


def test_a_plugins_own_check_waits_for_the_cloud_too(client):
    override(retries=0)

    class Attached(MiniServer):
        def check_create_complete(self, cookie):
            with self.failing('CREATE'):
                cloud.call(lambda: list(self.conn.compute.flavors()))
            return True

    res = Attached('srv', {'name': 'srv'}, new_ctx(deadline=100.0))
    cloud.call(lambda: list(cloud.connection().compute.flavors()))
    refuse(cloud.connection(), '/compute', 1)
    assert res.check_create_complete(None) is False
    assert res.check_create_complete(None) is True


def test_other_cloud_errors_still_fail_a_poll(client):
    client.faults(**{'servers.create': {'build_time': 30}})
    res = make(new_ctx(deadline=100.0))
    res.handle_create()
    client.faults(**{'servers.get': {'fail_next': 1, 'failure_status': 403}})
    with pytest.raises(ResourceFailure, match='403'):
        res.check_create_complete(None)
    client.admin('DELETE', 'faults')
    run_delete(res)
