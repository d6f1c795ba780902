"""OS::Neutron::Port on the simulator: fixed IPs, security groups and address pairs by name
or id, attributes with Heat's names (subnets too), in-place update, replacement, drift,
lost answers, quota."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from heat_taskflow.resources.types.openstack import common
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, update
from tests.unit.resources.openstack.neutron_helpers import lost_create_is_adopted, make_topology


def test_create_update_check_and_delete(client, conn):
    topology = make_topology()
    sg = conn.network.create_security_group(name='web-%s' % topology['net'][:8])
    ctx = new_ctx()
    port = create('OS::Neutron::Port', {'network': topology['net'], 'name': 'p'}, ctx)
    obj = conn.network.get_port(port.physical_id)
    assert ctx.data[common.TOKEN_KEY] in obj.tags
    assert port.get_attribute('network_id') == topology['net']
    assert port.get_attribute('admin_state_up') is True
    assert port.get_attribute('fixed_ips')[0]['subnet_id'] == topology['subnet']
    assert [s['id'] for s in port.get_attribute('subnets')] == [topology['subnet']]
    port.handle_check()
    address = obj.fixed_ips[0]['ip_address'].rsplit('.', 1)[0] + '.99'
    props = {'network': topology['net'], 'name': 'p', 'security_groups': [sg.name],
             'fixed_ips': [{'subnet': topology['subnet'], 'ip_address': address}],
             'allowed_address_pairs': [{'ip_address': '192.0.2.5'}]}
    update(port, props)
    obj = conn.network.get_port(port.physical_id)
    assert obj.security_group_ids == [sg.id]
    assert [ip['ip_address'] for ip in obj.fixed_ips] == [address]
    assert obj.allowed_address_pairs[0]['ip_address'] == '192.0.2.5'
    assert port.update_requires_replacement(dict(props, network=topology['ext']))
    client.admin('PATCH', 'ports/%s' % port.physical_id, {'admin_state_up': False})
    with pytest.raises(ResourceCheckFailed, match='admin_state_up'):
        port.handle_check()
    delete(port)
    assert conn.network.find_port(port.physical_id) is None
    conn.network.delete_security_group(sg)


def test_a_missing_security_group_fails_naming_it(client):
    topology = make_topology()
    with pytest.raises(ResourceFailure, match='no-such-group'):
        create('OS::Neutron::Port', {'network': topology['net'],
                                     'security_groups': ['no-such-group']})


def test_a_lost_create_answer_is_adopted(client):
    topology = make_topology()
    again = lost_create_is_adopted(client, 'ports', 'OS::Neutron::Port',
                                   {'network': topology['net']})
    delete(again)


def test_quota_exceeded_fails_with_neutrons_message(client):
    topology = make_topology()
    client.admin('PUT', 'quotas', {'ports': 0})
    try:
        with pytest.raises(ResourceFailure, match='(?i)quota'):
            create('OS::Neutron::Port', {'network': topology['net']})
    finally:
        client.admin('PUT', 'quotas', {'ports': None})
