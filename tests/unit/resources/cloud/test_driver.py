"""resources.cloud against the simulator through openstacksdk: one Connection per
credential, errors translated, retries that never repeat a create blindly."""

import os
import uuid

import keystoneauth1.exceptions as ksa_exc
import pytest
import yaml
from openstack import exceptions as sdk_exc

from heat_taskflow.conf import CONF
from heat_taskflow.resources import cloud
from heat_taskflow.resources.types.openstack import common


def calls(client, op):
    return client.admin('GET', 'calls').get(op, 0)


def override(**values):
    for name, value in values.items():
        CONF.set_override(name, value, group='cloud')
    cloud.reset()


# -- connections ---------------------------------------------------------------------------

def test_one_connection_per_credential(client):
    admin = cloud.connection()
    assert cloud.connection() is admin
    override(cloud='simcloud-demo')
    demo = cloud.connection()
    assert demo is not admin
    assert cloud.connection() is demo
    assert demo.current_project['name'] == 'demo'
    override(cloud='simcloud')
    assert cloud.connection() is not admin          # reset() forgot it
    assert cloud.connection().current_project['name'] == 'admin'


def test_the_http_pool_is_sized_by_pool_size(client):
    override(pool_size=7)
    adapter = cloud.connection().session.session.adapters['http://']
    assert adapter._pool_maxsize == 7


def test_keystoneauth_retries_are_off_even_where_openstacksdk_defaults_them(client):
    config = cloud.connection().config
    for service in ('compute', 'image', 'network', 'block-storage', 'identity'):
        assert config.get_status_code_retries(service) == 0, service
        assert config.get_connect_retries(service) == 0, service
    # openstacksdk defaults image_status_code_retries to 5: one 503 is one call, not six.
    conn = cloud.connection()
    list(conn.image.images())                       # discovery done before counting
    client.faults(**{'images.list': {'fail_next': 1, 'failure_status': 503}})
    before = calls(client, 'images.list')
    with pytest.raises(Exception):  # noqa: B017 - whatever openstacksdk raises, not retried
        list(conn.image.images())
    assert calls(client, 'images.list') == before + 1


# -- errors --------------------------------------------------------------------------------

def test_404_names_the_request_and_keeps_the_clouds_message(conn):
    with pytest.raises(cloud.NotFound) as err:
        cloud.call(conn.compute.get_server, 'no-such-server')
    assert err.value.status == 404
    assert 'GET /compute/v2.1/servers/no-such-server' in err.value.message
    assert 'could not be found' in err.value.message.lower()


def test_409_is_a_conflict(conn):
    name = 'kp-%s' % uuid.uuid4().hex[:8]
    cloud.call(conn.compute.create_keypair, name=name)
    try:
        with pytest.raises(cloud.Conflict) as err:
            cloud.call(conn.compute.create_keypair, name=name)
        assert 'POST /compute/v2.1/os-keypairs' in err.value.message
        assert err.value.status == 409
    finally:
        cloud.call(conn.compute.delete_keypair, name)


@pytest.mark.parametrize('status, cls', [(403, cloud.Forbidden),
                                         (413, cloud.QuotaExceeded),
                                         (400, cloud.BadRequest),
                                         (500, cloud.TransientError),
                                         (503, cloud.TransientError)])
def test_statuses_map_to_the_hierarchy(client, conn, status, cls):
    override(retries=0)
    conn = cloud.connection()
    client.faults(**{'flavors.list': {'fail_next': 1, 'failure_status': status}})
    with pytest.raises(cls) as err:
        cloud.call(conn.compute.flavors)
    assert err.value.status == status
    assert 'GET /compute/v2.1/flavors' in err.value.message
    assert 'injected failure' in err.value.message


def test_a_nova_quota_refusal_is_quota_exceeded(client, conn):
    client.admin('PUT', 'quotas', {'keypairs': 0})
    with pytest.raises(cloud.QuotaExceeded) as err:
        cloud.call(conn.compute.create_keypair, name='kp-%s' % uuid.uuid4().hex[:8])
    assert 'quota' in err.value.message.lower()


