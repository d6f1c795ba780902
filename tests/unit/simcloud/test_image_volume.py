"""Glance and Cinder of the simulator (simcloud/image.py, volume.py), through openstacksdk."""

import json

import pytest
from openstack import exceptions as sdk_exc

from heat_taskflow.simcloud import image
from tests.unit.simcloud.conftest import faults


def test_the_image_catalog_is_seeded_with_fixed_ids(conn, demo, api):
    names = sorted(i.name for i in conn.image.images())
    assert names == sorted(image.CATALOG)
    ubuntu, = conn.image.images(name='ubuntu-24.04')
    assert ubuntu.id == image.image_id('ubuntu-24.04') and ubuntu.status == 'active'
    assert demo.image.get_image(ubuntu.id).visibility == 'public'
    assert list(conn.image.images(status='queued')) == []
    assert len(list(conn.image.images(limit=1))) == 4  # openstacksdk follows "next"
    with pytest.raises(sdk_exc.NotFoundException):
        conn.image.get_image('missing')
    status, text, _ = api('GET', '/image/v2/images/missing')
    assert status == 404 and 'No image found with ID missing' in text


def test_a_volume_is_created_found_by_its_token_updated_extended_and_deleted(conn, http):
    faults(http, {'volumes.create': {'build_time': 0.3}})
    volume = conn.block_storage.create_volume(
        size=1, name='data', metadata={'heat_taskflow_token': 'htf-vol'})
    conn.block_storage.create_volume(size=1, name='other')
    assert conn.block_storage.get_volume(volume.id).status == 'creating'
    volume = conn.block_storage.wait_for_status(volume, 'available', wait=10, interval=0.1)
    found = conn.block_storage.volumes(properties=json.dumps(
        {'heat_taskflow_token': 'htf-vol'}))
    assert [v.id for v in found] == [volume.id]
    assert sorted(v.name for v in conn.block_storage.volumes(details=False)) == \
        ['data', 'other']
    assert [v.name for v in conn.block_storage.volumes(name='other')] == ['other']
    assert volume.id in [v.id for v in conn.block_storage.volumes(status='available')]
    assert list(conn.block_storage.volumes(status='error')) == []
    conn.block_storage.update_volume(volume, name='renamed', description='d')
    conn.block_storage.set_volume_metadata(volume, extra='1')
    shown = conn.block_storage.get_volume(volume.id)
    assert shown.name == 'renamed' and shown.metadata == {
        'heat_taskflow_token': 'htf-vol', 'extra': '1'}
    conn.block_storage.extend_volume(volume, 3)
    volume = conn.block_storage.get_volume(volume.id)
    assert (volume.size, volume.status) == (3, 'available')
    with pytest.raises(sdk_exc.BadRequestException, match='greater than current size'):
        conn.block_storage.extend_volume(volume, 2)
    audit = http('GET', '/admin/audit?token_prefix=htf-vol')[1]['creations']
    assert [(c['kind'], c['id']) for c in audit] == [('volumes', volume.id)]
    conn.block_storage.delete_volume(volume)
    with pytest.raises(sdk_exc.NotFoundException, match='could not be found'):
        conn.block_storage.get_volume(volume.id)


def test_volume_errors_and_isolation(conn, demo, api):
    with pytest.raises(sdk_exc.BadRequestException, match='size'):
        conn.block_storage.create_volume(size=0)
    volume = conn.block_storage.create_volume(size=1)
    with pytest.raises(sdk_exc.NotFoundException):
        demo.block_storage.get_volume(volume.id)
    assert list(demo.block_storage.volumes()) == []
    demo_project = demo.current_project_id
    status, body, _ = api('GET', '/volume/v3/%s/volumes' % demo_project)
    assert status == 400 and 'Malformed request url' in body['badRequest']['message']
    status, body, _ = api('GET', '%s/missing' % api.volumes)
    assert status == 404 and body['itemNotFound']['message'] == \
        'Volume missing could not be found.'


def test_cinder_attachments_show_novas_and_make_their_own(conn, cirros, api):
    server = conn.compute.wait_for_server(conn.compute.create_server(
        name='vm', image_id=cirros.id, flavor_id='1'), wait=10)
    volume = conn.block_storage.create_volume(size=1)
    other = conn.block_storage.create_volume(size=1)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    base = api.volumes.rsplit('/', 1)[0] + '/attachments'
    listed = api('GET', base + '?volume_id=%s' % volume.id)[1]['attachments']
    assert [(a['volume_id'], a['instance']) for a in listed] == [(volume.id, server.id)]
    version = {'OpenStack-API-Version': 'volume 3.27'}
    status, made, _ = api('POST', base, {'attachment': {
        'volume_uuid': other.id, 'instance_uuid': server.id}}, version)
    assert status == 200 and conn.block_storage.get_volume(other.id).status == 'in-use'
    assert conn.block_storage.get_volume(other.id).attachments[0]['server_id'] == server.id
    assert api('DELETE', '%s/%s' % (base, made['attachment']['id']), headers=version)[0] == 200
    assert conn.block_storage.get_volume(other.id).status == 'available'
