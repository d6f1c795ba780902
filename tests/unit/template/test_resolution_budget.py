"""The byte budget of one resolution (Limits.max_resolved_size) and bare errors of functions.

Each hostile case used to build hundreds of MB to GB during validation (issue #14, defect
2); each must now be refused before the data is built, with the function's path.
"""

import json
import time

import pytest

from heat_taskflow.template import StackDefinition, Template, TemplateError
from heat_taskflow.template import functions_base as fb
from heat_taskflow.template.limits import DEFAULT, MIB


def _defn(value, version='2021-04-16', parameters=None, params=None, outputs=None, **kw):
    doc = {'heat_template_version': version, 'parameters': parameters or {},
           'resources': {'x': {'type': 'OS::Heat::Value', 'properties': {'value': value}}}}
    if outputs is not None:
        doc['outputs'] = outputs
    text = json.dumps(doc)
    return StackDefinition(Template.parse(text, filename='t.yaml', max_size=len(text)),
                           params=params, **kw)


def _refused(defn, function, subpath=()):
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        defn.validate()
    assert time.monotonic() - start < 10
    err = info.value
    assert err.path == ('resources', 'x', 'properties', 'value') + subpath
    assert err.filename == 't.yaml' and err.line == 1
    assert err.message.startswith('%s: would build' % function)
    assert 'the limit of one resolution is 8 MiB ([DEFAULT] max_resolved_size)' in err.message
    return err


def test_str_replace_of_a_large_template_is_refused_before_building():
    # 25,000 placeholders times a 20 KB value: 477 MiB
    err = _refused(_defn({'str_replace': {'template': '$a' * 25000,
                                          'params': {'$a': 'v' * 20000}}}), 'str_replace')
    assert '476.9 MiB' in err.message


@pytest.mark.parametrize('fn', ['str_replace_strict', 'str_replace_vstrict'])
def test_strict_str_replace_is_held_to_the_same_budget(fn):
    _refused(_defn({fn: {'template': '$a' * 25000, 'params': {'$a': 'v' * 20000}}}), fn)


def test_repeat_of_a_large_string_is_refused_after_few_copies():
    value = {'repeat': {'template': '%a%%b%' + 'r' * 100000,
                        'for_each': {'%a%': list(range(100)), '%b%': list(range(100))}}}
    err = _refused(_defn(value), 'repeat')
    assert '10000 copies' in err.message


def test_repeat_refuses_one_copy_that_would_pass_the_budget():
    value = {'repeat': {'template': '%a%' * 50000, 'for_each': {'%a%': ['v' * 1000]}}}
    _refused(_defn(value), 'repeat')


def test_list_join_with_a_long_delimiter_is_refused():
    err = _refused(_defn({'list_join': ['d' * 200000, ['a'] * 10000]}), 'list_join')
    assert '1.9 GiB' in err.message


def test_cfn_join_and_replace_share_the_budget():
    _refused(_defn({'Fn::Join': ['d' * 200000, ['a'] * 10000]}, version='2013-05-23'),
             'Fn::Join')
    _refused(_defn({'Fn::Replace': [{'$a': 'v' * 20000}, '$a' * 25000]},
                   version='2013-05-23'), 'Fn::Replace')


def test_list_concat_and_map_merge_of_a_parameter_many_times():
    big = {'type': 'json', 'default': {'k': 'v' * (1 * MIB)}}
    many = [{'get_param': 'big'}] * 20
    err = _refused(_defn({'map_merge': many}, parameters={'big': big}), 'get_param',
                   ('map_merge', 7))
    assert 'would build more than 8.0 MiB' in err.message
    big_list = {'type': 'comma_delimited_list', 'default': ','.join(['a' * 1000] * 1000)}
    _refused(_defn({'list_concat': [{'get_param': 'l'}] * 20}, parameters={'l': big_list}),
             'get_param', ('list_concat', 8))


def test_str_split_into_millions_of_pieces_is_refused():
    limits = DEFAULT.replace(max_resolved_size=100000)
    _refused_small = _defn({'str_split': [',', ',' * 60000]}, limits=limits)
    with pytest.raises(TemplateError, match='str_split: would build'):
        _refused_small.validate()


def test_get_file_content_counts():
    limits = DEFAULT.replace(max_resolved_size=1000)
    d = _defn({'get_file': 'big.txt'}, limits=limits)
    d.files['big.txt'] = 'b' * 2000
    with pytest.raises(TemplateError, match='get_file: would build more than 2.0 KiB; '
                                            'the limit of one resolution is 1000 bytes'):
        d.validate()


def test_each_resolution_has_its_own_budget():
    # two resources and two outputs each building 7 MiB: each fits on its own
    inner = {'str_replace': {'template': '$b' * 1024, 'params': {'$b': 'v' * 1024}}}
    value = {'str_replace': {'template': '$a' * 6, 'params': {'$a': inner}}}
    text = json.dumps({'heat_template_version': '2021-04-16', 'resources': {
        'x': {'type': 'OS::Heat::Value', 'properties': {'value': value}},
        'y': {'type': 'OS::Heat::Value', 'properties': {'value': value}}},
        'outputs': {'o': {'value': value}, 'p': {'value': value}}})
    d = StackDefinition(Template.parse(text, filename='t.yaml'))
    assert d.validate()
    assert len(d.resolve_properties('x', {})['value']) == 6 * MIB
    outputs = d.resolve_outputs({})
    assert outputs['o']['error'] is None and outputs['p']['error'] is None


def test_a_lower_configured_limit_is_honoured():
    value = {'str_replace': {'template': '$a' * 10, 'params': {'$a': 'v' * 100}}}
    assert _defn(value).validate()
    with pytest.raises(TemplateError, match='limit of one resolution is 500 bytes'):
        _defn(value, limits=DEFAULT.replace(max_resolved_size=500)).validate()


