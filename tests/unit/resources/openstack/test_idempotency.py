"""The idempotency contract of every OpenStack plugin, proved by simcloud's audit.

Crash after each durable data_set and re-run; lose the create's response and re-run; delete
a resource whose physical id was never recorded: the audit shows exactly one creation per
resource and nothing left behind.
"""

import itertools

import pytest

from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.types.openstack import common
from tests.unit.resources import fakes
from tests.unit.resources.openstack.conftest import (
    create,
    creations,
    delete,
    new_ctx,
    plugin,
)


def _port(client, net):
    return create('OS::Neutron::Port', {'network': net['net']}).physical_id


_cidrs = ('10.200.%d.0/24' % (i % 256) for i in itertools.count())

CASES = {
    'OS::Neutron::Net': lambda c, n: {'name': 'net'},
    'OS::Neutron::Subnet': lambda c, n: {'network': n['net'], 'cidr': next(_cidrs)},
    'OS::Neutron::Port': lambda c, n: {'network': n['net'],
                                       'fixed_ips': [{'subnet': n['subnet']}]},
    'OS::Neutron::Router': lambda c, n: {'external_gateway_info': {'network': n['ext']}},
    'OS::Neutron::RouterInterface': lambda c, n: {'router': n['router'],
                                                  'port': _port(c, n)},
    'OS::Neutron::FloatingIP': lambda c, n: {'floating_network': n['ext']},
    'OS::Neutron::SecurityGroup': lambda c, n: {'rules': [{'protocol': 'icmp'},
                                                          {'remote_mode': 'remote_group_id'}]},
}



_KINDS = {'OS::Neutron::Net': 'networks', 'OS::Neutron::Subnet': 'subnets',
          'OS::Neutron::Port': 'ports', 'OS::Neutron::Router': 'routers',
          'OS::Neutron::RouterInterface': 'router_interfaces',
          'OS::Neutron::FloatingIP': 'floatingips',
          'OS::Neutron::SecurityGroup': 'security_groups'}


def _top_level(entries, kind):
    return [e for e in entries if e['kind'] == kind and '#' not in e['token']]


@pytest.mark.parametrize('type_name', sorted(CASES))
def test_create_is_idempotent_across_crashes(client, network, type_name):
    kind = _KINDS[type_name]
    props = {}  # per context: an attachment or interface needs a fresh server, volume, port

    def make(ctx):
        if id(ctx) not in props:
            props[id(ctx)] = CASES[type_name](client, network)
        return plugin(type_name, props[id(ctx)], ctx)

    def count_physical(ctx):
        return len([e for e in _top_level(creations(client, ctx, kind), kind)
                    if e['deleted_at'] is None])

    ctx = fakes.assert_create_idempotent(make, count_physical, max_polls=500)
    entries = _top_level(creations(client, ctx, kind), kind)
    assert len(entries) == 1 and entries[0]['id'] == ctx.data['__physical_id__']
    assert entries[0]['token'] == ctx.data[common.TOKEN_KEY]


@pytest.mark.parametrize('type_name', ['OS::Neutron::Net', 'OS::Neutron::SecurityGroup'])
def test_a_lost_create_response_is_adopted_by_the_re_run(client, network, type_name):
    props = CASES[type_name](client, network)
    kind = _KINDS[type_name]
    client.admin('PUT', 'faults', {'%s.create' % kind: {'fail_next': 1,
                                                        'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    try:
        from heat_taskflow.resources import cloud
        cloud.reset()
        ctx = new_ctx()
        first = plugin(type_name, props, ctx)
        with pytest.raises(ResourceFailure, match='injected failure'):
            first.handle_create()
        assert first.physical_id is None  # the crash came before the id was known
        assert len(_top_level(creations(client, ctx, kind), kind)) == 1
        again = create(type_name, props, ctx)
    finally:
        CONF.set_override('retries', 3, group='cloud')
        cloud.reset()
    entries = _top_level(creations(client, ctx, kind), kind)
    assert [e['id'] for e in entries] == [again.physical_id]


def test_delete_of_something_gone_or_never_made_succeeds(client):
    ctx = new_ctx()
    net = create('OS::Neutron::Net', {}, ctx)
    client.admin('DELETE', 'networks/%s' % net.physical_id)
    delete(plugin('OS::Neutron::Net', {}, ctx))
    delete(plugin('OS::Neutron::Net', {}, new_ctx()))
