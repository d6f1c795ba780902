"""OS::Neutron::SecurityGroup on the simulator: rules created after the group, Neutron's
default egress rules kept or removed as Heat does, rules converging on update and on a
re-run, drift of the rules, lost answers, a group in use."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from tests.unit.resources.openstack.conftest import create, delete, new_ctx, plugin, update
from tests.unit.resources.openstack.neutron_helpers import lost_create_is_adopted, make_topology

SSH = {'protocol': 'tcp', 'port_range_min': 22, 'port_range_max': 22,
       'remote_ip_prefix': '0.0.0.0/0'}


def _rules(conn, group_id):
    return sorted(((r.direction, r.ether_type, r.protocol, r.port_range_min,
                    r.remote_group_id is not None)
                   for r in conn.network.security_group_rules(security_group_id=group_id)),
                  key=repr)


EGRESS = [('egress', 'IPv4', None, None, False), ('egress', 'IPv6', None, None, False)]


def _sorted(rules):
    return sorted(rules, key=repr)


def test_ingress_rules_keep_the_default_egress(client, conn):
    sg = create('OS::Neutron::SecurityGroup', {
        'name': 'web', 'rules': [SSH, {'remote_mode': 'remote_group_id'}]})
    assert _rules(conn, sg.physical_id) == _sorted(EGRESS + [
        ('ingress', 'IPv4', None, None, True), ('ingress', 'IPv4', 'tcp', 22, False)])
    rule = [r for r in conn.network.security_group_rules(security_group_id=sg.physical_id)
            if r.remote_group_id][0]
    assert rule.remote_group_id == sg.physical_id          # the group itself
    sg.handle_check()
    delete(sg)
    assert conn.network.find_security_group(sg.physical_id) is None


def test_an_egress_rule_replaces_the_defaults_and_updates_converge(client, conn):
    egress = {'direction': 'egress', 'protocol': 'udp', 'port_range_min': 53,
              'port_range_max': 53}
    sg = create('OS::Neutron::SecurityGroup', {'rules': [egress]})
    assert _rules(conn, sg.physical_id) == [('egress', 'IPv4', 'udp', 53, False)]
    update(sg, {'description': 'd', 'rules': [{'protocol': 'icmp'}]})
    assert _rules(conn, sg.physical_id) == _sorted(EGRESS + [
        ('ingress', 'IPv4', 'icmp', None, False)])
    assert conn.network.get_security_group(sg.physical_id).description == 'd'
    update(sg, {'description': 'd', 'rules': []})
    assert _rules(conn, sg.physical_id) == EGRESS
    delete(sg)


def test_a_missing_rule_is_drift_and_a_rerun_restores_it(client, conn):
    ctx = new_ctx()
    props = {'rules': [SSH]}
    sg = create('OS::Neutron::SecurityGroup', props, ctx)
    ssh = [r for r in conn.network.security_group_rules(security_group_id=sg.physical_id)
           if r.protocol == 'tcp'][0]
    conn.network.delete_security_group_rule(ssh)
    with pytest.raises(ResourceCheckFailed, match='rules'):
        sg.handle_check()
    again = create('OS::Neutron::SecurityGroup', props, ctx)
    assert again.physical_id == sg.physical_id
    again.handle_check()
    delete(again)


def test_the_name_default_is_refused(client):
    with pytest.raises(Exception, match='default'):
        plugin('OS::Neutron::SecurityGroup', {'name': 'default'})


def test_a_lost_create_answer_is_adopted(client):
    again = lost_create_is_adopted(client, 'security_groups', 'OS::Neutron::SecurityGroup',
                                   {'rules': [SSH]})
    delete(again)


def test_a_group_in_use_fails_the_delete_with_neutrons_message(client, conn):
    topology = make_topology()
    ctx = new_ctx()
    sg = create('OS::Neutron::SecurityGroup', {}, ctx)
    port = conn.network.create_port(network_id=topology['net'],
                                    security_group_ids=[sg.physical_id])
    with pytest.raises(ResourceFailure, match='(?i)in use'):
        delete(plugin('OS::Neutron::SecurityGroup', {}, ctx))
    conn.network.delete_port(port)
    delete(plugin('OS::Neutron::SecurityGroup', {}, ctx))
