"""Nova of the simulator (simcloud/compute.py), through unmodified openstacksdk."""

import base64
import json

import pytest
from openstack import exceptions as sdk_exc

from tests.unit.simcloud.conftest import faults

TOKEN = 'htf-' + 'a' * 32 + '-' + 'b' * 16


def _boot(conn, image, name='vm', **kwargs):
    kwargs.setdefault('flavor_id', '1')
    return conn.compute.create_server(name=name, image_id=image.id, **kwargs)


def test_a_server_boots_on_a_network_and_is_found_by_its_tag(conn, cirros, net, http):
    network, subnet = net
    key = conn.compute.create_keypair(name='key-1')
    group = conn.compute.create_server_group(name='grp', policy='anti-affinity')
    server = _boot(conn, cirros, name='web-1', networks=[{'uuid': network.id}],
                   key_name=key.name, tags=[TOKEN, 'web'], metadata={'role': 'web'},
                   user_data=base64.b64encode(b'#!/bin/sh\n').decode(),
                   scheduler_hints={'group': group.id}, config_drive=True)
    assert server.admin_password
    server = conn.compute.wait_for_server(server, wait=10)
    assert server.status == 'ACTIVE' and server.key_name == 'key-1'
    assert server.flavor.original_name == 'm1.tiny' and server.flavor.ram == 512
    assert server.addresses == {'private-net': [{
        'addr': '10.0.0.2', 'version': 4, 'OS-EXT-IPS:type': 'fixed',
        'OS-EXT-IPS-MAC:mac_addr': server.addresses['private-net'][0]['OS-EXT-IPS-MAC:mac_addr']}]}
    assert sorted(server.tags) == sorted([TOKEN, 'web']) and server.metadata == {'role': 'web'}
    assert server.server_groups == [group.id]
    assert server.security_groups == [{'name': 'default'}]
    assert conn.compute.get_server_group(group.id).member_ids == [server.id]
    port, = conn.network.ports(device_id=server.id)
    assert port.fixed_ips == [{'subnet_id': subnet.id, 'ip_address': '10.0.0.2'}]
    assert [s.id for s in conn.compute.servers(details=True, tags=TOKEN)] == [server.id]
    assert list(conn.compute.servers(details=True, tags=TOKEN + ',other')) == []
    assert [s.id for s in conn.compute.servers(any_tags='other,web')] == [server.id]
    audit = http('GET', '/admin/audit?token_prefix=htf-' + 'a' * 32)[1]
    assert [(c['kind'], c['token']) for c in audit['creations']] == [
        ('ports', TOKEN + '#port-0'), ('servers', TOKEN)]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=10)
    assert list(conn.network.ports(device_id=server.id)) == []
    assert conn.compute.get_server_group(group.id).member_ids == []


def test_a_server_binds_a_given_port_and_leaves_it_on_delete(conn, cirros, net):
    network, _ = net
    web = conn.network.create_security_group(name='web')
    port = conn.network.create_port(network_id=network.id)
    server = conn.compute.wait_for_server(
        _boot(conn, cirros, networks=[{'port': port.id}]), wait=10)
    assert conn.network.get_port(port.id).device_id == server.id
    with pytest.raises(sdk_exc.ConflictException, match='in use'):
        _boot(conn, cirros, name='other', networks=[{'port': port.id}])
    fixed = conn.compute.wait_for_server(_boot(
        conn, cirros, name='fixed', networks=[{'uuid': network.id, 'fixed_ip': '10.0.0.77'}],
        security_groups=[{'name': web.id}]), wait=10)
    assert fixed.addresses['private-net'][0]['addr'] == '10.0.0.77'
    assert fixed.security_groups == [{'name': 'web'}]
    made, = conn.network.ports(device_id=fixed.id)
    assert made.security_group_ids == [web.id]
    conn.compute.delete_server(server)
    assert conn.network.get_port(port.id).device_id == ''


