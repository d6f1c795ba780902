"""OS::Nova::Server against the simulator, through openstacksdk: create, attributes, update
in place (name, metadata, tags, resize, rebuild), check, delete, lost answers, faults,
quotas and the stack's deadline."""

import base64
import email

import pytest

from heat_taskflow.resources.exceptions import (
    InvalidProperties,
    ResourceCheckFailed,
    ResourceFailure,
)
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.resources.types.openstack.server import Server, build_user_data
from tests.unit.resources import fakes
from tests.unit.resources.openstack.conftest import (
    create,
    creations,
    delete,
    new_ctx,
    plugin,
    update,
)

CIRROS = 'cirros-0.6.2-x86_64-disk'
UBUNTU = 'ubuntu-24.04'


def _props(network, **extra):
    return dict({'image': CIRROS, 'flavor': 'm1.small',
                 'networks': [{'network': network['net']}]}, **extra)


def _user_data(client, server_id):
    """The user data Nova was given (as the simulator stores it), decoded."""
    raw = client.admin('GET', 'servers/%s' % server_id)['user_data']
    return base64.b64decode(raw).decode() if raw else None


def test_create_attributes_update_check_and_delete(client, conn, network):
    props = _props(network, metadata={'a': 1, 'b': 'x'}, tags=['web'],
                   user_data='#!/bin/sh\necho hi\n', user_data_format='RAW')
    server = create('OS::Nova::Server', props)
    obj = conn.compute.get_server(server.physical_id)
    assert obj.status == 'ACTIVE'
    assert obj.metadata == {'a': '1', 'b': 'x'}   # non-strings as JSON, as Heat
    token = server.ctx.data[common.TOKEN_KEY]
    assert sorted(obj.tags) == sorted(['web', token])
    assert _user_data(client, server.physical_id) == '#!/bin/sh\necho hi\n'

    net = conn.network.get_network(network['net'])
    port = next(iter(conn.network.ports(device_id=server.physical_id)))
    ip = port.fixed_ips[0]['ip_address']
    assert server.get_attribute('first_address') == ip
    assert server.get_attribute('networks') == {net.name: [ip], net.id: [ip]}
    assert server.get_attribute('addresses', net.name, 0, 'port') == port.id
    assert server.get_attribute('addresses', net.id, 0, 'addr') == ip
    assert server.get_attribute('name') == obj.name
    assert server.get_attribute('instance_name') == obj.instance_name
    assert server.get_attribute('show')['id'] == server.physical_id

    new = dict(props, name='renamed', metadata={'c': '3'}, tags=['db'])
    update(server, new)
    obj = conn.compute.get_server(server.physical_id)
    assert (obj.name, obj.metadata) == ('renamed', {'c': '3'})
    assert sorted(obj.tags) == sorted(['db', token])   # the token tag is kept
    server.handle_check()

    delete(server)
    assert conn.compute.find_server(server.physical_id, ignore_missing=True) is None
    entries = creations(client, server.ctx, 'servers')
    assert len(entries) == 1 and entries[0]['deleted_at'] is not None


def test_resize_and_rebuild_in_place_replace_by_policy(conn, network):
    props = _props(network)
    server = create('OS::Nova::Server', props)
    resized = dict(props, flavor='m1.medium')
    update(server, resized)
    obj = conn.compute.get_server(server.physical_id)
    assert (obj.status, obj.flavor.name) == ('ACTIVE', 'm1.medium')   # confirmed
    rebuilt = dict(resized, image=UBUNTU)
    update(server, rebuilt)
    assert conn.compute.get_server(server.physical_id).image.id == \
        conn.image.find_image(UBUNTU).id
    server.handle_check()
    assert server.update_requires_replacement(dict(rebuilt, flavor='m1.large',
                                                   flavor_update_policy='REPLACE'))
    assert server.update_requires_replacement(dict(rebuilt, image=CIRROS,
                                                   image_update_policy='REPLACE'))
    assert server.update_requires_replacement(dict(rebuilt, user_data='x'))
    assert not server.update_requires_replacement(dict(rebuilt, user_data='x',
                                                       user_data_update_policy='IGNORE'))
    assert server.update_requires_replacement(dict(rebuilt, networks=[]))
    delete(server)


