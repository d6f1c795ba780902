"""The idempotency contract of the Nova and Cinder plugins, proved by the simulator's audit.

For every durable data_set of a create, crash right after it and run the create again on a
fresh plugin over the same stored data (fakes.assert_create_idempotent): exactly one object
exists at the end, adopted by every later run. (Ported from the old test_idempotency.py.)
And a crash between the create call and the durable physical id (a kill -9 there): the re-run
finds the object by its intent token instead of making another.
"""

import uuid

import pytest

from heat_taskflow.resources.types.openstack import common
from tests.unit.resources import fakes
from tests.unit.resources.openstack.conftest import create, new_ctx, plugin

CIRROS = 'cirros-0.6.2-x86_64-disk'


def _live(client, kind, token):
    entries = client.admin('GET', 'audit?token_prefix=%s&kind=%s' % (token, kind))['creations']
    return [e for e in entries if e['token'] == token and e['deleted_at'] is None]


def _by_token(kind):
    def count(client, conn, ctx, props):
        token = ctx.data.get(common.TOKEN_KEY)
        return 0 if token is None else len(_live(client, kind, token))
    return count


def _attachments(client, conn, ctx, props):
    return len(list(conn.compute.volume_attachments(props['instance_uuid'])))


def _attachment_props(network):
    server = create('OS::Nova::Server', {'image': CIRROS, 'flavor': 'm1.tiny',
                                         'networks': [{'network': network['net']}]}, name='s')
    volume = create('OS::Cinder::Volume', {'size': 1}, name='v')
    return {'instance_uuid': server.physical_id, 'volume_id': volume.physical_id}


CASES = {
    'OS::Nova::Server': (lambda n: {'image': CIRROS, 'flavor': 'm1.tiny',
                                    'networks': [{'network': n['net']}]},
                         _by_token('servers')),
    'OS::Cinder::Volume': (lambda n: {'size': 1}, _by_token('volumes')),
    'OS::Nova::KeyPair': (lambda n: {'name': 'k-%s' % uuid.uuid4().hex},
                          _by_token('keypairs')),
    'OS::Nova::ServerGroup': (lambda n: {'name': 'g-%s' % uuid.uuid4().hex},
                              _by_token('server_groups')),
    'OS::Cinder::VolumeAttachment': (_attachment_props, _attachments),
}


@pytest.mark.parametrize('type_name', sorted(CASES))
def test_create_is_exactly_once_across_crashes(client, conn, network, type_name):
    make_props, count = CASES[type_name]
    props = {}   # per context: names, and the server and volume of an attachment

    def props_of(ctx):
        if id(ctx) not in props:
            props[id(ctx)] = make_props(network)
        return props[id(ctx)]

    def make(ctx):
        return plugin(type_name, props_of(ctx), ctx)

    ctx = fakes.assert_create_idempotent(
        make, lambda c: count(client, conn, c, props_of(c)), max_polls=500)
    assert ctx.data['__physical_id__'] is not None


def _lose_physical_id(ctx):
    def crash(physical_id):
        raise fakes.Crash('killed before %s was recorded' % physical_id)
    ctx.set_physical_id = crash


@pytest.mark.parametrize('type_name', sorted(CASES))
def test_a_crash_before_the_id_is_recorded_is_adopted_by_token(client, conn, network,
                                                                type_name):
    make_props, count = CASES[type_name]
    props = make_props(network)
    ctx = new_ctx()
    _lose_physical_id(ctx)
    with pytest.raises(fakes.Crash):
        plugin(type_name, props, ctx).handle_create()
    del ctx.set_physical_id
    assert '__physical_id__' not in ctx.data and count(client, conn, ctx, props) == 1
    again = create(type_name, props, ctx)
    assert count(client, conn, ctx, props) == 1
    assert ctx.physical_ids == [again.physical_id]