def test_list_filters_name_as_a_regex_and_status(conn, cirros, http):
    for name in ('db-1', 'db-2', 'web-1'):
        _boot(conn, cirros, name=name)
    assert sorted(s.name for s in conn.compute.servers(name='^db-')) == ['db-1', 'db-2']
    assert [s.name for s in conn.compute.servers(name='web')] == ['web-1']
    web, = conn.compute.servers(name='web')
    assert http('PATCH', '/admin/servers/%s' % web.id, {
        'status': 'ERROR', 'fault': {'code': 500, 'message': 'No valid host was found.'}})[0] \
        == 200
    errored, = conn.compute.servers(details=True, status='ERROR')
    assert errored.id == web.id and errored.fault['message'] == 'No valid host was found.'
    assert len(list(conn.compute.servers(details=True, status='ACTIVE'))) == 2
    page = list(conn.compute.servers(limit=2))
    assert len(page) == 3  # openstacksdk follows servers_links


def test_build_time_keeps_a_server_building(conn, cirros, http):
    faults(http, {'servers.create': {'build_time': 30}})
    server = _boot(conn, cirros)
    assert conn.compute.get_server(server.id).status == 'BUILD'
    with pytest.raises(sdk_exc.ResourceTimeout):
        conn.compute.wait_for_server(server, wait=1, interval=0.2)


def test_resize_confirm_revert_and_rebuild(conn, cirros, http):
    server = conn.compute.wait_for_server(_boot(conn, cirros), wait=10)
    ubuntu = conn.image.find_image('ubuntu-24.04', ignore_missing=False)
    conn.compute.resize_server(server, '2')
    server = conn.compute.wait_for_server(server, status='VERIFY_RESIZE', wait=10)
    assert server.flavor.original_name == 'm1.small'
    conn.compute.revert_server_resize(server)
    server = conn.compute.wait_for_server(server, wait=10)
    assert server.flavor.original_name == 'm1.tiny'
    conn.compute.resize_server(server, '3')
    conn.compute.wait_for_server(server, status='VERIFY_RESIZE', wait=10)
    conn.compute.confirm_server_resize(server)
    server = conn.compute.wait_for_server(server, wait=10)
    assert server.flavor.original_name == 'm1.medium'
    with pytest.raises(sdk_exc.ConflictException, match='confirmResize'):
        conn.compute.confirm_server_resize(server)
    rebuilt = conn.compute.rebuild_server(server, image=ubuntu.id, name='renamed')
    assert rebuilt.name == 'renamed'
    server = conn.compute.wait_for_server(server, wait=10)
    assert server.image.id == ubuntu.id


def test_update_metadata_and_tags(conn, cirros):
    server = _boot(conn, cirros, metadata={'a': '1'})
    conn.compute.update_server(server, name='new-name')
    assert conn.compute.get_server(server.id).name == 'new-name'
    conn.compute.set_server_metadata(server, b='2')
    assert conn.compute.get_server_metadata(server).metadata == {'a': '1', 'b': '2'}
    conn.compute.delete_server_metadata(server, ['a'])
    assert conn.compute.get_server(server.id).metadata == {'b': '2'}
    server = conn.compute.get_server(server.id)
    server.add_tag(conn.compute, 'blue')
    server.set_tags(conn.compute, ['red', 'green'])
    server.remove_tag(conn.compute, 'red')
    assert conn.compute.get_server(server.id).tags == ['green']
    assert server.check_tag(conn.compute, 'green')


def test_flavors(conn):
    assert [f.name for f in conn.compute.flavors()][:2] == ['m1.tiny', 'm1.small']
    flavor = conn.compute.find_flavor('m1.large', ignore_missing=False)
    assert (flavor.id, flavor.vcpus, flavor.ram, flavor.disk) == ('4', 4, 8192, 80)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.compute.get_flavor('nope')


def test_keypairs(conn, demo):
    made = conn.compute.create_keypair(name='generated')
    assert made.private_key and made.public_key.startswith('ssh-ed25519 ')
    given = conn.compute.create_keypair(name='given', public_key=made.public_key)
    assert given.private_key is None and given.fingerprint == made.fingerprint
    assert sorted(k.name for k in conn.compute.keypairs()) == ['generated', 'given']
    assert conn.compute.get_keypair('given').public_key == made.public_key
    with pytest.raises(sdk_exc.ConflictException, match='already exists'):
        conn.compute.create_keypair(name='given', public_key=made.public_key)
    with pytest.raises(sdk_exc.BadRequestException, match='invalid'):
        conn.compute.create_keypair(name='bad', public_key='not a key')
    assert list(demo.compute.keypairs()) == []  # key pairs belong to their user
    conn.compute.delete_keypair('given')
    with pytest.raises(sdk_exc.NotFoundException):
        conn.compute.get_keypair('given')


