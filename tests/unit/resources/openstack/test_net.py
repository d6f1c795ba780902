"""OS::Neutron::Net on the simulator through openstacksdk: create with the intent token as a
tag, attributes with Heat's names, update in place, check and drift, lost answers, delete."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from heat_taskflow.resources.types.openstack import common
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin, update
from tests.unit.resources.openstack.neutron_helpers import lost_create_is_adopted, made


def test_create_tags_the_token_and_answers_heat_attributes(client, conn):
    ctx = new_ctx()
    net = create('OS::Neutron::Net', {'name': 'a', 'tags': ['blue'],
                                      'value_specs': {'mtu': 1400}}, ctx)
    obj = conn.network.get_network(net.physical_id)
    token = ctx.data[common.TOKEN_KEY]
    assert sorted(obj.tags) == sorted(['blue', token])
    assert [n.id for n in conn.network.networks(tags=token)] == [net.physical_id]
    assert made(client, ctx, 'networks') == [net.physical_id]
    assert net.get_attribute('name') == 'a'
    assert net.get_attribute('admin_state_up') is True
    assert net.get_attribute('mtu') == 1400
    assert net.get_attribute('subnets') == []
    assert net.get_attribute('tags') == ['blue']
    assert net.get_attribute('tenant_id') == obj.project_id
    assert net.show()['id'] == net.physical_id


def test_update_check_drift_and_delete(client, conn):
    ctx = new_ctx()
    net = create('OS::Neutron::Net', {'name': 'a', 'tags': ['x']}, ctx)
    net.handle_check()
    update(net, {'name': 'b', 'admin_state_up': False, 'tags': ['y']})
    obj = conn.network.get_network(net.physical_id)
    assert (obj.name, obj.is_admin_state_up) == ('b', False)
    assert sorted(obj.tags) == sorted(['y', ctx.data[common.TOKEN_KEY]])  # token kept
    assert net.update_requires_replacement({'name': 'b', 'tenant_id': 'other'})
    client.admin('PATCH', 'networks/%s' % net.physical_id, {'name': 'c'})
    with pytest.raises(ResourceCheckFailed, match="name is 'c', expected 'b'"):
        net.handle_check()
    delete(net)
    assert conn.network.find_network(net.physical_id) is None


def test_a_lost_create_answer_is_adopted(client):
    lost_create_is_adopted(client, 'networks', 'OS::Neutron::Net', {'name': 'lost'})


def test_delete_of_what_is_gone_or_never_made_succeeds(client):
    ctx = new_ctx()
    net = create('OS::Neutron::Net', {}, ctx)
    client.admin('DELETE', 'networks/%s' % net.physical_id)
    delete(plugin('OS::Neutron::Net', {}, ctx))
    delete(plugin('OS::Neutron::Net', {}, new_ctx()))


def test_delete_without_a_physical_id_finds_the_network_by_its_token(client, conn):
    ctx = new_ctx()
    net = create('OS::Neutron::Net', {}, ctx)
    del ctx.data['__physical_id__']       # the crash came before set_physical_id
    delete(plugin('OS::Neutron::Net', {}, ctx))
    assert conn.network.find_network(net.physical_id) is None


def test_quota_exceeded_fails_with_neutrons_message(client):
    client.admin('PUT', 'quotas', {'networks': 0})
    try:
        with pytest.raises(ResourceFailure, match='(?i)quota'):
            create('OS::Neutron::Net', {})
    finally:
        client.admin('PUT', 'quotas', {'networks': None})
