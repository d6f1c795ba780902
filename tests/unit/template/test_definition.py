"""Tests for heat_taskflow.template.stack (StackDefinition) and resolution."""

import textwrap

import pytest

from heat_taskflow.template import (
    Environment,
    ResolvedType,
    ResourceState,
    StackDefinition,
    StackIdentity,
    Template,
    TemplateError,
    graph,
)

HEAD = 'heat_template_version: 2018-08-31\n'


def tpl(body):
    return Template.parse(HEAD + textwrap.dedent(body), filename='s.yaml')


def defn(body, env=None, **kw):
    return StackDefinition(tpl(body), env, **kw)


APP = """\
parameters:
  flavor: {type: string, default: small}
  password: {type: string, hidden: true}
  count: {type: number, default: 2}
resources:
  net: {type: OS::Neutron::Net}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
  server:
    type: My::Server
    depends_on: net
    properties:
      flavor: {get_param: flavor}
      count: {get_param: count}
      port: {get_resource: port}
      secret: {get_param: password}
      addr: {get_attr: [port, fixed_ips, 0, ip_address]}
      stack: {get_param: OS::stack_name}
      file: {get_file: 'boot.sh'}
    metadata:
      watch: {get_attr: [port, mac]}
  lonely: {type: OS::Heat::None}
outputs:
  ip:
    description: address
    value: {get_attr: [server, first_address]}
  all:
    value: {get_attr: [server]}
  broken:
    value: {get_attr: [server, networks, 0]}
"""


def app(**kw):
    env = Environment.load([('e.yaml', 'parameters: {password: hunter22}\n'
                                       'resource_registry:\n  "My::Server": server.yaml\n')])
    kw.setdefault('identity', StackIdentity('mystack', 'sid', 'pid'))
    kw.setdefault('files', {'boot.sh': '#!/bin/sh\n'})
    return StackDefinition(tpl(APP), env, **kw)


def test_parameters_env_and_masking():
    d = app(params={'count': '5'})
    assert d.parameters == {'flavor': 'small', 'password': 'hunter22', 'count': 5}
    assert d.masked_parameters()['password'] == '******'
    assert 'hunter22' not in repr(d)


def test_missing_parameter_is_reported_with_location():
    d = defn(APP)
    with pytest.raises(TemplateError) as err:
        d.validate()
    assert str(err.value) == ("s.yaml:4: parameters.password: parameter 'password': "
                              "no value given and it has no default")


def test_dependencies_from_get_resource_get_attr_metadata_and_depends_on():
    d = app()
    d.validate()
    assert d.dependencies() == {
        'net': frozenset(), 'port': frozenset({'net'}),
        'server': frozenset({'net', 'port'}), 'lonely': frozenset()}
    order = d.order()
    assert order.index('net') < order.index('port') < order.index('server')


def test_required_attributes_and_output_dependencies():
    d = app()
    assert d.required_attributes('port') == {'fixed_ips', 'mac'}
    assert d.required_attributes('server') == {'first_address', None, 'networks'}
    assert d.required_attributes('lonely') == frozenset()
    assert d.output_dependencies() == {'server'}


def test_resource_type_goes_through_registry():
    d = app()
    assert d.resource_type('server') == ResolvedType('My::Server', 'server.yaml')
    assert d.resource_type('net') == ResolvedType('OS::Neutron::Net', None)


def test_resolve_properties_against_states():
    d = app()
    states = {'net': ResourceState('net-1', {}),
              'port': ResourceState('port-1', {'fixed_ips': [{'ip_address': '10.0.0.5'}],
                                               'mac': 'aa:bb'})}
    props = d.resolve_properties('server', states)
    assert props == {'flavor': 'small', 'count': 2, 'port': 'port-1', 'secret': 'hunter22',
                     'addr': '10.0.0.5', 'stack': 'mystack', 'file': '#!/bin/sh\n'}
    assert d.resolve_metadata('server', states) == {'watch': 'aa:bb'}
    assert d.resolve_properties('port', states) == {'network': 'net-1'}


def test_validation_context_gives_none_for_resources():
    d = app()
    props = d.resolve_properties('server')
    assert props['port'] is None and props['addr'] is None
    assert props['flavor'] == 'small'


