"""OS::Neutron::RouterInterface on the simulator: Heat's physical id, a re-run that adopts
the interface a lost answer made, check, and delete (gone is fine), on a subnet or a port."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin
from tests.unit.resources.openstack.neutron_helpers import make_topology


def _interfaces(conn, router):
    return [p for p in conn.network.ports(device_id=router)
            if p.device_owner == 'network:router_interface']


def test_subnet_interface_create_rerun_check_and_delete(client, conn):
    topology = make_topology()
    props = {'router': topology['router'], 'subnet': topology['subnet']}
    ctx = new_ctx()
    iface = create('OS::Neutron::RouterInterface', props, ctx)
    assert iface.physical_id == '%s:subnet_id=%s' % (topology['router'], topology['subnet'])
    assert len(_interfaces(conn, topology['router'])) == 1
    iface.handle_check()
    assert iface.show()['device_id'] == topology['router']
    # A re-run (the answer was lost before the id was recorded) adopts the interface.
    del ctx.data['__physical_id__']
    again = create('OS::Neutron::RouterInterface', props, ctx)
    assert again.physical_id == iface.physical_id
    assert len(_interfaces(conn, topology['router'])) == 1
    assert iface.update_requires_replacement({'router': topology['router'], 'port': 'x'})
    delete(again)
    assert _interfaces(conn, topology['router']) == []
    with pytest.raises(ResourceCheckFailed, match='no longer exists'):
        again.handle_check()
    delete(plugin('OS::Neutron::RouterInterface', props, ctx))    # gone is fine


def test_port_interface(client, conn):
    topology = make_topology()
    port = conn.network.create_port(network_id=topology['net'])
    iface = create('OS::Neutron::RouterInterface', {'router': topology['router'],
                                                    'port': port.id})
    assert iface.physical_id == '%s:port_id=%s' % (topology['router'], port.id)
    assert conn.network.get_port(port.id).device_id == topology['router']
    delete(iface)
    assert _interfaces(conn, topology['router']) == []


def test_exactly_one_of_subnet_and_port(client):
    with pytest.raises(Exception, match='exactly one'):
        plugin('OS::Neutron::RouterInterface', {'router': 'r'})
    with pytest.raises(Exception, match='exactly one'):
        plugin('OS::Neutron::RouterInterface', {'router': 'r', 'subnet': 's', 'port': 'p'})


@pytest.mark.parametrize('by', ['subnet', 'port'])
def test_delete_ends_when_the_router_was_removed_behind_the_engines_back(client, conn, by):
    # An admin delete of the router leaves its interface port: the delete removes that
    # port itself (else it would wait for it forever, and the subnet could not go).
    topology = make_topology()
    ref = topology['subnet'] if by == 'subnet' else conn.network.create_port(
        network_id=topology['net']).id
    iface = create('OS::Neutron::RouterInterface', {'router': topology['router'], by: ref})
    [port] = _interfaces(conn, topology['router'])
    client.admin('DELETE', 'routers/%s' % topology['router'])
    delete(iface)
    assert conn.network.find_port(port.id) is None
    conn.network.delete_subnet(topology['subnet'])
