"""OS::Neutron::SecurityGroupRule on the simulator: a rule in a group named by name or id,
Neutron's 409 on a duplicate taken as the rule already made (re-run, lost answer), remote
group, validation, delete (gone is fine)."""

import pytest

from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin


@pytest.fixture
def group(conn):
    sg = conn.network.create_security_group(name='g-%s' % new_ctx().stack_id[:8])
    yield sg
    conn.network.delete_security_group(sg, ignore_missing=True)


def _tcp(conn, group_id):
    return [r for r in conn.network.security_group_rules(security_group_id=group_id)
            if r.direction == 'ingress']


def test_create_rerun_adopts_and_delete(client, conn, group):
    props = {'security_group': group.name, 'port_range_min': 80, 'port_range_max': 80,
             'remote_ip_prefix': '10.0.0.0/8', 'description': 'http'}
    ctx = new_ctx()
    rule = create('OS::Neutron::SecurityGroupRule', props, ctx)
    [obj] = _tcp(conn, group.id)
    assert (rule.physical_id, obj.protocol, obj.port_range_min, obj.remote_ip_prefix) == \
        (obj.id, 'tcp', 80, '10.0.0.0/8')
    assert rule.show()['ethertype'] == 'IPv4'
    rule.handle_check()
    # The id was not recorded (a crash): the re-run finds the identical rule.
    del ctx.data['__physical_id__']
    again = create('OS::Neutron::SecurityGroupRule', props, ctx)
    assert again.physical_id == obj.id and len(_tcp(conn, group.id)) == 1
    # A first run meeting Neutron's 409 adopts the rule too.
    third = create('OS::Neutron::SecurityGroupRule', props)
    assert third.physical_id == obj.id and len(_tcp(conn, group.id)) == 1
    delete(again)
    assert _tcp(conn, group.id) == []
    delete(plugin('OS::Neutron::SecurityGroupRule', props, ctx))      # gone is fine


def test_a_lost_create_answer_makes_one_rule(client, conn, group):
    client.faults(**{'security_group_rules.create': {'fail_next': 1,
                                                     'failure_mode': 'after'}})
    rule = create('OS::Neutron::SecurityGroupRule', {'security_group': group.id,
                                                     'protocol': 'udp'})
    assert [r.id for r in _tcp(conn, group.id)] == [rule.physical_id]


def test_remote_group_by_name(client, conn, group):
    rule = create('OS::Neutron::SecurityGroupRule', {'security_group': group.id,
                                                     'remote_group': group.name})
    assert conn.network.get_security_group_rule(rule.physical_id).remote_group_id == group.id
    delete(rule)


@pytest.mark.parametrize('props, message', [
    ({'remote_group': 'a', 'remote_ip_prefix': '10.0.0.0/8'}, 'both'),
    ({'port_range_min': 90, 'port_range_max': 80}, 'minimum port'),
    ({'protocol': 'nope'}, 'nope'),
])
def test_validation(client, props, message):
    with pytest.raises(Exception, match=message):
        plugin('OS::Neutron::SecurityGroupRule', dict(props, security_group='g'))