def test_no_answer_in_time_is_transient(client):
    override(retries=0, api_timeout=0.3)
    conn = cloud.connection()
    list(conn.compute.flavors())                   # authenticated and discovered
    client.faults(**{'flavors.list': {'latency': 1.0}})
    with pytest.raises(cloud.TransientError) as err:
        cloud.call(conn.compute.flavors)
    assert 'no answer' in err.value.message


def test_a_403_without_a_quota_is_forbidden_not_quota_exceeded():
    policy = cloud.translate(sdk_exc.HttpException(
        message="Policy doesn't allow os_compute_api:servers:create to be performed.",
        http_status=403))
    quota = cloud.translate(sdk_exc.HttpException(
        message='Quota exceeded for instances: Requested 1, but already used 10 of 10 '
                'instances', http_status=403))
    assert type(policy) is cloud.Forbidden and policy.status == 403
    assert type(quota) is cloud.QuotaExceeded


def test_a_connection_error_is_transient():
    exc = cloud.translate(ksa_exc.ConnectFailure('Unable to establish connection'))
    assert isinstance(exc, cloud.TransientError)


def test_other_exceptions_are_left_alone():
    exc = KeyError('x')
    assert cloud.translate(exc) is exc


# -- retries -------------------------------------------------------------------------------

def test_call_retries_a_503_then_succeeds(client, conn):
    list(conn.compute.flavors())
    client.faults(**{'flavors.list': {'fail_next': 2, 'failure_status': 503}})
    before = calls(client, 'flavors.list')
    flavors = cloud.call(conn.compute.flavors)
    assert flavors and all(f.name for f in flavors)
    assert calls(client, 'flavors.list') == before + 3


def test_call_gives_up_after_retries(client, conn):
    override(retries=2)
    conn = cloud.connection()
    list(conn.compute.flavors())
    client.faults(**{'flavors.list': {'fail_next': 5, 'failure_status': 502}})
    before = calls(client, 'flavors.list')
    with pytest.raises(cloud.TransientError):
        cloud.call(conn.compute.flavors)
    assert calls(client, 'flavors.list') == before + 3


def _server_by_token(conn, token):
    found = list(conn.compute.servers(tags=token))
    return found[0] if found else None


def _create_server(conn, token):
    flavor = common.lookup(conn, 'flavor', 'm1.tiny')
    image = next(iter(conn.image.images()))
    return conn.compute.create_server(name='s-%s' % token[-8:], flavor_id=flavor.id,
                                      image_id=image.id, networks='none', tags=[token])


def test_find_or_create_adopts_what_a_lost_answer_made(client, conn):
    token = common.make_token(uuid.uuid4())
    client.faults(**{'servers.create': {'fail_next': 1, 'failure_mode': 'after'}})
    before = calls(client, 'servers.create')
    server = cloud.find_or_create(lambda: _server_by_token(conn, token),
                                  lambda: _create_server(conn, token))
    made = client.admin('GET', 'audit?token_prefix=%s&kind=servers' % token)['creations']
    assert len(made) == 1
    assert made[0]['id'] == server.id
    assert calls(client, 'servers.create') == before + 1      # found, not sent again
    cloud.call(conn.compute.delete_server, server.id)


def test_find_or_create_creates_again_when_the_lookup_finds_nothing(client, conn):
    token = common.make_token(uuid.uuid4())
    client.faults(**{'servers.create': {'fail_next': 1, 'failure_mode': 'before'}})
    server = cloud.find_or_create(lambda: _server_by_token(conn, token),
                                  lambda: _create_server(conn, token))
    made = client.admin('GET', 'audit?token_prefix=%s&kind=servers' % token)['creations']
    assert [m['id'] for m in made] == [server.id]
    cloud.call(conn.compute.delete_server, server.id)


def test_find_or_create_does_not_retry_a_refusal(client, conn):
    looked = []
    with pytest.raises(cloud.NotFound):
        cloud.find_or_create(lambda: looked.append(1),
                             lambda: conn.compute.get_server('no-such-server'))
    assert looked == []


# -- configuration -------------------------------------------------------------------------

def test_an_unknown_cloud_names_the_options(client):
    override(cloud='no-such-cloud')
    with pytest.raises(cloud.ConfigurationError) as err:
        cloud.connection()
    message = err.value.message
    assert 'no-such-cloud' in message
    assert '[cloud] cloud' in message and 'clouds_file' in message and 'OS_*' in message