def test_an_update_run_twice_resizes_once_and_converges(conn, network):
    props = _props(network)
    ctx = new_ctx()
    create('OS::Nova::Server', props, ctx)
    resized = dict(props, flavor='m1.medium', metadata={'k': 'v'})
    first = plugin('OS::Nova::Server', props, ctx)
    first.handle_update(resized)   # the conductor dies here, before the polling
    # The re-run sees the resize under way and does not ask again (Nova would refuse it).
    again = plugin('OS::Nova::Server', props, ctx)
    update(again, resized)
    obj = conn.compute.get_server(again.physical_id)
    assert (obj.status, obj.flavor.name, obj.metadata) == ('ACTIVE', 'm1.medium', {'k': 'v'})
    delete(again)


def test_check_reports_drift_error_and_disappearance(client, conn, network):
    server = create('OS::Nova::Server', _props(network, metadata={'a': '1'}))
    server.handle_check()
    client.admin('PATCH', 'servers/%s' % server.physical_id, {'metadata': {'a': '2'}})
    with pytest.raises(ResourceCheckFailed, match='metadata is'):
        server.handle_check()
    client.admin('PATCH', 'servers/%s' % server.physical_id, {
        'status': 'ERROR', 'fault': {'code': 500, 'message': 'disk on fire'}})
    with pytest.raises(ResourceCheckFailed, match='status ERROR: disk on fire'):
        server.handle_check()
    client.admin('DELETE', 'servers/%s' % server.physical_id)
    with pytest.raises(ResourceCheckFailed, match='no longer exists'):
        server.handle_check()
    delete(server)   # gone already: succeeds


def test_a_server_going_to_error_fails_with_its_fault_message(client, network):
    client.faults(**{'servers.create': {'build_time': 60}})
    server = plugin('OS::Nova::Server', _props(network))
    cookie = server.handle_create()
    assert server.check_create_complete(cookie) is False   # building
    client.admin('PATCH', 'servers/%s' % server.physical_id, {
        'status': 'ERROR', 'fault': {'code': 500, 'message': 'No valid host was found.'}})
    with pytest.raises(ResourceFailure, match='went to status ERROR: No valid host was found'):
        server.check_create_complete(cookie)
    delete(server)


def test_a_server_still_building_at_the_deadline_fails(client, network):
    client.faults(**{'servers.create': {'build_time': 600}})
    ctx = new_ctx(deadline=30.0)
    server = plugin('OS::Nova::Server', _props(network), ctx)
    with pytest.raises(ResourceFailure, match='still in status BUILD when the stack '
                                              'operation timed out'):
        fakes.run_to_end(server.handle_create, server.check_create_complete, ctx,
                         max_polls=100)
    assert ctx.clock >= 30.0
    delete(server)