def test_an_output_over_budget_is_an_output_error():
    value = {'list_join': ['d' * 200000, ['a'] * 100]}
    d = _defn('ok', outputs={'o': {'value': value}},
              limits=DEFAULT.replace(max_resolved_size=MIB))
    out = d.resolve_outputs({})
    assert 'list_join: would build' in out['o']['error']
    assert out['o']['value'] is None


def test_size_of_stops_counting_at_the_cap():
    shared = ['x' * 1000] * 1000
    nested = [shared] * 1000          # a billion characters if walked in full
    start = time.monotonic()
    assert fb.size_of(nested, cap=10000) > 10000
    assert time.monotonic() - start < 5
    assert fb.size_of({'a': [1, 'bc']}) == 2 + 3 + 2 + 8 + 4


def test_list_concat_unique_and_filter_stay_linear_on_long_lists():
    items = [str(i) for i in range(30000)]
    start = time.monotonic()
    d = _defn({'list_concat_unique': [items, items]})
    assert d.resolve_properties('x', {})['value'] == items
    d = _defn({'filter': [items, items + ['keep']]})
    assert d.resolve_properties('x', {})['value'] == ['keep']
    assert time.monotonic() - start < 10


def test_list_concat_unique_keeps_the_last_occurrence_by_content():
    d = _defn({'list_concat_unique': [[{'a': 1}, 'x', {'a': 1}], ['x', 2]]})
    assert d.resolve_properties('x', {})['value'] == [{'a': 1}, 'x', 2]


# -- bare Python errors (issue #14, defect 9) ------------------------------------------

@pytest.mark.parametrize('inner', ['list_concat_unique', 'list_concat'])
def test_get_param_of_an_empty_list_is_a_template_error(inner):
    with pytest.raises(TemplateError) as info:
        _defn({'get_param': {inner: []}}).validate()
    assert info.value.path == ('resources', 'x', 'properties', 'value')
    assert 'get_param' in info.value.message


@pytest.mark.parametrize('target', [['l'], {'m': 1}])
def test_map_replace_keys_mapping_to_a_list_or_map(target):
    value = {'map_replace': [{'a': 'b'}, {'keys': {'a': target}}]}
    with pytest.raises(TemplateError, match='key replacement must be a string or a number'):
        _defn(value).validate()


def test_an_unexpected_python_error_in_a_function_becomes_a_template_error():
    class Broken(fb.Function):
        def result(self, ctx):
            return {}['missing']

    class Ctx(fb.ResolutionContext):
        def parameter(self, name): raise KeyError(name)
        def resource_reference(self, name): return None
        def resource_attribute(self, name, attribute): return None
        def resource_attributes(self, name): return None
        def condition(self, name): return True
        def facade(self, kind): return None
        def file(self, key): return None

    with pytest.raises(TemplateError) as info:
        fb.resolve({'a': [Broken('broken', [], ('outputs', 'o', 'value'), None)]}, Ctx())
    assert info.value.path == ('outputs', 'o', 'value')
    assert 'KeyError' in info.value.message


def test_default_budget_of_a_bare_context():
    class Ctx(fb.ResolutionContext):
        parameter = resource_reference = resource_attribute = None
        resource_attributes = condition = facade = file = None

    Ctx.__abstractmethods__ = frozenset()
    assert Ctx().budget.limit == DEFAULT.max_resolved_size


# Argument shapes every function is poked with, literally and through a json parameter
# (so that the function meets them at resolution, past its static checks).
_SHAPES = [None, [], {}, 0, 1.5, True, 'x', '', [None], [[]], [{}], [1, 2], ['a', 'b'],
           {'a': None}, {'a': []}, {'a': {}}, [[1], [2]], [{'a': 1}, {'a': [1]}],
           [None, None], ['x', None], {'template': None, 'params': None},
           {'template': 1, 'params': {'a': []}}, {'template': 'a', 'params': {'a': {'b': [1]}}},
           {'for_each': {'%a%': [[1]]}, 'template': 'x'},
           [{'a': 'b'}, {'keys': {'a': ['l']}}], [{'a': 'b'}, {'values': {'b': ['l']}}],
           ['md5', ['x']], [',', 'a,b', 'x'], [',', 'a,b', [1]], ['', 'abc'],
           [',', ['a', ['b']]], {'port': [1]}, {'query': {'a': {'b': 1}}},
           ['a', 'b', [None]]]


@pytest.mark.parametrize('version', ['2013-05-23', '2021-04-16'])
def test_no_function_raises_a_bare_python_error_on_wrong_shapes(version):
    from heat_taskflow.template import versions

    bare = []
    for fn in sorted(versions.get(version).functions):
        if fn == 'yaql':
            continue
        for shape in _SHAPES:
            for literal in (True, False):
                args = shape if literal else {'get_param': ['j', 'v']}
                params = {'j': {'type': 'json', 'default': {'v': shape}}}
                text = json.dumps({
                    'heat_template_version': version, 'parameters': params,
                    'resources': {'r': {'type': 'OS::Heat::Value',
                                        'properties': {'value': {fn: args}}}},
                    'outputs': {'o': {'value': {fn: args}}}})
                try:
                    d = StackDefinition(Template.parse(text, filename='t.yaml'))
                    d.validate()
                    d.resolve_properties('r', {})
                    d.resolve_outputs({})
                except TemplateError:
                    pass
                except Exception as exc:  # noqa: BLE001 - what the test looks for
                    bare.append('%s %r: %s: %s' % (fn, args if literal else shape,
                                                   type(exc).__name__, exc))
    assert bare == []
