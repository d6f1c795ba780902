"""Neutron v2.0 of the simulator (simcloud/network.py), through unmodified openstacksdk.

``conn`` (admin), ``demo`` and ``net`` (a network with a 10.0.0.0/24 subnet) are conftest's.
"""

import pytest
from openstack import exceptions as sdk_exc


def test_a_network_carries_tags_and_is_found_by_them(conn):
    tagged = conn.network.create_network(name='a', tags=['htf-1', 'blue'])
    conn.network.create_network(name='b', tags=['blue'])
    assert sorted(tagged.tags) == ['blue', 'htf-1']
    assert tagged.project_id == conn.current_project_id and tagged.revision_number == 0
    assert [n.name for n in conn.network.networks(tags='htf-1')] == ['a']
    assert sorted(n.name for n in conn.network.networks(any_tags='htf-1,blue')) == ['a', 'b']
    assert [n.name for n in conn.network.networks(not_tags='htf-1', tags='blue')] == ['b']
    conn.network.set_tags(tagged, ['red'])
    assert conn.network.get_network(tagged.id).tags == ['red']
    conn.network.add_tag(tagged, 'green')
    conn.network.remove_tag(tagged, 'red')
    again = conn.network.get_network(tagged.id)
    assert again.tags == ['green'] and again.revision_number == 3
    assert list(conn.network.networks(tags='htf-1')) == []


def test_ports_take_an_address_from_the_first_subnet_and_filter(conn, net):
    network, subnet = net
    bare = conn.network.create_network(name='bare')
    assert conn.network.create_port(network_id=bare.id).fixed_ips == []
    port = conn.network.create_port(network_id=network.id, tags=['htf-p'],
                                    device_id='dev-1', device_owner='compute:nova')
    assert port.fixed_ips == [{'subnet_id': subnet.id, 'ip_address': '10.0.0.2'}]
    default = conn.network.find_security_group('default', ignore_missing=False,
                                               project_id=conn.current_project_id)
    assert port.security_group_ids == [default.id]
    assert [p.id for p in conn.network.ports(tags='htf-p')] == [port.id]
    assert [p.id for p in conn.network.ports(device_id='dev-1')] == [port.id]
    assert [p.id for p in conn.network.ports(
        fixed_ips=['subnet_id=%s' % subnet.id])] == [port.id]
    assert [p.id for p in conn.network.ports(fixed_ips=['ip_address=10.0.0.2'])] == [port.id]
    assert list(conn.network.ports(fixed_ips=['ip_address=10.0.0.9'])) == []
    assert [n.name for n in conn.network.networks(is_router_external=True)] == ['public']


def test_in_use_deletes_are_refused_with_neutrons_messages(conn, net):
    network, subnet = net
    conn.network.create_port(network_id=network.id)
    with pytest.raises(sdk_exc.ConflictException,
                       match='One or more ports have an IP allocation from this subnet'):
        conn.network.delete_subnet(subnet)
    with pytest.raises(sdk_exc.ConflictException, match='NetworkInUse|in use on the network'):
        conn.network.delete_network(network)
    with pytest.raises(sdk_exc.NotFoundException, match='Network nope could not be found'):
        conn.network.get_network('nope')


def test_router_interfaces_and_floating_ips(conn, net):
    network, subnet = net
    public = conn.network.find_network('public')
    router = conn.network.create_router(name='r', external_gateway_info={
        'network_id': public.id})
    gateway_ip = router.external_gateway_info['external_fixed_ips'][0]['ip_address']
    assert gateway_ip.startswith('203.0.113.')
    port = conn.network.create_port(network_id=network.id)
    with pytest.raises(sdk_exc.NotFoundException, match='is not reachable from subnet'):
        conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    info = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert info['subnet_id'] == subnet.id and info['network_id'] == network.id
    assert info['id'] == router.id and info['subnet_ids'] == [subnet.id]
    iface = conn.network.get_port(info['port_id'])
    assert iface.device_owner == 'network:router_interface'
    assert iface.fixed_ips[0]['ip_address'] == '10.0.0.1'
    with pytest.raises(sdk_exc.BadRequestException,
                       match='Router already has a port on subnet %s' % subnet.id):
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id,
                                 tags=['htf-f'])
    assert fip.router_id == router.id and fip.fixed_ip_address == port.fixed_ips[0][
        'ip_address'] and fip.status == 'ACTIVE'
    with pytest.raises(sdk_exc.ConflictException, match='required by one or more floating'):
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    fip = conn.network.update_ip(fip, port_id=None)
    assert fip.port_id is None and fip.router_id is None
    with pytest.raises(sdk_exc.ConflictException, match='still has ports'):
        conn.network.delete_router(router)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    with pytest.raises(sdk_exc.NotFoundException, match='Port %s could not be found'
                       % info['port_id']):
        conn.network.get_port(info['port_id'])
    assert list(conn.network.ports(device_id=router.id)) == []
    conn.network.delete_router(router)


def test_an_interface_port_is_deleted_directly_only_once_its_router_is_gone(conn, net,
                                                                           http):
    # Neutron's prevent_l3_port_deletion: refused while the router exists.
    router = conn.network.create_router(name='r')
    port_id = conn.network.add_interface_to_router(router, subnet_id=net[1].id)['port_id']
    with pytest.raises(sdk_exc.ConflictException, match='cannot be deleted directly'):
        conn.network.delete_port(port_id)
    assert http('DELETE', '/admin/routers/%s' % router.id)[0] == 204
    conn.network.delete_port(port_id)
    assert conn.network.find_port(port_id) is None


