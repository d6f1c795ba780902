"""OS::Neutron::Subnet on the simulator: create on a network named by name or id, gateway
and pools, in-place update, replacement, drift, lost answers, and Neutron's 409 on deleting
a subnet that still has ports."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin, update
from tests.unit.resources.openstack.neutron_helpers import (
    lost_create_is_adopted,
    make_topology,
    next_cidr,
)


def test_create_update_check_and_delete(client, conn):
    topology = make_topology()
    cidr = next_cidr()
    prefix = cidr.rsplit('.', 1)[0]
    props = {'network': topology['net'], 'cidr': cidr, 'name': 's1',
             'allocation_pools': [{'start': prefix + '.10', 'end': prefix + '.20'}]}
    subnet = create('OS::Neutron::Subnet', props)
    obj = conn.network.get_subnet(subnet.physical_id)
    assert (obj.network_id, obj.gateway_ip) == (topology['net'], prefix + '.1')
    assert subnet.get_attribute('allocation_pools') == [{'start': prefix + '.10',
                                                         'end': prefix + '.20'}]
    assert subnet.get_attribute('enable_dhcp') is True
    assert subnet.get_attribute('network_id') == topology['net']
    subnet.handle_check()
    new = dict(props, gateway_ip=prefix + '.254', dns_nameservers=['8.8.8.8'])
    update(subnet, new)
    obj = conn.network.get_subnet(subnet.physical_id)
    assert (obj.gateway_ip, obj.dns_nameservers) == (prefix + '.254', ['8.8.8.8'])
    assert subnet.update_requires_replacement(dict(new, cidr=next_cidr()))
    client.admin('PATCH', 'subnets/%s' % subnet.physical_id, {'gateway_ip': prefix + '.2'})
    with pytest.raises(ResourceCheckFailed, match='gateway_ip'):
        subnet.handle_check()
    delete(subnet)
    assert conn.network.find_subnet(subnet.physical_id) is None


def test_network_by_name_and_no_gateway(client, conn):
    topology = make_topology()
    name = conn.network.get_network(topology['net']).name
    subnet = create('OS::Neutron::Subnet', {'network': name, 'cidr': next_cidr(),
                                            'gateway_ip': ''})
    assert conn.network.get_subnet(subnet.physical_id).gateway_ip is None
    delete(subnet)


def test_a_cidr_or_a_subnet_pool_is_required(network):
    # (A network of the cloud: the network property's neutron.network constraint asks.)
    with pytest.raises(Exception, match='cidr'):
        plugin('OS::Neutron::Subnet', {'network': network['net']})


def test_a_network_the_cloud_does_not_have_is_refused_at_validation(client):
    with pytest.raises(Exception, match="property 'network': \"n\" does not validate "
                                        'neutron.network: the cloud has no network "n"'):
        plugin('OS::Neutron::Subnet', {'network': 'n', 'cidr': next_cidr()})


def test_a_lost_create_answer_is_adopted(client):
    topology = make_topology()
    again = lost_create_is_adopted(client, 'subnets', 'OS::Neutron::Subnet',
                                   {'network': topology['net'], 'cidr': next_cidr()})
    delete(again)


def test_deleting_a_subnet_in_use_fails_with_neutrons_message(client, conn):
    topology = make_topology()
    ctx = new_ctx()
    props = {'network': topology['net'], 'cidr': next_cidr()}
    subnet = create('OS::Neutron::Subnet', props, ctx)
    port = conn.network.create_port(network_id=topology['net'],
                                    fixed_ips=[{'subnet_id': subnet.physical_id}])
    with pytest.raises(ResourceFailure, match='(?i)one or more ports have an ip allocation'):
        delete(plugin('OS::Neutron::Subnet', props, ctx))
    conn.network.delete_port(port)
    delete(plugin('OS::Neutron::Subnet', props, ctx))
    assert conn.network.find_subnet(subnet.physical_id) is None
