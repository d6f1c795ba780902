"""heat_taskflow/simcloud/api.py over HTTP: objects, idempotency, faults, quotas, drift, audit."""

import pytest

from heat_taskflow.simcloud import api, storage


def test_crud_of_a_network(http):
    status, net, _ = http('POST', '/v1/networks', {'name': 'n1'})
    assert status == 201 and net['status'] == 'ACTIVE'
    assert http('GET', '/v1/networks/%s' % net['id'])[1]['name'] == 'n1'
    assert [n['id'] for n in http('GET', '/v1/networks?name=n1')[1]['networks']] == [net['id']]
    status, updated, _ = http('PUT', '/v1/networks/%s' % net['id'], {'name': 'n2'})
    assert status == 200 and updated['name'] == 'n2'
    assert http('DELETE', '/v1/networks/%s' % net['id'])[0] == 204
    status, payload, _ = http('GET', '/v1/networks/%s' % net['id'])
    assert status == 404 and payload['error']['code'] == 'NetworkNotFound'
    assert http('DELETE', '/v1/networks/%s' % net['id'])[0] == 404


def test_unknown_fields_and_collections_are_refused(http):
    status, payload, _ = http('POST', '/v1/networks', {'colour': 'red'})
    assert status == 400 and 'colour' in payload['error']['message']
    assert http('GET', '/v1/keypairs')[0] == 404


def test_create_with_a_known_token_returns_the_first_object(http):
    first = http('POST', '/v1/networks', {'name': 'n'}, {'Idempotency-Key': 'tok-1'})
    again = http('POST', '/v1/networks', {'name': 'n'}, {'Idempotency-Key': 'tok-1'})
    assert first[0] == 201 and again[0] == 200
    assert again[2].get('X-Idempotent-Replay') == 'true'
    assert again[1]['id'] == first[1]['id']
    audit = http('GET', '/admin/audit')[1]
    assert audit['summary']['creations'] == 1 and audit['summary']['duplicate_tokens'] == {}


def test_ports_get_addresses_from_the_subnet_and_give_them_back(http, network):
    net, subnet = network
    a = http.create('ports', {'network_id': net['id']})
    b = http.create('ports', {'network_id': net['id'],
                              'fixed_ips': [{'ip_address': '10.0.0.50'}]})
    assert a['fixed_ips'] == [{'subnet_id': subnet['id'], 'ip_address': '10.0.0.2'}]
    assert b['fixed_ips'][0]['ip_address'] == '10.0.0.50'
    status, payload, _ = http('POST', '/v1/ports', {
        'network_id': net['id'], 'fixed_ips': [{'ip_address': '10.0.0.50'}]})
    assert status == 409 and payload['error']['code'] == 'IpAddressAlreadyAllocated'
    http('DELETE', '/v1/ports/%s' % a['id'])
    assert http.create('ports', {'network_id': net['id']})['fixed_ips'][0]['ip_address'] == \
        '10.0.0.2'


def test_things_in_use_cannot_be_deleted(http, network):
    net, subnet = network
    assert http('DELETE', '/v1/networks/%s' % net['id'])[1]['error']['code'] == 'NetworkInUse'
    ext = http.create('networks', {'name': 'ext', 'router:external': True})
    http.create('subnets', {'network_id': ext['id'], 'cidr': '172.24.4.0/24'})
    router = http.create('routers', {'external_gateway_info': {'network_id': ext['id']}})
    iface = http.create('router_interfaces', {'router_id': router['id'],
                                              'subnet_id': subnet['id']})
    assert http('DELETE', '/v1/routers/%s' % router['id'])[0] == 409
    port = http.create('ports', {'network_id': net['id']})
    fip = http.create('floatingips', {'floating_network_id': ext['id'], 'port_id': port['id']})
    assert fip['router_id'] == router['id'] and fip['fixed_ip_address'] == \
        port['fixed_ips'][0]['ip_address']
    # The router's port on the subnet is not deleted through the port API.
    assert http('DELETE', '/v1/ports/%s' % iface['port_id'])[0] == 409
    assert http('DELETE', '/v1/router_interfaces/%s' % iface['id'])[0] == 409  # fip needs it
    server = http.create('servers', {'image': 'cirros', 'flavor': 'm1.tiny',
                                     'networks': [{'network': net['id']}]})
    volume = http.create('volumes', {'size': 1})
    http.create('volume_attachments', {'server_id': server['id'], 'volume_id': volume['id']})
    assert http('GET', '/v1/volumes/%s' % volume['id'])[1]['status'] == 'in-use'
    status, payload, _ = http('DELETE', '/v1/volumes/%s' % volume['id'])
    assert status == 400 and 'Volume status must be available' in payload['error']['message']
    # Deleting the server detaches the volume and deletes the port Nova made for it.
    assert http('DELETE', '/v1/servers/%s' % server['id'])[0] == 204
    assert http('GET', '/v1/volumes/%s' % volume['id'])[1]['status'] == 'available'
    assert http('GET', '/v1/ports?device_id=%s' % server['id'])[1]['ports'] == []


