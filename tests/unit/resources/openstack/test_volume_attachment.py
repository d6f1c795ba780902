"""OS::Cinder::VolumeAttachment against the simulator: attach (in-use), a re-run adopts,
update moves the attachment, delete detaches (available), a gone one is fine."""

import pytest

from heat_taskflow.resources.exceptions import ResourceFailure
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin, update


@pytest.fixture
def server_and_volumes(conn, network):
    server = create('OS::Nova::Server', {'image': 'cirros-0.6.2-x86_64-disk',
                                         'flavor': 'm1.tiny',
                                         'networks': [{'network': network['net']}]},
                    name='srv')
    volumes = [create('OS::Cinder::Volume', {'size': 1}, name='v%d' % i) for i in range(2)]
    yield server.physical_id, [v.physical_id for v in volumes]
    for res in volumes + [server]:
        delete(res)


def _status(conn, volume_id):
    return conn.block_storage.get_volume(volume_id).status


def test_attach_rerun_update_and_detach(conn, server_and_volumes):
    server, (vol, other) = server_and_volumes
    ctx = new_ctx()
    props = {'instance_uuid': server, 'volume_id': vol, 'mountpoint': '/dev/vdb'}
    att = create('OS::Cinder::VolumeAttachment', props, ctx)
    assert att.physical_id == vol   # Nova's attachment id, as Heat
    assert _status(conn, vol) == 'in-use'
    assert conn.compute.get_volume_attachment(server, vol).device == '/dev/vdb'
    att.handle_check()
    # A re-run (a crash after the attach) adopts the attachment.
    again = create('OS::Cinder::VolumeAttachment', props, ctx)
    assert again.physical_id == vol
    assert len(list(conn.compute.volume_attachments(server))) == 1

    moved = {'instance_uuid': server, 'volume_id': other, 'mountpoint': '/dev/vdc'}
    update(plugin('OS::Cinder::VolumeAttachment', props, ctx), moved)
    assert _status(conn, vol) == 'available'
    assert _status(conn, other) == 'in-use'
    assert conn.compute.get_volume_attachment(server, other).device == '/dev/vdc'
    att = plugin('OS::Cinder::VolumeAttachment', moved, ctx)
    att.handle_check()

    delete(att)
    assert _status(conn, other) == 'available'
    assert list(conn.compute.volume_attachments(server)) == []
    delete(plugin('OS::Cinder::VolumeAttachment', moved, ctx))   # gone already


def test_extending_an_attached_volume_detaches_and_attaches_it_again(conn,
                                                                   server_and_volumes):
    server, (vol, _) = server_and_volumes
    att = create('OS::Cinder::VolumeAttachment', {'instance_uuid': server, 'volume_id': vol,
                                                  'mountpoint': '/dev/vdd'})
    volume = plugin('OS::Cinder::Volume', {'size': 1}, new_ctx(), physical_id=vol)
    update(volume, {'size': 4})
    obj = conn.block_storage.get_volume(vol)
    assert (obj.size, obj.status) == (4, 'in-use')
    assert conn.compute.get_volume_attachment(server, vol).device == '/dev/vdd'
    att.handle_check()   # the attachment resource still finds its attachment
    delete(att)


def test_a_lost_attach_answer_is_adopted(client, conn, server_and_volumes):
    server, (vol, _) = server_and_volumes
    client.faults(**{'volume_attachments.create': {'fail_next': 1, 'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    ctx = new_ctx()
    props = {'instance_uuid': server, 'volume_id': vol}
    with pytest.raises(ResourceFailure):
        plugin('OS::Cinder::VolumeAttachment', props, ctx).handle_create()
    att = create('OS::Cinder::VolumeAttachment', props, ctx)
    assert att.physical_id == vol
    assert len(list(conn.compute.volume_attachments(server))) == 1
    delete(att)


def test_attaching_a_volume_in_use_fails_with_the_clouds_message(server_and_volumes):
    server, (vol, _) = server_and_volumes
    props = {'instance_uuid': server, 'volume_id': vol}
    att = create('OS::Cinder::VolumeAttachment', props)
    with pytest.raises(ResourceFailure, match='already attached'):
        plugin('OS::Cinder::VolumeAttachment', props).handle_create()
    delete(att)


def test_delete_ends_when_the_server_was_removed_behind_the_engines_back(client, conn,
                                                                         server_and_volumes):
    # An admin delete of the server leaves the volume in-use, attached to a server that no
    # longer exists: nothing will ever make it available, and the delete must not wait.
    server, (vol, _) = server_and_volumes
    att = create('OS::Cinder::VolumeAttachment', {'instance_uuid': server, 'volume_id': vol})
    [attachment] = conn.block_storage.get_volume(vol).attachments
    client.admin('DELETE', 'servers/%s' % server)
    assert _status(conn, vol) == 'in-use'
    delete(att)
    # Clean the drift up, so that the fixture can delete the volume.
    client.admin('DELETE', 'volume_attachments/%s' % attachment['attachment_id'])
    client.admin('PATCH', 'volumes/%s' % vol, {'status': 'available'})


def test_a_volume_removed_while_it_is_attached_fails_the_create(client, server_and_volumes):
    server, (_, vol) = server_and_volumes
    att = plugin('OS::Cinder::VolumeAttachment', {'instance_uuid': server, 'volume_id': vol})
    att.handle_create()
    client.admin('DELETE', 'volumes/%s' % vol)
    with pytest.raises(ResourceFailure, match='volume %s vanished' % vol):
        att.check_create_complete(None)