def test_a_lost_create_answer_is_adopted_by_the_re_run(client, conn, network):
    client.faults(**{'servers.create': {'fail_next': 1, 'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    ctx = new_ctx()
    first = plugin('OS::Nova::Server', _props(network), ctx)
    with pytest.raises(ResourceFailure, match='create of server failed'):
        first.handle_create()
    assert first.physical_id is None
    again = create('OS::Nova::Server', _props(network), ctx)
    entries = creations(client, ctx, 'servers')
    assert [e['id'] for e in entries] == [again.physical_id]
    assert entries[0]['token'] == ctx.data[common.TOKEN_KEY]


def test_a_lost_answer_inside_one_run_is_found_before_the_retry(client, network):
    client.faults(**{'servers.create': {'fail_next': 2, 'failure_mode': 'after'}})
    ctx = new_ctx()
    server = create('OS::Nova::Server', _props(network), ctx)
    assert [e['id'] for e in creations(client, ctx, 'servers')] == [server.physical_id]


def test_delete_finds_by_token_what_a_crashed_create_made(client, conn, network):
    ctx = new_ctx()
    server = create('OS::Nova::Server', _props(network), ctx)
    ctx.data.pop('__physical_id__')   # the crash came before set_physical_id was durable
    delete(plugin('OS::Nova::Server', _props(network), ctx, physical_id=None))
    assert conn.compute.find_server(server.physical_id, ignore_missing=True) is None
    delete(plugin('OS::Nova::Server', _props(network), new_ctx()))   # never created


def test_quota_is_a_failure_with_the_clouds_message(client, network):
    client.admin('PUT', 'quotas', {'servers': 0})
    server = plugin('OS::Nova::Server', _props(network))
    with pytest.raises(ResourceFailure, match='Quota exceeded'):
        server.handle_create()


def test_subnet_entry_gets_a_tagged_port_deleted_with_the_server(conn, network):
    server = create('OS::Nova::Server', _props(network, networks=[
        {'subnet': network['subnet'], 'fixed_ip': '10.1.77.7'}]))
    token = server.ctx.data[common.TOKEN_KEY]
    ports = list(conn.network.ports(tags=token))
    assert len(ports) == 1 and ports[0].device_id == server.physical_id
    assert ports[0].fixed_ips[0]['ip_address'] == '10.1.77.7'
    assert server.get_attribute('first_address') == '10.1.77.7'
    delete(server)
    assert list(conn.network.ports(tags=token)) == []


def test_allocate_network_none_makes_no_port(conn):
    server = create('OS::Nova::Server', {'image': CIRROS, 'flavor': 'm1.tiny',
                                         'networks': [{'allocate_network': 'none'}]})
    assert list(conn.network.ports(device_id=server.physical_id)) == []
    assert server.get_attribute('first_address') == ''
    with pytest.raises(InvalidProperties, match='allocate_network must be the only entry'):
        plugin('OS::Nova::Server', {'image': CIRROS, 'flavor': 'm1.tiny', 'networks': [
            {'allocate_network': 'auto'}, {'port': 'p'}]})
    delete(server)


def test_boot_from_volume_with_block_device_mapping_v2(conn, network):
    volume = create('OS::Cinder::Volume', {'size': 1, 'image': CIRROS}, name='vol')
    server = create('OS::Nova::Server', {
        'flavor': 'm1.tiny', 'networks': [{'network': network['net']}],
        'block_device_mapping_v2': [{'volume_id': volume.physical_id, 'boot_index': 0}]})
    attached = [a.volume_id for a in conn.compute.volume_attachments(server.physical_id)]
    assert attached == [volume.physical_id]
    delete(server)
    delete(volume)


def test_boot_from_an_image_volume_made_by_nova(conn, network):
    server = create('OS::Nova::Server', {
        'flavor': 'm1.tiny', 'networks': [{'network': network['net']}],
        'block_device_mapping_v2': [{'image': CIRROS, 'volume_size': 2,
                                     'delete_on_termination': True}]})
    (attached,) = list(conn.compute.volume_attachments(server.physical_id))
    volume = conn.block_storage.get_volume(attached.volume_id)
    assert (volume.size, attached.device) == (2, '/dev/vda')
    delete(server)


def test_user_data_of_a_cloud_config_reaches_nova_base64(client, network):
    config = create('OS::Heat::CloudConfig', {'cloud_config': {'packages': ['git']}},
                    name='cc')
    server = create('OS::Nova::Server', _props(network, user_data=config.get_reference_id(),
                                               user_data_format='RAW'))
    assert _user_data(client, server.physical_id) == '#cloud-config\npackages:\n- git\n'
    delete(server)


def test_user_data_formats():
    script = '#!/bin/sh\necho hi\n'
    assert build_user_data(script, 'RAW') == script
    cfn = email.message_from_string(build_user_data(script, 'HEAT_CFNTOOLS'))
    assert [(p.get_content_type(), p.get_filename(), p.get_payload())
            for p in cfn.get_payload()] == [('text/x-shellscript', 'cfn-userdata', script)]
    soft = email.message_from_string(build_user_data(script, 'SOFTWARE_CONFIG'))
    assert [(p.get_content_type(), p.get_filename()) for p in soft.get_payload()] == [
        ('text/x-shellscript', 'userdata')]
    # A multipart user data (a MultipartMime) keeps its parts.
    inner = build_user_data(script, 'HEAT_CFNTOOLS')
    again = email.message_from_string(build_user_data(inner, 'SOFTWARE_CONFIG'))
    assert [p.get_filename() for p in again.get_payload()] == ['cfn-userdata']


class _View:
    """A StackView over plain property dicts (names, types, properties, same)."""

    def __init__(self, resources):
        self._resources = resources

    def names(self):
        return tuple(self._resources)

    def type_of(self, name):
        return self._resources[name][0]

    def properties(self, name):
        return self._resources[name][1]

    def same(self, a, b):
        return a == b or {'get_resource': a} == b or {'get_resource': b} == a


def test_implicit_dependencies_on_the_subnets_of_its_networks():
    view = _View({
        'server': ('OS::Nova::Server', {'networks': [{'network': {'get_resource': 'net'}},
                                                     {'port': 'p'}]}),
        'net': ('OS::Neutron::Net', {}),
        'sub': ('OS::Neutron::Subnet', {'network': {'get_resource': 'net'}}),
        'sub_by_id': ('OS::Neutron::Subnet', {'network_id': 'net'}),
        'other': ('OS::Neutron::Subnet', {'network': 'elsewhere'}),
    })
    assert sorted(Server.implicit_dependencies('server', view)) == ['sub', 'sub_by_id']
