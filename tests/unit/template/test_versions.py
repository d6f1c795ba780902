"""Tests for the per-version tables in heat_taskflow/template/versions.py."""

import pytest

from heat_taskflow.template import functions_base, versions
from heat_taskflow.template.errors import TemplateError

ALL = ['2013-05-23', '2014-10-16', '2015-04-30', '2015-10-15', '2016-04-08', '2016-10-14',
       '2017-02-24', '2017-09-01', '2018-03-02', '2018-08-31', '2021-04-16']

ALIASES = {'newton': '2016-10-14', 'ocata': '2017-02-24', 'pike': '2017-09-01',
           'queens': '2018-03-02', 'rocky': '2018-08-31', 'wallaby': '2021-04-16'}


def test_every_version_is_defined():
    assert sorted(versions.VERSIONS) == ALL


@pytest.mark.parametrize('alias, name', sorted(ALIASES.items()))
def test_alias(alias, name):
    assert versions.get(alias) is versions.get(name)
    assert versions.get(alias).name == name


def test_date_value_from_yaml_is_accepted():
    import datetime
    assert versions.get(datetime.date(2016, 10, 14)).name == '2016-10-14'


def test_unknown_version_lists_valid_ones():
    with pytest.raises(TemplateError) as info:
        versions.get('2012-12-12')
    assert '2012-12-12' in info.value.message
    for name in ALL:
        assert name in info.value.message
    assert info.value.path == ('heat_template_version',)


@pytest.mark.parametrize('name', ALL)
def test_reference_functions_resolve_in_every_version(name):
    from tests.unit.template.test_functions import FakeContext
    spec = versions.get(name)
    ctx = FakeContext(params={'p': 'v'}, refs={'r': 'rid'}, attrs={'r': {'a': 1}})
    snippet = functions_base.parse({'x': {'get_param': 'p'}, 'y': {'get_resource': 'r'},
                               'z': {'get_attr': ['r', 'a']}}, spec)
    assert functions_base.resolve(snippet, ctx) == {'x': 'v', 'y': 'rid', 'z': 1}


# -- the tables, transcribed from Heat's heat/engine/hot/template.py ------------------

_2013 = {'get_attr', 'get_file', 'get_param', 'get_resource', 'list_join', 'resource_facade',
         'str_replace', 'Fn::Base64', 'Fn::GetAZs', 'Fn::Join', 'Fn::MemberListToMap',
         'Fn::Replace', 'Fn::ResourceFacade', 'Fn::Select', 'Fn::Split', 'Ref'}
_2014 = {'get_attr', 'get_file', 'get_param', 'get_resource', 'list_join', 'resource_facade',
         'str_replace', 'Fn::Select'}
_2015a = _2014 | {'digest', 'repeat'}
_2015b = (_2015a - {'Fn::Select'}) | {'str_split'}
_2016a = _2015b | {'map_merge'}
_2016b = _2016a | {'yaql', 'map_replace', 'if'}
_2017a = _2016b | {'filter', 'str_replace_strict'}
_2017b = _2017a | {'make_url', 'list_concat', 'str_replace_vstrict', 'list_concat_unique',
                   'contains'}

HEAT_FUNCTIONS = {
    '2013-05-23': _2013, '2014-10-16': _2014, '2015-04-30': _2015a, '2015-10-15': _2015b,
    '2016-04-08': _2016a, '2016-10-14': _2016b, '2017-02-24': _2017a, '2017-09-01': _2017b,
    '2018-03-02': _2017b, '2018-08-31': _2017b, '2021-04-16': _2017b,
}

_C2016 = {'get_param', 'equals', 'not', 'and', 'or'}
_C2017 = _C2016 | {'yaql', 'contains'}
HEAT_CONDITION_FUNCTIONS = {
    '2013-05-23': set(), '2014-10-16': set(), '2015-04-30': set(), '2015-10-15': set(),
    '2016-04-08': set(), '2016-10-14': _C2016, '2017-02-24': _C2016, '2017-09-01': _C2017,
    '2018-03-02': _C2017, '2018-08-31': _C2017,
    '2021-04-16': _C2017 | {'if'},      # wallaby: `if` in the conditions section
}

