"""Child templates a user writes (OS::Heat::Stack's ``template`` property, a template
resource's file) are parsed under the stack's budgets (issue #14): an alias bomb or deep
nesting is refused with the line inside the text, never built."""

import time

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.exceptions import InvalidProperties
from heat_taskflow.resources.types import template_resource
from heat_taskflow.resources.types.stack import Stack
from heat_taskflow.template.limits import Limits
from tests.unit.resources.fakes import FakeContext


def alias_bomb(levels=9):
    """A template whose one parameter default expands to 9**levels strings."""
    lines = ['heat_template_version: 2018-08-31', 'parameters:', '  p:', '    type: json',
             '    default:', '      - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol",'
             '"lol"]']
    for i in range(1, levels):
        lines.append('      - &a%d [%s]' % (i, ','.join(['*a%d' % (i - 1)] * 9)))
    return '\n'.join(lines) + '\n'


def nested(depth):
    return 'heat_template_version: 2018-08-31\nx: ' + '[' * depth + ']' * depth + '\n'


def test_stack_property_alias_bomb_is_refused_quickly():
    res = Stack('child', {'template': alias_bomb()}, FakeContext())
    start = time.monotonic()
    with pytest.raises(InvalidProperties, match=r"property 'template': template:\d+: .*"
                                                'max_template_nodes'):
        res.validate()
    assert time.monotonic() - start < 10
    # the same refusal when the plugin builds the child (a property that was not static)
    with pytest.raises(InvalidProperties, match='max_template_nodes'):
        res.child_template()


@pytest.mark.parametrize('depth', [500, 5000])
def test_stack_property_deep_nesting_is_refused(depth):
    res = Stack('child', {'template': nested(depth)}, FakeContext())
    with pytest.raises(InvalidProperties, match="property 'template': template:2: "):
        res.validate()


def test_stack_property_uses_the_plugins_limits():
    text = nested(20)
    Stack('child', {'template': text}, FakeContext()).validate()
    res = Stack('child', {'template': text}, FakeContext())
    res.limits = Limits(max_template_depth=10)
    with pytest.raises(InvalidProperties, match='nests deeper than 10 levels'):
        res.validate()


def test_template_resource_file_alias_bomb_is_refused_quickly():
    template_resource._parse_text.cache_clear()
    start = time.monotonic()
    with pytest.raises(ValueError, match=r'bomb.yaml:\d+: .*max_template_nodes'):
        registry.get_template_resource_class('My::Bomb', 'bomb.yaml', alias_bomb())
    with pytest.raises(ValueError, match='bomb.yaml:2: document nests deeper than 100 levels'):
        registry.get_template_resource_class('My::Deep', 'bomb.yaml', nested(500))
    assert time.monotonic() - start < 10
    cls = registry.get_template_resource_class('My::Small', 'small.yaml', alias_bomb(2),
                                               limits=Limits(max_template_nodes=1000))
    assert set(cls.properties_schema) == {'p'}
    with pytest.raises(ValueError, match='max_template_nodes'):
        registry.get_template_resource_class('My::Small', 'small.yaml', alias_bomb(4),
                                             limits=Limits(max_template_nodes=1000))
