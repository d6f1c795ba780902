"""The idempotency contract of every Neutron plugin on the simulator: crash after each
durable data_set and re-run on the same stored data; exactly one object exists and every run
agrees on the physical id (counted through the API: by intent-token tag, or on the router or
group a tokenless type lives in)."""

import itertools

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.types.openstack import common
from tests.unit.resources import fakes
from tests.unit.resources.openstack.conftest import new_ctx, plugin
from tests.unit.resources.openstack.neutron_helpers import make_topology

_cidrs = ('10.201.%d.0/24' % (i % 256) for i in itertools.count())


def _tagged(type_name):
    cls = registry.get_class(type_name).sdk_class

    def count(conn, ctx, props):
        token = ctx.data.get(common.TOKEN_KEY)
        return len(list(cls.list(conn.network, tags=token))) if token else 0
    return count


def _interface_props(conn, topo):
    net = conn.network.create_network(name='idem')
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=next(_cidrs))
    return {'router': topo['router'], 'port': conn.network.create_port(network_id=net.id).id}


def _interfaces(conn, ctx, props):
    return int(conn.network.get_port(props['port']).device_id == props['router'])


def _rule_props(conn, topo):
    group = conn.network.create_security_group(name='idem')
    return {'security_group': group.id, 'port_range_min': 22, 'port_range_max': 22}


def _rules(conn, ctx, props):
    return len([r for r in conn.network.security_group_rules(
        security_group_id=props['security_group']) if r.direction == 'ingress'])


CASES = {
    'OS::Neutron::Net': (lambda c, t: {'name': 'net'}, None),
    'OS::Neutron::Subnet': (lambda c, t: {'network': t['net'], 'cidr': next(_cidrs)}, None),
    'OS::Neutron::Port': (lambda c, t: {'network': t['net'],
                                        'fixed_ips': [{'subnet': t['subnet']}]}, None),
    'OS::Neutron::Router': (lambda c, t: {'external_gateway_info': {'network': t['ext']}},
                            None),
    'OS::Neutron::FloatingIP': (lambda c, t: {'floating_network': t['ext']}, None),
    'OS::Neutron::SecurityGroup': (lambda c, t: {'rules': [{'protocol': 'icmp'}]}, None),
    'OS::Neutron::RouterInterface': (_interface_props, _interfaces),
    'OS::Neutron::SecurityGroupRule': (_rule_props, _rules),
}


@pytest.mark.parametrize('type_name', sorted(CASES))
def test_create_is_idempotent_across_crashes(client, conn, type_name):
    topo = make_topology()
    make_props, count = CASES[type_name]
    count = count or _tagged(type_name)
    props = {}       # per context: an interface needs a subnet, a rule a group of its own

    def make(ctx):
        if 'stack_id' not in ctx.__dict__:
            ctx.stack_id = new_ctx().stack_id
        if id(ctx) not in props:
            props[id(ctx)] = make_props(conn, topo)
        return plugin(type_name, props[id(ctx)], ctx)

    ctx = fakes.assert_create_idempotent(make, lambda ctx: count(conn, ctx, props[id(ctx)]),
                                         max_polls=500)
    assert count(conn, ctx, props[id(ctx)]) == 1