def test_a_missing_clouds_file_is_named(client, tmp_path):
    override(clouds_file=str(tmp_path / 'nope.yaml'))
    with pytest.raises(cloud.ConfigurationError, match='nope.yaml does not exist'):
        cloud.connection()


def test_wrong_credentials_say_so(client, tmp_path):
    with open(client.clouds_file) as f:
        clouds = yaml.safe_load(f)
    clouds['clouds']['simcloud']['auth']['password'] = 'wrong'
    bad = tmp_path / 'clouds.yaml'
    bad.write_text(yaml.safe_dump(clouds))
    override(clouds_file=str(bad))
    with pytest.raises(cloud.CloudError) as err:
        cloud.call(lambda: list(cloud.connection().compute.flavors()))
    assert err.value.status == 401
    assert 'credentials' in err.value.message and '[cloud] cloud' in err.value.message


def test_a_neutron_quota_refusal_is_quota_exceeded(client, conn):
    client.admin('PUT', 'quotas', {'networks': 0})
    with pytest.raises(cloud.QuotaExceeded) as err:
        cloud.call(lambda: conn.network.create_network(name='q-%s' % uuid.uuid4().hex[:8]))
    assert 'POST /network/v2.0/networks' in err.value.message
    assert err.value.status == 409         # Neutron's OverQuota, told apart by its text
    assert 'quota' in err.value.message.lower()


def test_no_cloud_and_no_os_variables_says_what_to_set(client, tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith('OS_')]:
        monkeypatch.delenv(name)
    empty = tmp_path / 'clouds.yaml'
    empty.write_text('clouds: {}\n')
    CONF.clear_override('cloud', group='cloud')
    override(clouds_file=str(empty))
    with pytest.raises(cloud.ConfigurationError) as err:
        cloud.connection()
    assert 'auth_url' in err.value.message and 'OS_*' in err.value.message


# -- the client side's per-request costs ---------------------------------------------------

def test_proxy_variables_are_read_when_the_connection_is_made(client, monkeypatch):
    monkeypatch.setenv('HTTP_PROXY', 'http://proxy.invalid:3128')
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    cloud.reset()
    conn = cloud.connection()
    http = conn.session.session
    assert http.trust_env is False
    # The simulator is on 127.0.0.1, which NO_PROXY names: reached directly.
    monkeypatch.setenv('NO_PROXY', '')
    assert conn.network.get('/networks').status_code == 200
    settings = http.merge_environment_settings('http://cloud.invalid/x', {}, None, None, None)
    assert settings['proxies']['http'] == 'http://proxy.invalid:3128'
    settings = http.merge_environment_settings('http://127.0.0.1:1/x', {}, None, None, None)
    assert 'http' not in settings['proxies']
    cloud.reset()          # not the next test's connection


def test_the_token_is_reused_without_the_lock_until_it_is_invalidated(client, conn):
    auth = conn.session.auth
    first = auth.get_access(conn.session)
    assert auth.get_access(conn.session) is first
    auth.invalidate()
    assert auth.get_access(conn.session) is not first      # authenticated again
    assert conn.network.get('/networks').status_code == 200


def test_a_poll_reads_a_plain_dict_and_a_404_is_not_found(conn):
    from openstack.network.v2 import network as sdk_network
    net = conn.network.create_network(name='raw-%s' % uuid.uuid4().hex[:6])
    body = common.raw_get(conn.network, sdk_network.Network, net.id)
    assert isinstance(body, dict) and body['id'] == net.id and body['name'] == net.name
    conn.network.delete_network(net)
    with pytest.raises(cloud.NotFound):
        cloud.call(common.raw_get, conn.network, sdk_network.Network, net.id)


def test_openstacksdk_resources_still_see_every_field(conn):
    from openstack.compute.v2 import server as sdk_server
    body = {'id': 'x', 'name': 'n', 'status': 'ACTIVE', 'OS-EXT-STS:task_state': 'deleting',
            'metadata': {'a': 'b'}}
    for _ in range(2):         # the class's attributes are walked once, then remembered
        server = sdk_server.Server.existing(**body)
        assert (server.name, server.task_state, server.metadata) == ('n', 'deleting',
                                                                     {'a': 'b'})
        assert server.to_dict()['status'] == 'ACTIVE'
