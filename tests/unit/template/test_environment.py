"""Tests for heat_taskflow.template.environment."""

import pytest

from heat_taskflow.template import Environment, ResolvedType, TemplateError


def load(*texts):
    return Environment.load([('env%d.yaml' % i, t) for i, t in enumerate(texts)])


def test_sections_and_later_files_win():
    env = load(
        'parameters: {a: 1, b: 2}\nparameter_defaults: {x: old}\n',
        'parameters: {b: 3}\nparameter_defaults: {x: new, y: 1}\n')
    assert env.params == {'a': 1, 'b': 3}
    assert env.param_defaults == {'x': 'new', 'y': 1}
    assert env.filenames == ['env0.yaml', 'env1.yaml']


def test_empty_and_tolerated_sections():
    env = load('', 'event_sinks: [{type: zaqar-queue, target: q}]\n'
                   'encrypted_param_names: []\n')
    assert env.event_sinks == [{'type': 'zaqar-queue', 'target': 'q'}]
    assert env.encrypted_param_names == []


def test_encrypted_param_names_from_a_user_is_refused_not_ignored():
    # The engine writes it (#14): a user's list would protect nothing.
    with pytest.raises(TemplateError) as err:
        load('', 'parameters: {}\nencrypted_param_names: [pw]\n')
    assert err.value.filename == 'env1.yaml' and err.value.line == 2
    assert 'hidden: true' in str(err.value)


def test_unknown_section_names_file_section_and_line():
    with pytest.raises(TemplateError) as err:
        load('parameters: {}\n', 'parameters: {}\nresource_regsitry: {}\n')
    e = err.value
    assert e.filename == 'env1.yaml' and e.line == 2
    assert e.path == ('resource_regsitry',)
    assert str(e).startswith('env1.yaml:2: resource_regsitry: "resource_regsitry" is not a '
                             'valid environment section')


def test_section_type_errors():
    with pytest.raises(TemplateError, match='"parameters" must be a map'):
        load('parameters: [a]\n')
    with pytest.raises(TemplateError, match='"event_sinks" must be a list'):
        load('event_sinks: {a: 1}\n')
    with pytest.raises(TemplateError, match='not a YAML mapping'):
        load('- a\n')


def test_alias_chain_and_template_file():
    env = load('resource_registry:\n'
               '  "OS::Networking::Port": "OS::Neutron::Port"\n'
               '  "My::Server": "server.yaml"\n'
               '  "My::Alias": "My::Server"\n')
    assert env.resolve_type('OS::Networking::Port') == ResolvedType('OS::Neutron::Port', None)
    assert env.resolve_type('My::Alias') == ResolvedType('My::Server', 'server.yaml')
    assert env.resolve_type('OS::Nova::Server') == ResolvedType('OS::Nova::Server', None)


def test_type_that_is_a_file_name_is_a_template_resource():
    env = Environment()
    for name in ('nested.yaml', 'x.yml', 'old.template', 'https://example.com/t'):
        assert env.resolve_type(name) == ResolvedType(name, name)


def test_wildcards_longest_prefix_and_many_to_one():
    env = load('resource_registry:\n'
               '  "OS::Networking::*": "Net::*"\n'
               '  "OS::*": "OS::Heat::None"\n')
    assert env.resolve_type('OS::Networking::Router').type_name == 'Net::Router'
    # the many-to-one mapping does not match its own target
    assert env.resolve_type('OS::Nova::Server').type_name == 'OS::Heat::None'
    assert env.resolve_type('Other::Thing').type_name == 'Other::Thing'


def test_per_resource_override_wins_for_that_resource_only():
    env = load('resource_registry:\n'
               '  "OS::Nova::Server": "server.yaml"\n'
               '  resources:\n'
               '    db:\n'
               '      "OS::Nova::Server": "OS::Heat::None"\n'
               '      hooks: [pre-create, pre-delete]\n'
               '    "web_*":\n'
               '      restricted_actions: replace\n')
    assert env.resolve_type('OS::Nova::Server', 'db') == ResolvedType('OS::Heat::None', None)
    assert env.resolve_type('OS::Nova::Server', 'web') == ResolvedType('OS::Nova::Server',
                                                                        'server.yaml')
    assert env.hooks('db') == {'pre-create', 'pre-delete'}
    assert env.hooks('web') == frozenset()
    assert env.restricted_actions('web_1') == {'replace'}


def test_registry_merges_across_files_and_null_removes():
    env = load('resource_registry:\n  "A::X": "a.yaml"\n  "B::*": "C::*"\n  "B::One": "d.yaml"\n',
               'resource_registry:\n  "A::X": null\n  "B::*": null\n  "E::Y": "e.yaml"\n')
    assert env.resolve_type('A::X') == ResolvedType('A::X', None)
    assert env.resolve_type('B::Two').type_name == 'B::Two'
    # "B::*": null removes every B:: entry, as Heat does
    assert env.resolve_type('B::One') == ResolvedType('B::One', None)
    assert env.resolve_type('E::Y').template_file == 'e.yaml'


def test_mapping_loop_is_an_error():
    env = load('resource_registry:\n  "A": "B"\n  "B": "A"\n')
    with pytest.raises(TemplateError, match='loop: A -> B -> A'):
        env.resolve_type('A')


@pytest.mark.parametrize('text, message', [
    ('resource_registry:\n  "A": 5\n', 'must map to a resource type or a template file'),
    ('resource_registry:\n  "A::*": "t.yaml"\n', 'cannot map to a template file'),
    ('resource_registry:\n  resources: [a]\n', 'must be a map'),
    ('resource_registry:\n  resources:\n    r: {hooks: pre-lunch}\n', 'invalid hook'),
    ('resource_registry:\n  resources:\n    r: {restricted_actions: [delete]}\n',
     'invalid restricted action'),
    ('parameter_merge_strategies: {a: smash}\n', 'invalid merge strategy'),
])
def test_registry_errors_name_file_and_line(text, message):
    with pytest.raises(TemplateError, match=message) as err:
        load(text)
    assert err.value.filename == 'env0.yaml'
    assert err.value.line is not None


def test_parameter_merge_strategies():
    env = load('parameters: {l: [1], m: {a: 1, n: {x: 1}}, s: "a,b", o: 1}\n',
               'parameters: {l: [2], m: {b: 2, n: {y: 2}}, s: "c", o: 2}\n'
               'parameter_merge_strategies: {l: merge, m: deep_merge, s: merge}\n')
    assert env.params['l'] == [1, 2]
    assert env.params['m'] == {'a': 1, 'b': 2, 'n': {'x': 1, 'y': 2}}
    assert env.params['s'] == 'a,b,c'
    assert env.params['o'] == 2


def test_as_dict_round_trips():
    env = load('parameters: {a: 1}\nresource_registry:\n  "X": "x.yaml"\n'
               '  resources:\n    r: {hooks: pre-create}\n')
    again = Environment.from_dict(env.as_dict())
    assert again.params == {'a': 1}
    assert again.resolve_type('X').template_file == 'x.yaml'
    assert again.hooks('r') == {'pre-create'}
