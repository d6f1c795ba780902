"""Update in place, replacement, check (drift) and delete of each OpenStack plugin on simcloud."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from tests.unit.resources.openstack.conftest import create, delete, update


def _drifted(res, patch=None, remove=False):
    path = '%s/%s' % (res.kind, res.physical_id)
    if remove:
        res.client.admin('DELETE', path)
    else:
        res.client.admin('PATCH', path, patch)


def test_net_update_check_and_delete(client):
    net = create('OS::Neutron::Net', {'name': 'a'})
    net.handle_check()
    update(net, {'name': 'b', 'admin_state_up': False})
    assert client.get('networks', net.physical_id)['admin_state_up'] is False
    assert net.get_attribute('name') == 'b'
    _drifted(net, {'name': 'c'})
    with pytest.raises(ResourceCheckFailed, match="name is 'c', expected 'b'"):
        net.handle_check()
    delete(net)
    assert client.get_or_none('networks', net.physical_id) is None


def test_subnet_cidr_change_replaces_gateway_updates_in_place(client, network):
    subnet = create('OS::Neutron::Subnet', {'network': network['net'],
                                            'cidr': '10.77.0.0/24'})
    assert subnet.get_attribute('gateway_ip') == '10.77.0.1'
    props = {'network': network['net'], 'cidr': '10.77.0.0/24', 'gateway_ip': '10.77.0.254',
             'dns_nameservers': ['8.8.8.8']}
    update(subnet, props)
    assert client.get('subnets', subnet.physical_id)['dns_nameservers'] == ['8.8.8.8']
    assert subnet.update_requires_replacement(dict(props, cidr='10.78.0.0/24'))
    delete(subnet)


def test_port_fixed_ips_and_security_groups_update_in_place(client, network):
    sg = create('OS::Neutron::SecurityGroup', {'name': 'web'})
    port = create('OS::Neutron::Port', {'network': network['net']})
    update(port, {'network': network['net'], 'security_groups': ['web'],
                  'fixed_ips': [{'subnet': network['subnet'], 'ip_address': '10.1.9.9'}]})
    obj = client.get('ports', port.physical_id)
    assert obj['security_groups'] == [sg.physical_id]
    assert obj['fixed_ips'][0]['ip_address'] == '10.1.9.9'
    assert port.update_requires_replacement({'network': network['ext']})
    delete(port)
    delete(sg)


def test_router_gateway_update_and_check(client, network):
    router = create('OS::Neutron::Router', {})
    update(router, {'external_gateway_info': {'network': network['ext']}})
    assert router.get_attribute('external_gateway_info')['network_id'] == network['ext']
    router.handle_check()
    _drifted(router, {'external_gateway_info': None})
    with pytest.raises(ResourceCheckFailed, match='external gateway network'):
        router.handle_check()
    delete(router)


def test_router_interface_and_floating_ip(client, network):
    port = create('OS::Neutron::Port', {'network': network['net']})
    fip_props = {'floating_network': network['ext'], 'port_id': port.physical_id}
    with pytest.raises(ResourceFailure, match='not reachable'):
        create('OS::Neutron::FloatingIP', fip_props)
    iface = create('OS::Neutron::RouterInterface', {'router': network['router'],
                                                    'subnet': network['subnet']})
    iface.handle_check()
    assert iface.update_requires_replacement({'router': network['router'], 'port': 'x'})
    fip = create('OS::Neutron::FloatingIP', fip_props)
    assert fip.get_attribute('router_id') == network['router']
    update(fip, {'floating_network': network['ext']})  # disassociate in place
    assert client.get('floatingips', fip.physical_id)['port_id'] is None
    update(fip, fip_props)
    _drifted(fip, {'port_id': None})
    with pytest.raises(ResourceCheckFailed, match='port_id'):
        fip.handle_check()
    delete(fip)
    delete(iface)
    delete(port)


def test_security_group_rules_converge_and_drift(client):
    props = {'rules': [{'protocol': 'tcp', 'port_range_min': 22, 'port_range_max': 22},
                       {'remote_mode': 'remote_group_id'}]}
    sg = create('OS::Neutron::SecurityGroup', props)
    rules = client.get('security_groups', sg.physical_id)['security_group_rules']
    assert {r['remote_group_id'] for r in rules} == {None, sg.physical_id}
    sg.handle_check()
    update(sg, {'rules': [{'protocol': 'icmp'}]})
    assert [r['protocol'] for r in client.get(
        'security_groups', sg.physical_id)['security_group_rules']] == ['icmp']
    rule = client.get('security_groups', sg.physical_id)['security_group_rules'][0]
    client.admin('DELETE', 'security_group_rules/%s' % rule['id'])
    with pytest.raises(ResourceCheckFailed, match='rules'):
        sg.handle_check()
    delete(sg)
