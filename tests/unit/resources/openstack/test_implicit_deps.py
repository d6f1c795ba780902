"""The implicit dependencies of the Neutron plugins (Heat's add_dependencies), as
registry.implicit_dependencies computes them from a template, and what they do to the
graph: a port that takes an address from a subnet it does not name comes after it."""

import uuid

import yaml

from heat_taskflow.resources import registry
from heat_taskflow.template import Environment, StackDefinition, Template
from tests.unit.engine.helpers import paths_on, rows, sqlite_only, tmpl

NET = {'type': 'OS::Neutron::Net', 'properties': {'name': 'private'}}
EXT = {'type': 'OS::Neutron::Net', 'properties': {'name': 'public'}}


def subnet(network, cidr='10.0.0.0/24', **props):
    return {'type': 'OS::Neutron::Subnet',
            'properties': dict(props, network=network, cidr=cidr)}


def ref(name):
    return {'get_resource': name}


TOPOLOGY = {
    'net': NET,
    'ext': EXT,
    'sub_a': subnet(ref('net'), name='sub-a'),
    'sub_b': subnet({'get_attr': ['net', 'id']}, '10.0.1.0/24'),
    'ext_sub': subnet(ref('ext'), '172.24.0.0/24'),
    'port': {'type': 'OS::Neutron::Port', 'properties': {'network': 'private'}},
    'fixed': {'type': 'OS::Neutron::Port', 'properties': {
        'network': ref('net'), 'fixed_ips': [{'subnet': ref('sub_b')}]}},
    'router': {'type': 'OS::Neutron::Router', 'properties': {
        'external_gateway_info': {'network': ref('ext')}}},
    'iface_a': {'type': 'OS::Neutron::RouterInterface', 'properties': {
        'router': ref('router'), 'subnet': 'sub-a'}},
    'iface_b': {'type': 'OS::Neutron::RouterInterface', 'properties': {
        'router': ref('router'), 'subnet': ref('sub_b')}},
    'fip': {'type': 'OS::Neutron::FloatingIP', 'properties': {
        'floating_network': ref('ext'), 'port_id': ref('fixed')}},
    'fip_any': {'type': 'OS::Neutron::FloatingIP', 'properties': {
        'floating_network': 'public', 'port_id': {'get_attr': ['port', 'id']}}},
    'fip_bare': {'type': 'OS::Neutron::FloatingIP', 'properties': {
        'floating_network': {'get_param': 'ext_net'}}},
    'assoc': {'type': 'OS::Neutron::FloatingIPAssociation', 'properties': {
        'floatingip_id': ref('fip_bare'), 'port_id': ref('fixed')}},
}


def definition(resources, implicit=None):
    text = yaml.safe_dump({'heat_template_version': '2018-08-31',
                           'parameters': {'ext_net': {'type': 'string', 'default': 'x'}},
                           'resources': resources})
    return StackDefinition(Template.parse(text, filename='t.yaml'), Environment.from_dict({}),
                           implicit=implicit)


def implicit(resources=TOPOLOGY):
    return {k: set(v) for k, v in
            registry.implicit_dependencies(definition(resources)).items()}


def test_port_comes_after_every_subnet_on_its_network():
    deps = implicit()
    assert deps['port'] == {'sub_a', 'sub_b'}          # network by its literal name
    assert deps['fixed'] == {'sub_a', 'sub_b'}         # as Heat: all subnets of the network


def test_router_after_the_subnets_of_its_gateway_network():
    assert implicit()['router'] == {'ext_sub'}


def test_router_interface_after_a_subnet_named_by_a_literal():
    deps = implicit()
    assert deps['iface_a'] == {'sub_a'}
    assert 'iface_b' not in deps                       # a reference is explicit already


def test_floating_ip_after_the_interfaces_of_its_port_and_the_gateway_router():
    deps = implicit()
    assert deps['fip'] == {'iface_b', 'router'}        # fixed takes sub_b only
    assert deps['fip_any'] == {'iface_a', 'iface_b', 'router'}   # 'public' is ext's name
    assert 'fip_bare' not in deps                      # a parameter names nothing known
    assert deps['assoc'] == {'iface_b'}


def test_other_types_and_unrelated_networks_declare_nothing():
    deps = implicit()
    for name in ('net', 'ext', 'sub_a', 'sub_b', 'ext_sub'):
        assert name not in deps
    lone = {'net': NET, 'port': {'type': 'OS::Neutron::Port',
                                 'properties': {'network': 'elsewhere'}}}
    assert implicit(lone) == {}