def test_server_groups_speak_policies_before_2_64(conn, http):
    group = conn.compute.create_server_group(name='g', policy='affinity')
    assert group.policy == 'affinity' and group.rules == {}
    token = conn.session.get_token()
    status, body, _ = http('GET', '/compute/v2.1/os-server-groups/%s' % group.id,
                           headers={'X-Auth-Token': token})
    assert status == 200 and body['server_group']['policies'] == ['affinity']
    status, body, _ = http('POST', '/compute/v2.1/os-server-groups', {'server_group': {
        'name': 'g2', 'policy': 'affinity'}}, headers={'X-Auth-Token': token})
    assert status == 400 and 'policies' in body['badRequest']['message']
    assert sorted(g.name for g in conn.compute.server_groups()) == ['g']
    conn.compute.delete_server_group(group)
    assert list(conn.compute.server_groups()) == []


def test_volume_attachments_put_the_volume_in_use(conn, cirros):
    server = conn.compute.wait_for_server(_boot(conn, cirros), wait=10)
    volume = conn.block_storage.wait_for_status(conn.block_storage.create_volume(size=1),
                                                'available', wait=10)
    attachment = conn.compute.create_volume_attachment(server, volume_id=volume.id)
    assert attachment.device == '/dev/vdb' and attachment.volume_id == volume.id
    assert conn.block_storage.get_volume(volume.id).status == 'in-use'
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [volume.id]
    assert conn.compute.get_server(server.id).attached_volumes[0]['id'] == volume.id
    with pytest.raises(sdk_exc.BadRequestException, match='already attached'):
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
    with pytest.raises(sdk_exc.BadRequestException, match='status must be available'):
        conn.block_storage.delete_volume(volume)
    conn.compute.delete_volume_attachment(server, volume.id)
    assert conn.block_storage.get_volume(volume.id).status == 'available'
    with pytest.raises(sdk_exc.NotFoundException):
        conn.compute.create_volume_attachment(server, volume_id='missing')


def test_boot_from_a_new_volume(conn, cirros):
    server = conn.compute.wait_for_server(conn.compute.create_server(
        name='bfv', flavor_id='1', block_device_mapping_v2=[{
            'boot_index': 0, 'uuid': cirros.id, 'source_type': 'image',
            'destination_type': 'volume', 'volume_size': 2, 'delete_on_termination': True}]),
        wait=10)
    volume_id = server.attached_volumes[0]['id']
    assert not server.image  # Nova shows no image for a server booted from a volume
    assert conn.block_storage.get_volume(volume_id).status == 'in-use'
    conn.compute.delete_server(server)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.block_storage.get_volume(volume_id)


def test_errors_are_novas(conn, cirros, demo, http):
    with pytest.raises(sdk_exc.NotFoundException, match='could not be found'):
        conn.compute.get_server('missing')
    token = conn.session.get_token()
    status, body, _ = http('GET', '/compute/v2.1/servers/missing',
                           headers={'X-Auth-Token': token})
    assert status == 404 and body['itemNotFound']['code'] == 404
    with pytest.raises(sdk_exc.BadRequestException, match='Flavor 99'):
        _boot(conn, cirros, flavor_id='99')
    with pytest.raises(sdk_exc.BadRequestException, match='key_name'):
        _boot(conn, cirros, key_name='nobody')
    assert http('GET', '/compute/v2.1/servers')[0] == 401
    server = _boot(conn, cirros)
    with pytest.raises(sdk_exc.NotFoundException):
        demo.compute.get_server(server.id)
    assert list(demo.compute.servers()) == []
    with pytest.raises(sdk_exc.NotFoundException):
        demo.compute.delete_server(server.id, ignore_missing=False)


def test_injected_failures_are_in_novas_format(conn, cirros, http):
    faults(http, {'servers.create': {'fail_next': 1, 'failure_mode': 'after'}})
    with pytest.raises(sdk_exc.HttpException) as failure:
        _boot(conn, cirros, tags=[TOKEN])
    assert failure.value.status_code == 503
    # The server was made: a re-run finds it by its tag instead of making another.
    assert [s.name for s in conn.compute.servers(tags=TOKEN)] == ['vm']
    assert json.dumps(http('GET', '/admin/calls')[1]['servers.create']) == '1'
