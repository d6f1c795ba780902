"""StackDefinition(implicit=...): dependencies the template does not state, merged into the
graph by the template layer (which only calls the provider), cycles left out."""

import pytest
import yaml

from heat_taskflow.template import StackDefinition, Template
from heat_taskflow.template.errors import TemplateError


def definition(resources, implicit=None):
    text = yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources})
    return StackDefinition(Template.parse(text, filename='t.yaml'), implicit=implicit)


def provider(edges):
    """A fake implicit-dependency provider that records the definitions it was given."""
    def implicit(defn):
        implicit.seen.append(defn)
        return {name: frozenset(deps) for name, deps in edges.items()}
    implicit.seen = []
    return implicit


NONE = {'type': 'OS::Heat::None'}


def test_implicit_edges_join_the_references():
    implicit = provider({'port': {'subnet'}})
    defn = definition({'net': NONE, 'subnet': {'type': 'OS::Heat::None',
                                               'properties': {'n': {'get_resource': 'net'}}},
                       'port': {'type': 'OS::Heat::None',
                                'properties': {'n': {'get_resource': 'net'}}}}, implicit)
    assert defn.dependencies() == {'net': frozenset(), 'subnet': {'net'},
                                   'port': {'net', 'subnet'}}
    assert defn.order().index('subnet') < defn.order().index('port')
    assert implicit.seen == [defn]


def test_an_implicit_edge_that_would_close_a_cycle_is_left_out():
    # b requires a in the template; a declared implicit "after b" would make a cycle.
    defn = definition({'a': NONE, 'b': {'type': 'OS::Heat::None',
                                        'properties': {'x': {'get_resource': 'a'}}},
                       'c': NONE},
                      provider({'a': {'b', 'c'}}))
    assert defn.dependencies() == {'a': {'c'}, 'b': {'a'}, 'c': frozenset()}


def test_implicit_edges_between_themselves_do_not_make_a_cycle():
    defn = definition({'a': NONE, 'b': NONE}, provider({'a': {'b'}, 'b': {'a'}}))
    deps = defn.dependencies()
    # The first in name order wins; the reverse edge would close a cycle.
    assert deps == {'a': {'b'}, 'b': frozenset()}


def test_implicit_edges_to_unknown_or_inactive_names_and_self_are_ignored():
    defn = definition({'a': NONE, 'b': NONE}, provider({'a': {'a', 'ghost'}, 'ghost': {'b'}}))
    assert defn.dependencies() == {'a': frozenset(), 'b': frozenset()}


def test_without_a_provider_only_the_template_counts():
    defn = definition({'a': NONE, 'b': {'type': 'OS::Heat::None',
                                        'properties': {'x': {'get_resource': 'a'}}}})
    assert defn.dependencies() == {'a': frozenset(), 'b': {'a'}}


def test_a_stated_cycle_is_still_an_error():
    with pytest.raises(TemplateError, match='cycle'):
        definition({'a': {'type': 'OS::Heat::None', 'properties': {'x': {'get_resource': 'b'}}},
                    'b': {'type': 'OS::Heat::None', 'properties': {'x': {'get_resource': 'a'}}}},
                   provider({})).dependencies()