def test_security_groups_have_egress_rules_and_refuse_duplicates(conn):
    group = conn.network.create_security_group(name='web', tags=['htf-sg'])
    assert sorted((r['direction'], r['ethertype']) for r in group.security_group_rules) == [
        ('egress', 'IPv4'), ('egress', 'IPv6')]
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id, direction='ingress', protocol='tcp',
        port_range_min=80, port_range_max=80, remote_ip_prefix='0.0.0.0/0')
    with pytest.raises(sdk_exc.ConflictException,
                       match='Security group rule already exists. Rule id is %s' % rule.id):
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction='ingress', protocol='6',
            port_range_min=80, port_range_max=80, remote_ip_prefix='0.0.0.0/0')
    rules = list(conn.network.security_group_rules(security_group_id=group.id))
    assert len(rules) == 3
    conn.network.delete_security_group_rule(rule)
    assert len(conn.network.get_security_group(group.id).security_group_rules) == 2
    assert [g.id for g in conn.network.security_groups(tags='htf-sg')] == [group.id]


def test_another_project_sees_neither_the_network_nor_its_ports(conn, demo, net):
    network, _ = net
    conn.network.create_port(network_id=network.id)
    assert [n.name for n in demo.network.networks()] == ['public']
    assert list(demo.network.ports()) == []
    with pytest.raises(sdk_exc.NotFoundException):
        demo.network.get_network(network.id)
    mine = demo.network.create_network(name='mine')
    assert mine.project_id == demo.current_project_id
    assert 'mine' not in [n.name for n in conn.network.networks(
        project_id=conn.current_project_id)]


def test_a_lost_create_answer_leaves_one_network_found_by_its_token(conn, http):
    token = 'htf-%s-%s' % ('a' * 32, 'b' * 16)
    assert http('PUT', '/admin/faults', {'networks.create': {
        'fail_next': 1, 'failure_mode': 'after'}})[0] == 200
    with pytest.raises(sdk_exc.HttpException) as failed:
        conn.network.create_network(name='lost', tags=[token])
    assert failed.value.status_code == 503
    found = list(conn.network.networks(tags=token))
    assert [n.name for n in found] == ['lost']
    audit = http('GET', '/admin/audit?token_prefix=htf-' + 'a' * 32)[1]
    assert [(c['kind'], c['id'], c['token']) for c in audit['creations']] == [
        ('networks', found[0].id, token)]


def test_injected_failures_are_neutron_errors(conn, http):
    http('PUT', '/admin/faults', {'ports.list': {'fail_next': 1, 'failure_status': 500}})
    with pytest.raises(sdk_exc.HttpException) as failed:
        list(conn.network.ports())
    assert failed.value.status_code == 500 and 'injected failure of ports.list' in str(
        failed.value)
    assert list(conn.network.ports()) == []


def test_filters_fields_and_the_tags_subresource(conn, net):
    network, _ = net
    conn.network.create_port(network_id=network.id, name='a', description='first',
                             device_owner='compute:nova', tags=['x', 'y'])
    conn.network.create_port(network_id=network.id, name='b', tags=['y'])
    assert [p.name for p in conn.network.ports(description='first')] == ['a']
    assert [p.name for p in conn.network.ports(device_owner='compute:nova')] == ['a']
    assert [p.name for p in conn.network.ports(not_any_tags='x')] == ['b']
    assert [p.name for p in conn.network.ports(name='b', network_id=network.id)] == ['b']
    answer = conn.network.get('/ports?name=a&fields=id&fields=name').json()
    assert [sorted(p) for p in answer['ports']] == [['id', 'name']]
    port_id = answer['ports'][0]['id']
    assert conn.network.get('/ports/%s/tags' % port_id).json() == {'tags': ['x', 'y']}
    missing = conn.network.get('/ports/%s/tags/z' % port_id)
    assert missing.status_code == 404
    assert missing.json()['NeutronError']['type'] == 'TagNotFound'
    error = conn.network.get('/subnets/nope').json()
    assert error == {'NeutronError': {'type': 'SubnetNotFound', 'detail': '',
                                      'message': 'Subnet nope could not be found.'}}


def test_every_project_uses_public_but_only_its_owner_changes_it(demo, conn):
    public = demo.network.find_network('public', ignore_missing=False)
    network = demo.network.create_network(name='own')
    subnet = demo.network.create_subnet(network_id=network.id, cidr='10.1.0.0/24',
                                        ip_version=4)
    router = demo.network.create_router(external_gateway_info={'network_id': public.id})
    demo.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = demo.network.create_port(network_id=network.id)
    fip = demo.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert fip.project_id == demo.current_project_id and fip.router_id == router.id
    with pytest.raises(sdk_exc.ForbiddenException, match='rule:delete_network'):
        demo.network.delete_network(public)
    with pytest.raises(sdk_exc.ForbiddenException, match='rule:update_network'):
        demo.network.set_tags(public, ['mine'])
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.add_interface_to_router(router.id, subnet_id=subnet.id)


def test_qos_policies_and_subnet_pools_are_found_missing(conn):
    assert conn.network.find_qos_policy('gold') is None
    assert conn.network.find_subnet_pool('pool') is None
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.find_qos_policy('gold', ignore_missing=False)