def test_floating_ip_needs_a_router_to_the_external_network(http, network):
    net, _ = network
    ext = http.create('networks', {'name': 'ext', 'router:external': True})
    http.create('subnets', {'network_id': ext['id'], 'cidr': '172.24.4.0/24'})
    port = http.create('ports', {'network_id': net['id']})
    status, payload, _ = http('POST', '/v1/floatingips', {'floating_network_id': ext['id'],
                                                           'port_id': port['id']})
    assert status == 404
    assert payload['error']['code'] == 'ExternalGatewayForFloatingIPNotFound'


def test_security_group_rules_are_set_as_a_whole(http):
    sg = http.create('security_groups', {'name': 'sg', 'rules': [
        {'protocol': 'tcp', 'port_range_min': 22, 'port_range_max': 22},
        {'protocol': 'icmp'}]}, token='sg-tok')
    assert len(sg['security_group_rules']) == 2
    status, sg2, _ = http('PUT', '/v1/security_groups/%s' % sg['id'], {'rules': [
        {'protocol': 'icmp'}, {'protocol': 'udp', 'port_range_min': 53,
                               'port_range_max': 53}]})
    assert status == 200
    assert sorted(r['protocol'] for r in sg2['security_group_rules']) == ['icmp', 'udp']
    icmp = [r for r in sg['security_group_rules'] if r['protocol'] == 'icmp'][0]
    assert icmp['id'] in [r['id'] for r in sg2['security_group_rules']]  # kept, not re-made
    rules = http('GET', '/admin/audit?kind=security_group_rules')[1]['creations']
    assert all(r['token'].startswith('sg-tok#rule-') for r in rules)


def test_build_time_keeps_a_server_building(http):
    http('PUT', '/admin/faults', {'servers.create': {'build_time': 3600}})
    server = http.create('servers', {'image': 'cirros', 'flavor': 'm1.tiny'})
    assert server['status'] == 'BUILD'
    http('PUT', '/admin/faults', {'servers.create': None})
    assert http.create('servers', {'image': 'cirros', 'flavor': 'm1.tiny'})['status'] == \
        'ACTIVE'


def test_fail_next_fails_exactly_that_many_calls_before_acting(http):
    http('PUT', '/admin/faults', {'networks.create': {'fail_next': 2}})
    results = [http('POST', '/v1/networks', {'name': 'n'})[0] for _ in range(3)]
    assert results == [503, 503, 201]
    assert len(http('GET', '/v1/networks')[1]['networks']) == 1
    assert http('GET', '/admin/calls')[1]['networks.create'] == 3


def test_failure_after_acting_loses_the_response_but_keeps_the_object(http):
    http('PUT', '/admin/faults', {'volumes.create': {'fail_next': 1, 'failure_mode': 'after',
                                                     'failure_status': 502}})
    status, payload, _ = http('POST', '/v1/volumes', {'size': 1}, {'Idempotency-Key': 'v'})
    assert status == 502 and payload['error']['code'] == 'InjectedFailure'
    status, volume, headers = http('POST', '/v1/volumes', {'size': 1},
                                   {'Idempotency-Key': 'v'})
    assert status == 200 and headers.get('X-Idempotent-Replay') == 'true'
    assert [c['id'] for c in http('GET', '/admin/audit')[1]['creations']] == [volume['id']]


