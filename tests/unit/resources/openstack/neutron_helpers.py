"""Fixtures and helpers the Neutron plugin tests share: a small topology on the simulator
(a private network and subnet, an external network and subnet, a router between them),
the audit of one test's objects, and the lost-create scenario every Neutron type passes."""

import itertools

import pytest

from heat_taskflow.conf import CONF
from heat_taskflow.resources.exceptions import ResourceFailure
from tests.unit.resources.openstack.conftest import create, creations, delete, new_ctx, plugin

_cidrs = ('10.%d.%d.0/24' % divmod(100 * 256 + i, 256) for i in itertools.count())


def next_cidr():
    """A /24 no other test of this process uses."""
    return next(_cidrs)


def make_topology():
    """Ids of a network with a subnet, an external network with a subnet, and a router
    whose gateway is the external network (not yet on the private subnet)."""
    net = create('OS::Neutron::Net', {}, name='net')
    subnet = create('OS::Neutron::Subnet', {'network': net.physical_id,
                                            'cidr': next_cidr()}, name='subnet')
    ext = create('OS::Neutron::Net', {'value_specs': {'router:external': True}}, name='ext')
    ext_subnet = create('OS::Neutron::Subnet', {'network': ext.physical_id,
                                                'cidr': next_cidr()}, name='extsub')
    router = create('OS::Neutron::Router', {'external_gateway_info': {
        'network': ext.physical_id}}, name='router')
    return {'net': net.physical_id, 'subnet': subnet.physical_id, 'ext': ext.physical_id,
            'ext_subnet': ext_subnet.physical_id, 'router': router.physical_id}


def made(client, ctx, kind):
    """Ids of the objects of ``kind`` the audit shows were created for ctx's stack."""
    return [entry['id'] for entry in creations(client, ctx, kind)]


def lost_create_is_adopted(client, kind, type_name, properties):
    """The create's answer is lost (the object is made, a 500 comes back): with retries the
    same run adopts it; without, the re-run does. Either way the audit shows one creation."""
    client.faults(**{'%s.create' % kind: {'fail_next': 1, 'failure_mode': 'after'}})
    ctx = new_ctx()
    res = create(type_name, properties, ctx)
    assert made(client, ctx, kind) == [res.physical_id]
    delete(res)

    client.faults(**{'%s.create' % kind: {'fail_next': 1, 'failure_mode': 'after'}})
    retries = CONF.cloud.retries
    CONF.set_override('retries', 0, group='cloud')
    try:
        ctx = new_ctx()
        first = plugin(type_name, properties, ctx)
        with pytest.raises(ResourceFailure):
            first.handle_create()
        assert first.physical_id is None
        again = create(type_name, properties, ctx)
    finally:
        CONF.set_override('retries', retries, group='cloud')
    assert made(client, ctx, kind) == [again.physical_id]
    return again

