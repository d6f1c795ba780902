"""OS::Cinder::Volume against the simulator, through openstacksdk: the token in metadata
(hidden from attributes and drift), extend, metadata updates, check, delete, lost answers,
errors and quotas."""

import json

import pytest

from heat_taskflow.resources.exceptions import (
    InvalidProperties,
    ResourceCheckFailed,
    ResourceFailure,
)
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.resources.types.openstack.volume import TOKEN_METADATA
from tests.unit.resources.openstack.conftest import (
    create,
    creations,
    delete,
    new_ctx,
    plugin,
    update,
)


def test_create_attributes_update_check_and_delete(client, conn):
    props = {'size': 1, 'name': 'data', 'description': 'd', 'metadata': {'role': 'db'}}
    volume = create('OS::Cinder::Volume', props)
    obj = conn.block_storage.get_volume(volume.physical_id)
    token = volume.ctx.data[common.TOKEN_KEY]
    assert obj.status == 'available'
    assert obj.metadata == {'role': 'db', TOKEN_METADATA: token}
    assert volume.get_attribute('metadata_values') == {'role': 'db'}
    assert json.loads(volume.get_attribute('metadata')) == {'role': 'db'}
    assert TOKEN_METADATA not in volume.get_attribute('show')['metadata']
    assert volume.get_attribute('size') == '1'   # Heat's volume attributes are strings
    assert volume.get_attribute('display_name') == 'data'
    assert volume.get_attribute('attachments_list') == []
    volume.handle_check()

    new = dict(props, size=3, name='data2', metadata={'role': 'web', 'tier': '1'})
    update(volume, new)
    obj = conn.block_storage.get_volume(volume.physical_id)
    assert (obj.size, obj.name) == (3, 'data2')
    assert obj.metadata == {'role': 'web', 'tier': '1', TOKEN_METADATA: token}
    volume.handle_check()
    with pytest.raises(ResourceFailure, match='can not shrink volume'):
        update(plugin('OS::Cinder::Volume', new, volume.ctx), dict(new, size=2))
    assert volume.update_requires_replacement(dict(new, image='cirros-0.6.2-x86_64-disk'))

    client.admin('PATCH', 'volumes/%s' % volume.physical_id, {'size': 50})
    with pytest.raises(ResourceCheckFailed, match='size is 50, expected 3'):
        volume.handle_check()
    delete(volume)
    assert conn.block_storage.find_volume(volume.physical_id, ignore_missing=True) is None
    assert creations(client, volume.ctx, 'volumes')[0]['token'] == token


def test_metadata_drift_ignores_the_token_only(client):
    volume = create('OS::Cinder::Volume', {'size': 1, 'metadata': {'a': 'b'}})
    volume.handle_check()
    client.admin('PATCH', 'volumes/%s' % volume.physical_id, {'metadata': {'a': 'c'}})
    with pytest.raises(ResourceCheckFailed, match='metadata is'):
        volume.handle_check()
    delete(volume)


def test_a_lost_create_answer_is_adopted_by_the_re_run(client):
    client.faults(**{'volumes.create': {'fail_next': 1, 'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    ctx = new_ctx()
    with pytest.raises(ResourceFailure, match='create of volume failed'):
        plugin('OS::Cinder::Volume', {'size': 1}, ctx).handle_create()
    again = create('OS::Cinder::Volume', {'size': 1}, ctx)
    assert [e['id'] for e in creations(client, ctx, 'volumes')] == [again.physical_id]


def test_an_error_status_fails_the_create(client):
    client.faults(**{'volumes.create': {'build_time': 60}})
    volume = plugin('OS::Cinder::Volume', {'size': 1})
    cookie = volume.handle_create()
    assert volume.check_create_complete(cookie) is False   # creating
    client.admin('PATCH', 'volumes/%s' % volume.physical_id, {'status': 'error'})
    with pytest.raises(ResourceFailure, match='went to status error'):
        volume.check_create_complete(cookie)
    delete(volume)


def test_quota_and_a_delete_of_what_is_gone(client):
    volume = create('OS::Cinder::Volume', {'size': 1})
    client.admin('DELETE', 'volumes/%s' % volume.physical_id)
    delete(volume)
    client.admin('PUT', 'quotas', {'volumes': 0})
    with pytest.raises(ResourceFailure, match="exceeded for quota 'volumes'"):
        plugin('OS::Cinder::Volume', {'size': 1}).handle_create()


def test_a_volume_needs_a_size_or_a_source():
    with pytest.raises(InvalidProperties, match='size is required'):
        plugin('OS::Cinder::Volume', {'name': 'x'}, new_ctx())