def test_the_graph_deletes_the_port_before_the_subnet_it_does_not_name():
    defn = definition(TOPOLOGY, implicit=registry.implicit_dependencies)
    deps = defn.dependencies()
    assert {'sub_a', 'sub_b'} <= deps['port']
    order = defn.order()
    assert order.index('port') > order.index('sub_a')    # deletes go the other way
    assert order.index('fip') > order.index('iface_b') > order.index('sub_b')


# -- through the engine, on the simulator ---------------------------------------------------

STACK = {
    'net': {'type': 'OS::Neutron::Net'},
    'subnet': {'type': 'OS::Neutron::Subnet', 'properties': {
        'network': {'get_resource': 'net'}, 'cidr': '10.250.0.0/24'}},
    'port': {'type': 'OS::Neutron::Port', 'properties': {
        'network': {'get_resource': 'net'}}},
}


@sqlite_only
def test_deleting_a_port_on_a_subnet_it_does_not_name(client, conn, conf, database):
    """The port is deleted before the subnet (the rows' requires say so), so Neutron never
    answers 409 "One or more ports have an IP allocation from this subnet", even when the
    port's delete is slow."""
    with paths_on('legacy', conf, database) as paths:
        stack = paths.create('ports', tmpl(STACK), 't.yaml')
        assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
        stored = rows(paths, 'ports')
        assert stored['subnet'].id in stored['port'].requires
        ids = {name: row.physical_resource_id for name, row in stored.items()}
        client.faults(**{'ports.delete': {'latency': 0.5}})
        stack = paths.delete('ports')
    assert stack['stack_status'] == 'DELETE_COMPLETE', stack['stack_status_reason']
    assert conn.network.find_port(ids['port']) is None
    assert conn.network.find_subnet(ids['subnet']) is None


TOPOLOGY_STACK = {
    'ext': {'type': 'OS::Neutron::Net', 'properties': {
        'name': 'public', 'value_specs': {'router:external': True}}},
    'ext_sub': {'type': 'OS::Neutron::Subnet', 'properties': {
        'network': {'get_resource': 'ext'}, 'cidr': '172.31.250.0/24'}},
    'net': {'type': 'OS::Neutron::Net'},
    'subnet': {'type': 'OS::Neutron::Subnet', 'properties': {
        'network': {'get_resource': 'net'}, 'cidr': '10.251.0.0/24', 'name': 'private'}},
    'router': {'type': 'OS::Neutron::Router', 'properties': {
        'external_gateway_info': {'network': 'public'}}},
    'iface': {'type': 'OS::Neutron::RouterInterface', 'properties': {
        'router': {'get_resource': 'router'}, 'subnet': 'private'}},
    'port': {'type': 'OS::Neutron::Port', 'properties': {
        'network': {'get_resource': 'net'}}},
    'fip': {'type': 'OS::Neutron::FloatingIP', 'properties': {
        'floating_network': {'get_resource': 'ext'},
        'port_id': {'get_resource': 'port'}}},
}


@sqlite_only
def test_a_floating_ip_waits_for_the_interface_that_makes_its_port_reachable(
        client, conn, conf, database):
    """Nothing in the template orders the floating IP after the router interface, the
    interface after the subnet it names by name, nor the router after the external subnet
    its gateway port takes an address from; the implicit dependencies do, and the stack
    creates and deletes (without them the delete meets Neutron's 409 on the external
    subnet)."""
    unique = uuid.uuid4().hex[:8]      # literal names, unique in the shared simulator
    text = tmpl(TOPOLOGY_STACK).replace('public', 'public-' + unique).replace(
        'private', 'private-' + unique)
    with paths_on('legacy', conf, database) as paths:
        stack = paths.create('fip', text, 't.yaml')
        assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
        stored = rows(paths, 'fip')
        assert {stored['iface'].id, stored['router'].id} <= set(stored['fip'].requires)
        assert stored['subnet'].id in stored['iface'].requires
        assert stored['ext_sub'].id in stored['router'].requires
        fip = conn.network.get_ip(stored['fip'].physical_resource_id)
        assert fip.router_id == stored['router'].physical_resource_id
        stack = paths.delete('fip')
    assert stack['stack_status'] == 'DELETE_COMPLETE', stack['stack_status_reason']
    assert conn.network.find_ip(fip.id) is None
