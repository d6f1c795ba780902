"""registry.StackView and registry.implicit_dependencies: what plugins see of their stack
when they declare dependencies the template does not state."""

import pytest
import yaml

from heat_taskflow.resources import base, registry
from heat_taskflow.template import Environment, StackDefinition, Template

RESOURCES = {
    'net': {'type': 'OS::Heat::None', 'properties': {'name': 'private'}},
    'other': {'type': 'OS::Heat::None', 'properties': {'name': 'public'}},
    'subnet': {'type': 'My::Subnet', 'properties': {'network': {'get_resource': 'net'}}},
    'port1': {'type': 'OS::Heat::None', 'properties': {'network': 'private'}},
    'port2': {'type': 'OS::Heat::None', 'properties': {'network': {'get_attr': ['net', 'id']}}},
    'port3': {'type': 'OS::Heat::None', 'properties': {'network': {'get_param': 'n'}}},
    'bare': {'type': 'OS::Heat::None'},
}


def definition(resources=RESOURCES, implicit=None):
    text = yaml.safe_dump({'heat_template_version': '2018-08-31',
                           'parameters': {'n': {'type': 'string', 'default': 'x'}},
                           'resources': resources})
    env = Environment.from_dict({'resource_registry': {'My::Subnet': 'OS::Heat::Value'}})
    return StackDefinition(Template.parse(text, filename='t.yaml'), env, implicit=implicit)


@pytest.fixture
def view():
    return registry.StackView(definition())


def test_names_types_after_the_registry_and_raw_properties(view):
    assert set(view.names()) == set(RESOURCES)
    assert view.type_of('subnet') == 'OS::Heat::Value'
    assert view.properties('subnet') == {'network': {'get_resource': 'net'}}
    assert view.properties('bare') == {}


@pytest.mark.parametrize('a, b, same', [
    ({'get_resource': 'net'}, {'get_resource': 'net'}, True),
    ({'get_resource': 'net'}, {'get_attr': ['net', 'id']}, True),
    ('private', {'get_resource': 'net'}, True),            # net's literal name
    ('private', {'get_attr': ['net', 'id']}, True),
    ({'get_param': 'n'}, {'get_param': 'n'}, True),        # equal snippets
    ('public', {'get_resource': 'net'}, False),
    ({'get_attr': ['net', 'name']}, {'get_resource': 'net'}, False),   # not the id
    ({'get_resource': 'net'}, {'get_resource': 'other'}, False),
    ({'get_param': 'n'}, 'x', False),                      # not resolved
    (None, None, False),
])
def test_same(view, a, b, same):
    assert view.same(a, b) is same
    assert view.same(b, a) is same


def test_resource_named(view):
    assert view.resource_named('private') == 'net'
    assert view.resource_named({'get_attr': ['net', 'id']}) == 'net'
    assert view.resource_named('nothing') is None


class PortLike(base.Resource):
    """After every resource whose ``network`` names the same network as its own."""

    properties_schema = None

    @classmethod
    def implicit_dependencies(cls, name, view):
        mine = view.properties(name).get('network')
        return [other for other in view.names()
                if other != name and view.type_of(other) == 'OS::Heat::Value'
                and view.same(view.properties(other).get('network'), mine)]


@pytest.fixture
def with_port_like(monkeypatch):
    classes = registry.classes()
    classes['Test::PortLike'] = PortLike
    monkeypatch.setattr(registry, '_classes', {
        registry.NAMESPACE: classes,
        registry.TEST_NAMESPACE: registry.classes(test_types=True)})


def test_implicit_dependencies_asks_each_plugin(with_port_like):
    resources = dict(RESOURCES)
    for port in ('port1', 'port2', 'port3'):
        resources[port] = dict(resources[port], type='Test::PortLike')
    defn = definition(resources, implicit=registry.implicit_dependencies)
    assert registry.implicit_dependencies(defn) == {'port1': {'subnet'}, 'port2': {'subnet'}}
    assert defn.dependencies()['port1'] == {'subnet'}
    assert defn.dependencies()['port2'] == {'net', 'subnet'}
    assert defn.dependencies()['port3'] == frozenset()