def test_failure_rate_one_fails_every_call_of_the_kind_only(http):
    http('PUT', '/admin/faults', {'volumes.*': {'failure_rate': 1.0}})
    assert http('GET', '/v1/volumes')[0] == 503
    assert http('GET', '/v1/networks')[0] == 200
    http('DELETE', '/admin/faults')
    assert http('GET', '/v1/volumes')[0] == 200


def test_bad_behaviour_settings_are_refused(http):
    assert http('PUT', '/admin/faults', {'servers.boot': {}})[0] == 400
    assert http('PUT', '/admin/faults', {'servers.create': {'failure_rate': 2}})[0] == 400
    assert http('PUT', '/admin/faults', {'*': {'speed': 1}})[0] == 400


def test_latency_is_slept_before_acting():
    slept = []
    cloud = api.Cloud(storage.Store(':memory:'), defaults={'latency': 0.25},
                      sleep=slept.append)
    cloud.handle('PUT', '/admin/faults', body={'networks.create': {'latency': 1.5}})
    cloud.handle('POST', '/v1/networks', body={})
    cloud.handle('GET', '/v1/networks')
    assert slept == [1.5, 0.25]


def test_quota_limits_how_many_objects_of_a_kind_exist(http):
    http('PUT', '/admin/quotas', {'volumes': 2})
    assert [http('POST', '/v1/volumes', {'size': 1})[0] for _ in range(3)] == [201, 201, 403]
    quotas = http('GET', '/admin/quotas')[1]
    assert quotas['quotas'] == {'volumes': 2} and quotas['usage']['volumes'] == 2
    # A replay of a token that exists is not a new object: no quota is needed for it.
    first = http('GET', '/v1/volumes')[1]['volumes'][0]
    assert first['status'] == 'available'


def test_drift_changes_and_deletes_behind_the_engines_back(http):
    net = http.create('networks', {'name': 'n'}, token='stack/net/1')
    status, body, _ = http('PATCH', '/admin/networks/%s' % net['id'], {'name': 'changed'})
    assert status == 200 and body['name'] == 'changed'
    assert http('GET', '/v1/networks/%s' % net['id'])[1]['name'] == 'changed'
    assert http('DELETE', '/admin/networks/%s' % net['id'])[0] == 204
    assert http('GET', '/v1/networks/%s' % net['id'])[0] == 404
    creation = http('GET', '/admin/audit?token_prefix=stack/')[1]['creations'][0]
    assert creation['deleted_by'] == 'admin'


def test_audit_counts_duplicate_tokens_and_live_objects(http):
    a = http.create('volumes', {'size': 1}, token='dup')
    http('DELETE', '/v1/volumes/%s' % a['id'])
    http.create('volumes', {'size': 1}, token='dup')  # a new one: the first is gone
    http.create('volumes', {'size': 1})
    summary = http('GET', '/admin/audit')[1]['summary']
    assert summary == {'creations': 3, 'live': 2, 'tokens': 1, 'untokened': 1,
                       'duplicate_tokens': {'dup': 2}}


def test_state_survives_a_restart(db_path):
    from heat_taskflow.simcloud import server as server_mod
    from tests.unit.simcloud.conftest import Http

    first = server_mod.SimCloudServer(db_path=db_path).start()
    try:
        net = Http(first.url).create('networks', {'name': 'kept'}, token='t')
    finally:
        first.stop()
    second = server_mod.SimCloudServer(db_path=db_path).start()
    try:
        assert Http(second.url)('GET', '/v1/networks/%s' % net['id'])[1]['name'] == 'kept'
    finally:
        second.stop()


@pytest.mark.parametrize('body', [None, [1, 2]])
def test_create_needs_a_json_object(http, body):
    assert http('POST', '/v1/networks', body)[0] == 400