# Functions no HOT version has in resources/outputs (condition-only, or CFN-only).
NEVER_IN_HOT = {'equals', 'not', 'and', 'or', 'Fn::GetAtt', 'Fn::FindInMap', 'Fn::If',
                'Fn::Equals', 'Fn::Not', 'Fn::And', 'Fn::Or'}

EVERY_NAME = sorted(set().union(*HEAT_FUNCTIONS.values()) | NEVER_IN_HOT)

MD5_X = '9dd4e461268c8034f5c8564e155c67a6'

# One call per function that is valid wherever the function exists, and its value.
SAMPLES = {
    'get_param': ('p', 'v'),
    'get_resource': ('r', 'rid'),
    'get_attr': (['r', 'a'], 1),
    'get_file': ('f.txt', 'content'),
    'list_join': (['-', ['a', 'b']], 'a-b'),
    'str_replace': ({'template': 'xa', 'params': {'a': 'b'}}, 'xb'),
    'str_replace_strict': ({'template': 'xa', 'params': {'a': 'b'}}, 'xb'),
    'str_replace_vstrict': ({'template': 'xa', 'params': {'a': 'b'}}, 'xb'),
    'resource_facade': ('metadata', {'m': 1}),
    'digest': (['md5', 'x'], MD5_X),
    'repeat': ({'for_each': {'%x%': ['1', '2']}, 'template': 'n%x%'}, ['n1', 'n2']),
    'str_split': ([',', 'a,b'], ['a', 'b']),
    'map_merge': ([{'a': 1}, {'b': 2}], {'a': 1, 'b': 2}),
    'map_replace': ([{'a': 1}, {'keys': {'a': 'b'}}], {'b': 1}),
    'yaql': ({'expression': '1 + 1'}, 2),
    'if': ([True, 'y', 'n'], 'y'),
    'filter': ([['a'], ['a', 'b']], ['b']),
    'make_url': ({'scheme': 'http', 'host': 'h'}, 'http://h'),
    'list_concat': ([['a'], ['b']], ['a', 'b']),
    'list_concat_unique': ([['a'], ['a']], ['a']),
    'contains': (['a', ['a']], True),
    'equals': (['a', 'a'], True),
    'not': (True, False),
    'and': ([True, True], True),
    'or': ([False, True], True),
    'Fn::GetAZs': ('', ['nova']),
    'Fn::Select': ([0, ['a']], 'a'),
    'Fn::Join': (['-', ['a', 'b']], 'a-b'),
    'Fn::Split': ([',', 'a,b'], ['a', 'b']),
    'Fn::Replace': ([{'a': 'b'}, 'xa'], 'xb'),
    'Fn::Base64': ('x', 'x'),
    'Fn::MemberListToMap': (['N', 'V', ['.member.0.N=k', '.member.0.V=v']], {'k': 'v'}),
    'Fn::ResourceFacade': ('Metadata', {'m': 1}),
    'Ref': ('p', 'v'),
    'Fn::GetAtt': (['r', 'a'], 1),
    'Fn::FindInMap': (['m', 'k', 'v'], None),
    'Fn::If': (['c', 'a', 'b'], None),
    'Fn::Equals': (['a', 'a'], None),
    'Fn::Not': ([True], None),
    'Fn::And': ([True, True], None),
    'Fn::Or': ([True, True], None),
}


def _ctx():
    from tests.unit.template.test_functions import FakeContext
    return FakeContext(params={'p': 'v'}, refs={'r': 'rid'}, attrs={'r': {'a': 1}},
                       files={'f.txt': 'content'}, facade={'metadata': {'m': 1}})


def test_samples_cover_every_function_name():
    names = set().union(*(s.all_function_names for s in versions.VERSIONS.values()))
    assert names == set(EVERY_NAME) == set(SAMPLES)


FUNCTION_TABLE = [(v, fn, fn in HEAT_FUNCTIONS[v]) for v in ALL for fn in EVERY_NAME]


