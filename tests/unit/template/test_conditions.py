"""Tests for heat_taskflow.template.conditions, through StackDefinition."""

import textwrap

import pytest

from heat_taskflow.template import StackDefinition, Template, TemplateError
from tests.unit.template.conftest import TEST_VERSION

pytestmark = pytest.mark.usefixtures('test_version')

HEAD = 'heat_template_version: %s\n' % TEST_VERSION


def defn(body, **params):
    t = Template.parse(HEAD + textwrap.dedent(body), filename='c.yaml')
    return StackDefinition(t, params=params)


BODY = """\
parameters:
  env: {type: string, default: dev}
  zones: {type: number, default: 1}
conditions:
  prod: {equals: [{get_param: env}, prod]}
  multi: {not: {equals: [{get_param: zones}, 1]}}
  prod_multi: {and: [prod, multi]}
  always: true
  alias_of_prod: prod
resources:
  base: {type: X}
  lb:
    type: LB
    condition: prod_multi
  monitor:
    type: M
    condition: prod
  cheap:
    type: C
    condition: {not: prod}
  never:
    type: N
    condition: false
outputs:
  lb_ip:
    condition: prod_multi
    value: {get_attr: [lb, ip]}
  base_id:
    value: {get_resource: base}
"""


def test_conditions_evaluate_with_parameters():
    d = defn(BODY)
    assert d.conditions == {'prod': False, 'multi': False, 'prod_multi': False,
                            'always': True, 'alias_of_prod': False}
    assert set(d.resources) == {'base', 'cheap'}
    d = defn(BODY, env='prod', zones=3)
    assert d.conditions['prod_multi'] is True
    assert d.conditions['alias_of_prod'] is True
    assert set(d.resources) == {'base', 'lb', 'monitor'}


def test_outputs_with_false_condition_resolve_to_none():
    d = defn(BODY)
    d.validate()
    out = d.resolve_outputs({})
    assert out['lb_ip'] == {'value': None, 'description': None, 'error': None}
    assert d.output_dependencies() == {'base'}


def test_condition_cycle_is_named_in_order():
    d = defn("""\
        conditions:
          a: {and: [b, true]}
          b: {or: [c]}
          c: {not: a}
        resources: {}
        """)
    with pytest.raises(TemplateError) as err:
        d.validate()
    assert 'conditions refer to each other in a cycle: a -> b -> c -> a' in str(err.value)
    assert err.value.path == ('conditions', 'a')
    assert err.value.line == 3


def test_condition_that_names_itself():
    d = defn('conditions:\n  a: a\n')
    with pytest.raises(TemplateError, match='cycle: a -> a'):
        d.validate()


def test_reference_to_undefined_condition_inside_expression():
    d = defn('conditions:\n  a: {and: [b, true]}\n')
    with pytest.raises(TemplateError, match="condition 'b' is not defined"):
        d.validate()


def test_condition_must_be_boolean():
    d = defn('parameters: {p: {type: string, default: x}}\n'
             'conditions:\n  a: {get_param: p}\n')
    with pytest.raises(TemplateError, match="condition 'a' must evaluate to true or false"):
        d.validate()


def test_function_not_allowed_in_conditions_section():
    with pytest.raises(TemplateError, match='not allowed in the conditions section') as err:
        defn('conditions:\n  a: {get_resource: x}\n')
    assert err.value.path == ('conditions', 'a')


def test_inline_condition_on_resource():
    d = defn("""\
        parameters: {n: {type: number, default: 2}}
        resources:
          a:
            type: X
            condition: {equals: [{get_param: n}, 2]}
          b:
            type: X
            condition: {equals: [{get_param: n}, 3]}
        """)
    assert set(d.resources) == {'a'}


def test_reference_to_conditioned_out_resource_is_an_error():
    d = defn("""\
        conditions: {disabled: false}
        resources:
          hidden: {type: X, condition: disabled}
          user:
            type: X
            properties:
              p: {get_attr: [hidden, a]}
        """)
    with pytest.raises(TemplateError) as err:
        d.dependencies()
    e = err.value
    assert 'refers to resource "hidden", which is not created because its condition disabled ' \
           'is false' in str(e)
    assert e.path == ('resources', 'user', 'properties', 'p')
    assert e.line == 8


def test_output_reference_to_conditioned_out_resource():
    d = defn("""\
        conditions: {disabled: false}
        resources:
          hidden: {type: X, condition: disabled}
        outputs:
          o: {value: {get_resource: hidden}}
        """)
    with pytest.raises(TemplateError, match="output 'o' refers to resource \"hidden\""):
        d.validate()


def test_if_function_uses_named_conditions():
    d = defn("""\
        parameters: {env: {type: string, default: prod}}
        conditions:
          prod: {equals: [{get_param: env}, prod]}
        resources:
          a:
            type: X
            properties:
              size: {if: [prod, big, small]}
        """)
    assert d.resolve_properties('a', {}) == {'size': 'big'}
    d2 = StackDefinition(d.template, params={'env': 'dev'})
    assert d2.resolve_properties('a', {}) == {'size': 'small'}
