"""OS::Neutron::FloatingIP and OS::Neutron::FloatingIPAssociation on the simulator:
allocation, association through a router interface, in-place re-association and
disassociation, drift, lost answers; the association as an update that delete undoes."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin, update
from tests.unit.resources.openstack.neutron_helpers import lost_create_is_adopted, make_topology


@pytest.fixture
def reachable(client, conn):
    """The private subnet on the router: its ports can have floating IPs."""
    topology = make_topology()
    conn.network.add_interface_to_router(topology['router'], subnet_id=topology['subnet'])
    yield topology
    conn.network.remove_interface_from_router(topology['router'],
                                              subnet_id=topology['subnet'])


def test_associate_update_check_and_delete(client, conn, reachable):
    port = conn.network.create_port(network_id=reachable['net'])
    props = {'floating_network': reachable['ext'], 'port_id': port.id}
    fip = create('OS::Neutron::FloatingIP', props)
    obj = conn.network.get_ip(fip.physical_id)
    assert obj.port_id == port.id
    assert fip.get_attribute('router_id') == reachable['router']
    assert fip.get_attribute('floating_network_id') == reachable['ext']
    assert fip.get_attribute('fixed_ip_address') == port.fixed_ips[0]['ip_address']
    assert fip.get_attribute('floating_ip_address') == obj.floating_ip_address
    fip.handle_check()
    update(fip, {'floating_network': reachable['ext']})          # disassociate in place
    assert conn.network.get_ip(fip.physical_id).port_id is None
    update(fip, props)
    client.admin('PATCH', 'floatingips/%s' % fip.physical_id, {'port_id': None})
    with pytest.raises(ResourceCheckFailed, match='port_id'):
        fip.handle_check()
    assert fip.update_requires_replacement(dict(props, floating_network='other'))
    delete(fip)
    assert conn.network.find_ip(fip.physical_id) is None
    conn.network.delete_port(port)


def test_an_unreachable_port_fails_with_neutrons_message(client, conn):
    topology = make_topology()
    port = conn.network.create_port(network_id=topology['net'])
    with pytest.raises(ResourceFailure, match='(?i)not reachable'):
        create('OS::Neutron::FloatingIP', {'floating_network': topology['ext'],
                                           'port_id': port.id})
    conn.network.delete_port(port)


def test_fixed_ip_address_needs_a_port(client):
    with pytest.raises(Exception, match='port_id'):
        plugin('OS::Neutron::FloatingIP', {'floating_network': 'x',
                                           'fixed_ip_address': '10.0.0.3'})


def test_a_lost_create_answer_is_adopted(client):
    topology = make_topology()
    again = lost_create_is_adopted(client, 'floatingips', 'OS::Neutron::FloatingIP',
                                   {'floating_network': topology['ext']})
    delete(again)


def test_association_create_rerun_move_and_delete(client, conn, reachable):
    fip = conn.network.create_ip(floating_network_id=reachable['ext'])
    other = conn.network.create_ip(floating_network_id=reachable['ext'])
    port = conn.network.create_port(network_id=reachable['net'])
    props = {'floatingip_id': fip.id, 'port_id': port.id}
    ctx = new_ctx()
    assoc = create('OS::Neutron::FloatingIPAssociation', props, ctx)
    assert assoc.physical_id == fip.id
    assert conn.network.get_ip(fip.id).port_id == port.id
    assoc.handle_check()
    again = create('OS::Neutron::FloatingIPAssociation', props, ctx)     # converges
    assert conn.network.get_ip(fip.id).port_id == port.id
    update(again, {'floatingip_id': other.id, 'port_id': port.id})
    assert conn.network.get_ip(fip.id).port_id is None
    assert conn.network.get_ip(other.id).port_id == port.id
    assert again.physical_id == other.id
    delete(again)
    assert conn.network.get_ip(other.id).port_id is None
    with pytest.raises(ResourceCheckFailed, match='no longer exists'):
        again.handle_check()
    delete(again)                                                        # gone is fine
    for obj in (fip, other):
        conn.network.delete_ip(obj)
    conn.network.delete_port(port)
