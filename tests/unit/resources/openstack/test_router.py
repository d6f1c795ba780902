"""OS::Neutron::Router on the simulator: the gateway by name or id, in-place update of the
gateway and name, drift of the gateway, lost answers, delete."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed
from tests.unit.resources.openstack.conftest import create, delete, update
from tests.unit.resources.openstack.neutron_helpers import lost_create_is_adopted, make_topology


def test_gateway_update_check_and_delete(client, conn):
    topology = make_topology()
    router = create('OS::Neutron::Router', {'name': 'r'})
    assert router.get_attribute('external_gateway_info') is None
    ext_name = conn.network.get_network(topology['ext']).name
    update(router, {'name': 'r2', 'external_gateway_info': {'network': ext_name,
                                                            'enable_snat': False}})
    info = router.get_attribute('external_gateway_info')
    assert (info['network_id'], info['enable_snat']) == (topology['ext'], False)
    assert router.get_attribute('name') == 'r2'
    router.handle_check()
    client.admin('PATCH', 'routers/%s' % router.physical_id, {'external_gateway_info': None})
    with pytest.raises(ResourceCheckFailed, match='external gateway network'):
        router.handle_check()
    update(router, {'name': 'r2'})
    assert not conn.network.get_router(router.physical_id).external_gateway_info
    assert router.update_requires_replacement({'name': 'r2', 'distributed': True})
    delete(router)
    assert conn.network.find_router(router.physical_id) is None


def test_a_lost_create_answer_is_adopted(client):
    topology = make_topology()
    again = lost_create_is_adopted(client, 'routers', 'OS::Neutron::Router', {
        'external_gateway_info': {'network': topology['ext']}})
    delete(again)