@pytest.mark.parametrize('version, fn, allowed', FUNCTION_TABLE)
def test_function_table(version, fn, allowed):
    spec = versions.get(version)
    args, expected = SAMPLES[fn]
    assert (fn in spec.functions) is allowed
    if allowed:
        parsed = functions_base.parse({'out': {fn: args}}, spec, ('outputs',))
        assert functions_base.resolve(parsed, _ctx()) == {'out': expected}
    else:
        with pytest.raises(TemplateError) as info:
            functions_base.parse({'out': {fn: args}}, spec, ('outputs',))
        assert '"%s"' % fn in info.value.message and version in info.value.message
        assert info.value.path == ('outputs', 'out')


CONDITION_TABLE = [(v, fn, fn in HEAT_CONDITION_FUNCTIONS[v]) for v in ALL
                   for fn in sorted(_C2017 | {'if', 'get_resource', 'get_attr', 'str_split',
                                              'Fn::Select'})]


@pytest.mark.parametrize('version, fn, allowed', CONDITION_TABLE)
def test_condition_function_table(version, fn, allowed):
    spec = versions.get(version)
    args, expected = SAMPLES[fn]
    assert (fn in spec.condition_functions) is allowed
    if allowed:
        parsed = functions_base.parse_condition({fn: args}, spec, ('conditions', 'c'))
        assert functions_base.resolve(parsed, _ctx()) == expected
    else:
        with pytest.raises(TemplateError) as info:
            functions_base.parse_condition({fn: args}, spec, ('conditions', 'c'))
        assert '"%s"' % fn in info.value.message and version in info.value.message


def test_removed_cfn_function_names_the_version():
    with pytest.raises(TemplateError) as info:
        functions_base.parse({'Fn::Join': [',', ['a']]}, versions.get('2014-10-16'), ('x',))
    assert str(info.value) == ('x: function "Fn::Join" is not available in '
                               'heat_template_version 2014-10-16')


def test_fn_select_lasts_until_2015_04_30():
    assert 'Fn::Select' in versions.get('2015-04-30').functions
    assert 'Fn::Select' not in versions.get('2015-10-15').functions


@pytest.mark.parametrize('name', ALL)
def test_sections_and_keys(name):
    spec = versions.get(name)
    base_sections = {'heat_template_version', 'description', 'parameter_groups',
                     'parameters', 'resources', 'outputs'}
    base_resource = {'type', 'properties', 'metadata', 'depends_on', 'deletion_policy',
                     'update_policy', 'description'}
    newton = name >= '2016-10-14'
    assert spec.sections == base_sections | ({'conditions'} if newton else set())
    assert spec.resource_keys == base_resource | (
        {'condition', 'external_id'} if newton else set())
    assert spec.output_keys == {'description', 'value'} | ({'condition'} if newton else set())
    assert spec.all_function_names == versions.get('2013-05-23').all_function_names


def test_tables_are_read_only():
    spec = versions.get('rocky')
    with pytest.raises(TypeError):
        spec.functions['x'] = object
    with pytest.raises(TypeError):
        spec.condition_functions['x'] = object


@pytest.mark.parametrize('version, fn, cls_name', [
    ('2013-05-23', 'get_attr', 'GetAttr'),
    ('2015-04-30', 'get_attr', 'GetAttr'),
    ('2015-10-15', 'get_attr', 'GetAttrAll'),
    ('2015-04-30', 'list_join', 'ListJoin'),
    ('2015-10-15', 'list_join', 'ListJoinMultiple'),
    ('2015-04-30', 'str_replace', 'StrReplace'),
    ('2015-10-15', 'str_replace', 'StrReplaceJson'),
    ('2016-04-08', 'repeat', 'Repeat'),
    ('2016-10-14', 'repeat', 'RepeatWithMap'),
    ('2017-09-01', 'repeat', 'RepeatNested'),
    ('2018-08-31', 'if', 'If'),
    ('2021-04-16', 'if', 'IfNullable'),
])
def test_version_specific_classes(version, fn, cls_name):
    assert versions.get(version).functions[fn].__name__ == cls_name