def test_resolve_outputs_carries_errors_as_text():
    d = app()
    states = {'server': ResourceState('srv', {'first_address': '1.2.3.4',
                                              'networks': 'not-a-list'})}
    out = d.resolve_outputs(states)
    assert out['ip'] == {'value': '1.2.3.4', 'description': 'address', 'error': None}
    assert out['all']['value'] == {'first_address': '1.2.3.4', 'networks': 'not-a-list'}
    assert set(out) == {'ip', 'all', 'broken'}
    assert all(set(v) == {'value', 'description', 'error'} for v in out.values())


def test_output_error_text_instead_of_exception():
    d = defn("""\
        parameters: {p: {type: json, default: {}}}
        outputs:
          bad: {value: {str_replace: {template: {get_param: p}, params: {}}}}
          good: {value: 1}
        """)
    out = d.resolve_outputs({})
    assert out['good'] == {'value': 1, 'description': None, 'error': None}
    assert out['bad']['value'] is None
    assert isinstance(out['bad']['error'], str) and out['bad']['error']


def test_cycle_reported_in_order_with_location():
    d = defn("""\
        resources:
          a:
            type: X
            properties: {p: {get_resource: b}}
          b:
            type: X
            properties: {p: {get_attr: [c, x]}}
          c:
            type: X
            depends_on: [a]
          d: {type: X}
        """)
    with pytest.raises(TemplateError) as err:
        d.dependencies()
    assert 'resources depend on each other in a cycle: a -> b -> c -> a' in str(err.value)
    assert err.value.line == 3
    with pytest.raises(TemplateError):
        d.validate()


def test_self_reference_is_a_cycle():
    d = defn('resources:\n  a:\n    type: X\n    properties: {me: {get_attr: [a, x]}}\n')
    with pytest.raises(TemplateError, match='cycle: a -> a'):
        d.dependencies()


def test_references_outside_properties_are_checked_but_not_ordered():
    d = defn("""\
        resources:
          a: {type: X}
          b:
            type: X
            update_policy: {after: {get_resource: a}}
        """)
    assert d.dependencies()['b'] == frozenset()
    assert d.resolve_field('b', 'update_policy', {'a': ResourceState('A')}) == {'after': 'A'}


def test_deletion_policy_from_parameter_is_validated():
    body = """\
        parameters: {dp: {type: string, default: Keep}}
        resources:
          a: {type: X, deletion_policy: {get_param: dp}}
        """
    with pytest.raises(TemplateError, match="invalid deletion_policy 'Keep'") as err:
        defn(body).validate()
    assert err.value.path == ('resources', 'a', 'deletion_policy')
    defn(body, params={'dp': 'Retain'}).validate()


def test_facade_and_pseudo_parameters():
    d = defn("""\
        resources:
          a:
            type: X
            properties:
              md: {resource_facade: metadata}
              id: {get_param: OS::stack_id}
              proj: {get_param: OS::project_id}
        """, facade={'metadata': {'k': 'v'}}, identity=StackIdentity('n', 'i', 'p'))
    assert d.resolve_properties('a', {}) == {'md': {'k': 'v'}, 'id': 'i', 'proj': 'p'}


def test_unknown_user_parameter_is_an_error():
    with pytest.raises(TemplateError, match="parameter 'nope' is given a value"):
        defn('resources: {}\n', params={'nope': 1}).validate()


def test_env_parameter_defaults_for_unknown_names_are_ignored():
    env = Environment.load([('e.yaml', 'parameter_defaults: {unused: 1, p: 3}\n')])
    d = defn('parameters: {p: {type: number}}\n', env)
    assert d.parameters == {'p': 3}


def test_graph_helpers():
    deps = {'a': frozenset(), 'b': frozenset({'a'}), 'c': frozenset({'a', 'b'})}
    assert graph.find_cycle(deps) is None
    assert graph.topological_order(deps) == ['a', 'b', 'c']
    long_chain = {'n%d' % i: frozenset({'n%d' % (i + 1)}) for i in range(20000)}
    long_chain['n20000'] = frozenset({'n0'})
    cycle = graph.find_cycle(long_chain)
    assert cycle[0] == cycle[-1] and len(cycle) == 20002


def test_large_layered_template_is_fast():
    # guards against per-resource scans of every other resource (quadratic time)
    import time

    from bench.bench_template import layered
    text = layered(2000)
    start = time.perf_counter()
    d = StackDefinition(Template.parse(text, max_size=len(text) + 1))
    d.validate()
    deps = d.dependencies()
    elapsed = time.perf_counter() - start
    assert deps['r1999'] == {'r1949', 'r1900'}
    assert elapsed < 3.0
