"""Tests for the intrinsic functions (template/functions_*.py), read through the version tables."""

import time

import pytest

from heat_taskflow.template import functions_base, versions
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.functions_base import ResolutionContext
from heat_taskflow.template.limits import Limits


class FakeContext(ResolutionContext):
    """A ResolutionContext over plain dicts; missing things answer None like validation."""

    stack_name = 'mystack'
    stack_id = 'stack-id-1'
    project_id = 'project-1'

    def __init__(self, params=None, refs=None, attrs=None, conditions=None,
                 facade=None, files=None):
        self.params = params or {}
        self.refs = refs or {}
        self.attrs = attrs or {}
        self.conditions = conditions or {}
        self.facades = facade or {}
        self.files = files or {}
        self.conditions_asked = []

    def parameter(self, name):
        return self.params[name]

    def resource_reference(self, name):
        return self.refs.get(name)

    def resource_attribute(self, name, attribute):
        return self.attrs.get(name, {}).get(attribute)

    def resource_attributes(self, name):
        return self.attrs.get(name)

    def condition(self, name):
        self.conditions_asked.append(name)
        return self.conditions[name]

    def facade(self, kind):
        return self.facades.get(kind)

    def file(self, key):
        return self.files.get(key)


LATEST = versions.get('2021-04-16')


def run(snippet, ctx=None, version=LATEST):
    """Parse a snippet with a version and resolve it."""
    return functions_base.resolve(functions_base.parse(snippet, version, ('outputs', 'o', 'value')),
                             ctx or FakeContext())


def error_of(snippet, ctx=None, version=LATEST):
    """The TemplateError raised while parsing or resolving a snippet."""
    with pytest.raises(TemplateError) as info:
        run(snippet, ctx, version)
    return info.value


# -- get_param ---------------------------------------------------------------

PARAMS = {'name': 'web', 'list': ['a', 'b', 'c'], 'map': {'k': {'inner': [10, 20]}},
          'n': 3}


@pytest.mark.parametrize('args, expected', [
    ('name', 'web'),
    (['name'], 'web'),
    (['list', 1], 'b'),
    (['list', '2'], 'c'),              # string index into a list, as Heat allows
    (['map', 'k', 'inner', 0], 10),
    (['map', 'missing'], ''),          # a path that leads nowhere gives ''
    (['list', 7], ''),
    (['n', 'x'], ''),
    ('OS::stack_name', 'mystack'),
    ('OS::stack_id', 'stack-id-1'),
    ('OS::project_id', 'project-1'),
])
def test_get_param(args, expected):
    assert run({'get_param': args}, FakeContext(params=PARAMS)) == expected


def test_get_param_path_from_functions():
    snippet = {'get_param': ['map', {'get_param': 'key'}, 'inner', 1]}
    assert run(snippet, FakeContext(params=dict(PARAMS, key='k'))) == 20


@pytest.mark.parametrize('args, subpath', [
    ([], ()),
    ({'a': 1}, ()),
    (5, ()),
    ([['x'], 1], (0,)),
    (['list', 1.5], (1,)),
])
def test_get_param_bad_arguments(args, subpath):
    err = error_of({'value': {'get_param': args}})
    assert err.message.startswith('get_param: ')
    assert err.path == ('outputs', 'o', 'value', 'value') + subpath


def test_get_param_bad_argument_path_points_at_function():
    err = error_of({'get_param': {'a': 1}})
    assert err.path == ('outputs', 'o', 'value')
    assert str(err).startswith('outputs.o.value: get_param:')


def test_get_param_unknown_parameter():
    err = error_of({'get_param': 'nope'}, FakeContext(params=PARAMS))
    assert 'nope' in err.message and 'get_param' in err.message


def test_get_param_unknown_value_is_none():
    assert run({'get_param': ['u', 0]}, FakeContext(params={'u': None})) is None


# -- get_resource ------------------------------------------------------------

def test_get_resource():
    fn = functions_base.parse({'get_resource': 'server'}, LATEST)
    assert fn.resource_refs() == ('server',)
    assert functions_base.dependencies({'a': [fn]}) == {'server'}
    assert functions_base.resolve(fn, FakeContext(refs={'server': 'uuid-1'})) == 'uuid-1'
    assert functions_base.resolve(fn, FakeContext()) is None


@pytest.mark.parametrize('args', [['server'], {'get_param': 'x'}, 3])
def test_get_resource_bad_arguments(args):
    err = error_of({'get_resource': args})
    assert 'get_resource' in err.message
    assert err.path == ('outputs', 'o', 'value')


# -- get_attr ----------------------------------------------------------------

ATTRS = {'server': {'first_address': '10.0.0.1',
                    'networks': {'private': ['10.0.0.1', '10.0.0.2']},
                    'show': {'id': 'x'}}}


@pytest.mark.parametrize('args, expected', [
    (['server', 'first_address'], '10.0.0.1'),
    (['server', 'networks', 'private', 1], '10.0.0.2'),
    (['server', 'networks', 'private', '0'], '10.0.0.1'),
    (['server', 'networks', 'public'], None),       # missing path: None, as in Heat
    (['server', 'nothing'], None),
    (['server'], ATTRS['server']),                   # all attributes, 2015-10-15+
])
def test_get_attr(args, expected):
    assert run({'get_attr': args}, FakeContext(attrs=ATTRS)) == expected


def test_get_attr_refs():
    fn = functions_base.parse({'get_attr': ['server', 'networks', 'private']}, LATEST)
    assert fn.resource_refs() == ('server',)
    assert fn.attribute_refs() == (('server', 'networks'),)
    whole = functions_base.parse({'get_attr': ['server']}, LATEST)
    assert functions_base.attribute_refs([fn, whole]) == {('server', 'networks'), ('server', None)}
    computed = functions_base.parse({'get_attr': ['server', {'get_param': 'a'}]}, LATEST)
    assert computed.attribute_refs() == (('server', None),)


def test_get_attr_computed_attribute_name():
    snippet = {'get_attr': ['server', {'get_param': 'which'}]}
    ctx = FakeContext(params={'which': 'first_address'}, attrs=ATTRS)
    assert run(snippet, ctx) == '10.0.0.1'


def test_get_attr_resource_only_needs_2015_10_15():
    old = versions.get('2015-04-30')
    err = error_of({'get_attr': ['server']}, version=old)
    assert 'get_attr' in err.message and '[resource_name, attribute' in err.message
    assert run({'get_attr': ['server']}, FakeContext(attrs=ATTRS),
               versions.get('2015-10-15')) == ATTRS['server']


@pytest.mark.parametrize('args, subpath', [
    ('server', ()),
    ([], ()),
    ([{'get_param': 'r'}, 'a'], (0,)),
    (['server', 1.5], (1,)),
])
def test_get_attr_bad_arguments(args, subpath):
    err = error_of({'get_attr': args})
    assert 'get_attr' in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_get_attr_version_2013_selects_path():
    old = versions.get('2013-05-23')
    assert run({'get_attr': ['server', 'networks', 'private', 0]},
               FakeContext(attrs=ATTRS), old) == '10.0.0.1'


# -- get_file, resource_facade -------------------------------------------------

def test_get_file():
    ctx = FakeContext(files={'file:///a.sh': '#!/bin/sh\n'})
    assert run({'get_file': 'file:///a.sh'}, ctx) == '#!/bin/sh\n'


def test_get_file_missing_key_is_error():
    err = error_of({'get_file': 'b.sh'}, FakeContext(files={'a.sh': 'x'}))
    assert 'get_file' in err.message and 'b.sh' in err.message
    assert err.path == ('outputs', 'o', 'value')


def test_get_file_bad_argument():
    err = error_of({'get_file': ['a.sh']})
    assert err.message.startswith('get_file: ')


@pytest.mark.parametrize('kind', ['metadata', 'deletion_policy', 'update_policy'])
def test_resource_facade(kind):
    ctx = FakeContext(facade={kind: {'value-of': kind}})
    assert run({'resource_facade': kind}, ctx) == {'value-of': kind}


def test_resource_facade_bad_argument():
    err = error_of({'resource_facade': 'properties'})
    assert 'resource_facade' in err.message and 'metadata' in err.message


# -- str_replace family ---------------------------------------------------------

def replace(fn='str_replace', template='', params=None, version=LATEST, ctx=None):
    return run({fn: {'template': template, 'params': params or {}}}, ctx, version)


def test_str_replace_basic_and_numbers():
    assert replace(template='http://$host:$port/', params={'$host': 'h', '$port': 80}) \
        == 'http://h:80/'


def test_str_replace_longest_key_wins_and_values_not_rescanned():
    assert replace(template='var var1', params={'var': 'a', 'var1': 'b'}) == 'a b'
    assert replace(template='x', params={'x': 'y', 'y': 'z'}) == 'y'


def test_str_replace_none_param_is_empty():
    assert replace(template='a<b>c', params={'<b>': None}) == 'ac'


def test_str_replace_json_values_from_2015_10_15():
    params = {'M': {'b': 1, 'a': [1, 2]}}
    assert replace(template='v=M', params=params) == 'v={"a": [1, 2], "b": 1}'
    err = error_of({'str_replace': {'template': 'v=M', 'params': params}},
                   version=versions.get('2015-04-30'))
    assert 'str_replace' in err.message and 'strings or numbers' in err.message


def test_str_replace_params_from_function():
    ctx = FakeContext(params={'p': {'%n%': 'web'}})
    assert run({'str_replace': {'template': 'host-%n%', 'params': {'get_param': 'p'}}},
               ctx) == 'host-web'


def test_str_replace_unknown_template_is_none():
    snippet = {'str_replace': {'template': {'get_attr': ['r', 'a']}, 'params': {'a': 'b'}}}
    assert run(snippet) is None


@pytest.mark.parametrize('args, subpath, words', [
    ('text', (), 'must be a map'),
    ({'template': 'x'}, (), 'missing "params"'),
    ({'params': {}}, (), 'missing "template"'),
    ({'template': 'x', 'params': ['a']}, ('params',), 'params must be a map'),
    ({'template': ['x'], 'params': {}}, ('template',), 'template must be a string'),
])
def test_str_replace_bad_arguments(args, subpath, words):
    err = error_of({'str_replace': args})
    assert err.message.startswith('str_replace: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_str_replace_strict():
    assert replace('str_replace_strict', 'a-b', {'a': 'x', 'b': 'y'}) == 'x-y'
    err = error_of({'str_replace_strict': {'template': 'a', 'params': {'a': 1, 'zz': 2}}})
    assert 'str_replace_strict' in err.message and 'zz' in err.message
    # plain str_replace does not mind unused params
    assert replace(template='a', params={'a': 1, 'zz': 2}) == '1'


@pytest.mark.parametrize('value', [None, '', [], {}])
def test_str_replace_vstrict_rejects_empty(value):
    err = error_of({'str_replace_vstrict': {'template': 'a', 'params': {'a': value}}})
    assert 'str_replace_vstrict' in err.message and 'empty' in err.message
    # strict (not very strict) accepts the same value
    assert isinstance(replace('str_replace_strict', 'a', {'a': value}), str)


def test_str_replace_vstrict_accepts_values():
    assert replace('str_replace_vstrict', 'a', {'a': 0}) == '0'


# -- list_join -----------------------------------------------------------------

def test_list_join():
    assert run({'list_join': [', ', ['a', 'b', None]]}) == 'a, b, '


def test_list_join_several_lists_and_json_items():
    assert run({'list_join': ['-', ['a'], ['b', {'k': 1}], None]}) == 'a-b-{"k": 1}'


def test_list_join_before_2015_10_15_takes_one_list_of_strings():
    old = versions.get('2015-04-30')
    assert run({'list_join': ['-', ['a', 'b']]}, version=old) == 'a-b'
    err = error_of({'list_join': ['-', ['a'], ['b']]}, version=old)
    assert 'list_join' in err.message and '[delimiter, [string, ...]]' in err.message
    err = error_of({'list_join': ['-', ['a', ['b']]]}, version=old)
    assert 'must be strings' in err.message


@pytest.mark.parametrize('args, subpath', [
    ('a,b', ()),
    ([','], ()),
    ([[','], ['a']], (0,)),
    ([',', 'ab'], (1,)),
])
def test_list_join_bad_arguments(args, subpath):
    err = error_of({'list_join': args})
    assert err.message.startswith('list_join: ')
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_list_join_unknown_delimiter_is_none():
    assert run({'list_join': [{'get_attr': ['r', 'd']}, ['a']]}) is None


# -- repeat --------------------------------------------------------------------

def test_repeat_single_list():
    snippet = {'repeat': {'for_each': {'%p%': ['80', 443]},
                          'template': {'port': '%p%', 'name': 'rule-%p%'}}}
    assert run(snippet) == [{'port': '80', 'name': 'rule-80'},
                            {'port': '443', 'name': 'rule-443'}]


def test_repeat_several_keys_are_permutations():
    snippet = {'repeat': {'for_each': {'<a>': ['x', 'y'], '<b>': ['1', '2']},
                          'template': '<a><b>'}}
    assert run(snippet) == ['x1', 'x2', 'y1', 'y2']


def test_repeat_permutations_false_pairs_items():
    snippet = {'repeat': {'for_each': {'<a>': ['x', 'y'], '<b>': ['1', '2']},
                          'template': '<a><b>', 'permutations': False}}
    assert run(snippet) == ['x1', 'y2']


def test_repeat_permutations_false_needs_equal_lengths():
    snippet = {'repeat': {'for_each': {'<a>': ['x', 'y'], '<b>': ['1']},
                          'template': '<a><b>', 'permutations': False}}
    assert 'same length' in error_of(snippet).message


def test_repeat_permutations_needs_2017_09_01():
    snippet = {'repeat': {'for_each': {'<a>': ['x']}, 'template': '<a>',
                          'permutations': False}}
    err = error_of(snippet, version=versions.get('2017-02-24'))
    assert 'permutations' in err.message and '2017-02-24' in err.message
    assert err.path == ('outputs', 'o', 'value', 'permutations')


def test_repeat_map_keys_from_2016_10_14():
    snippet = {'repeat': {'for_each': {'<k>': {'a': 1, 'b': 2}}, 'template': '<k>'}}
    assert run(snippet) == ['a', 'b']
    err = error_of(snippet, version=versions.get('2016-04-08'))
    assert 'must be lists' in err.message


def test_repeat_limit_on_copies():
    snippet = {'repeat': {'for_each': {'<a>': [str(i) for i in range(200)],
                                       '<b>': [str(i) for i in range(200)]},
                          'template': '<a><b>'}}
    err = error_of(snippet)
    assert err.message.startswith('repeat: ') and '40000' in err.message


def test_repeat_for_each_from_function_and_unknown():
    snippet = {'repeat': {'for_each': {'<x>': {'get_param': 'xs'}}, 'template': 'n-<x>'}}
    assert run(snippet, FakeContext(params={'xs': ['1', '2']})) == ['n-1', 'n-2']
    assert run(snippet, FakeContext(params={'xs': None})) == []


@pytest.mark.parametrize('args, subpath, words', [
    (['x'], (), 'must be a map'),
    ({'template': 'x'}, (), 'missing "for_each"'),
    ({'for_each': {'a': ['1']}}, (), 'missing "template"'),
    ({'for_each': ['a'], 'template': 'x'}, ('for_each',), 'map of placeholders'),
    ({'for_each': {'a': 'str'}, 'template': 'x'}, ('for_each', 'a'), 'must be lists'),
    ({'for_each': {'a': ['1']}, 'template': 'x', 'permutations': 'no'},
     ('permutations',), 'boolean'),
])
def test_repeat_bad_arguments(args, subpath, words):
    err = error_of({'repeat': args})
    assert err.message.startswith('repeat: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


# -- digest --------------------------------------------------------------------

@pytest.mark.parametrize('algorithm', ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512',
                                       'SHA256'])
def test_digest(algorithm):
    import hashlib
    expected = hashlib.new(algorithm.lower(), b'hello').hexdigest()
    assert run({'digest': [algorithm, 'hello']}) == expected


def test_digest_of_param_and_unknown():
    assert run({'digest': ['md5', {'get_param': 'v'}]}, FakeContext(params={'v': 'x'})) \
        == '9dd4e461268c8034f5c8564e155c67a6'
    assert run({'digest': ['md5', {'get_attr': ['r', 'a']}]}) is None


@pytest.mark.parametrize('args, subpath, words', [
    ('md5', (), '[algorithm, value]'),
    (['md5'], (), '[algorithm, value]'),
    (['crc32', 'x'], (0,), 'algorithm must be one of'),
    (['md5', 5], (1,), 'must be a string'),
])
def test_digest_bad_arguments(args, subpath, words):
    err = error_of({'digest': args})
    assert err.message.startswith('digest: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


# -- str_split -------------------------------------------------------------------

def test_str_split():
    assert run({'str_split': [',', 'a,b,c']}) == ['a', 'b', 'c']
    assert run({'str_split': [',', 'a,b,c', 1]}) == 'b'
    assert run({'str_split': [',', 'a,b,c', '2']}) == 'c'
    assert run({'str_split': [',', {'get_attr': ['r', 'a']}]}) is None


@pytest.mark.parametrize('args, subpath, words', [
    ('a,b', (), '[delimiter, string, (index)]'),
    ([','], (), '[delimiter, string, (index)]'),
    ([',', 'a,b', 5], (2,), 'between 0 and 1'),
    ([',', 'a,b', 'x'], (2,), 'integer'),
    ([',', ['a']], (), 'must be a string'),
])
def test_str_split_bad_arguments(args, subpath, words):
    err = error_of({'str_split': args})
    assert err.message.startswith('str_split: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


# -- map_merge, map_replace --------------------------------------------------------

def test_map_merge():
    assert run({'map_merge': [{'a': 1, 'b': 2}, {'b': 3}, None, {'c': 4}]}) \
        == {'a': 1, 'b': 3, 'c': 4}


@pytest.mark.parametrize('args, subpath', [({'a': 1}, ()), ([{'a': 1}, 'x'], (1,))])
def test_map_merge_bad_arguments(args, subpath):
    err = error_of({'map_merge': args})
    assert err.message.startswith('map_merge: ')
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_map_merge_non_map_from_function():
    err = error_of({'map_merge': [{'get_param': 'p'}]}, FakeContext(params={'p': 'x'}))
    assert 'must be maps' in err.message


def test_map_replace_keys_and_values():
    snippet = {'map_replace': [{'k1': 'v1', 'k2': 'v2', 'k3': ['l']},
                               {'keys': {'k1': 'K1'}, 'values': {'v2': 'V2'}}]}
    assert run(snippet) == {'K1': 'v1', 'k2': 'V2', 'k3': ['l']}


def test_map_replace_only_keys_or_values():
    assert run({'map_replace': [{'a': 'b'}, {'values': {'b': 'c'}}]}) == {'a': 'c'}
    assert run({'map_replace': [{'a': 'b'}, {'keys': {'a': 'z'}}]}) == {'z': 'b'}


@pytest.mark.parametrize('source, keys, words', [
    ({'a': 1, 'b': 2}, {'a': 'b'}, 'collides with a key in the input map'),
    ({'a': 1, 'b': 2}, {'a': 'c', 'b': 'c'}, 'collides with a key in the output map'),
])
def test_map_replace_key_collisions(source, keys, words):
    err = error_of({'map_replace': [source, {'keys': keys}]})
    assert err.message.startswith('map_replace: ') and words in err.message


@pytest.mark.parametrize('args, subpath, words', [
    ({'a': 1}, (), 'must be of the form'),
    ([{'a': 1}], (), 'must be of the form'),
    (['x', {}], (0,), 'must be maps'),
    ([{'a': 1}, {'kees': {}}], (1, 'kees'), 'only "keys" and "values"'),
    ([{'a': 1}, {'keys': ['a']}], (1, 'keys'), 'must be a map'),
])
def test_map_replace_bad_arguments(args, subpath, words):
    err = error_of({'map_replace': args})
    assert err.message.startswith('map_replace: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


# -- list_concat, filter, contains ------------------------------------------------

def test_list_concat():
    assert run({'list_concat': [['a', 'b'], None, ['b', {'m': 1}]]}) \
        == ['a', 'b', 'b', {'m': 1}]


def test_list_concat_unique():
    assert run({'list_concat_unique': [['a', 'b', {'m': 1}], ['b', 'c', {'m': 1}]]}) \
        == ['a', 'b', 'c', {'m': 1}]


@pytest.mark.parametrize('fn', ['list_concat', 'list_concat_unique'])
@pytest.mark.parametrize('args, subpath', [({'a': 1}, ()), ([['a'], 'b'], (1,))])
def test_list_concat_bad_arguments(fn, args, subpath):
    err = error_of({fn: args})
    assert err.message.startswith(fn + ': ')
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_filter():
    assert run({'filter': [[None, 'b'], ['a', None, 'b', 'c']]}) == ['a', 'c']
    assert run({'filter': [[], ['a']]}) == ['a']
    assert run({'filter': [['a'], []]}) == []


@pytest.mark.parametrize('args, subpath', [('x', ()), ([['a']], ()), (['a', ['b']], (0,))])
def test_filter_bad_arguments(args, subpath):
    err = error_of({'filter': args})
    assert err.message.startswith('filter: ')
    assert err.path == ('outputs', 'o', 'value') + subpath


@pytest.mark.parametrize('args, expected', [
    (['a', ['a', 'b']], True),
    (['c', ['a', 'b']], False),
    ([1, [1, 2]], True),
    (['ell', 'hello'], True),
])
def test_contains(args, expected):
    assert run({'contains': args}) is expected


def test_contains_bad_arguments():
    err = error_of({'contains': ['a']})
    assert err.message.startswith('contains: ')
    err = error_of({'contains': ['a', {'k': 'v'}]})
    assert err.path == ('outputs', 'o', 'value', 1)
    err = error_of({'contains': ['a', {'get_param': 'p'}]}, FakeContext(params={'p': 5}))
    assert 'sequence' in err.message


# -- make_url ------------------------------------------------------------------------

def test_make_url_all_parts():
    snippet = {'make_url': {'scheme': 'https', 'username': 'us er', 'password': 'p@ss',
                            'host': 'example.com', 'port': 8443, 'path': '/a b/c',
                            'query': {'q': 'x/y', 'n': '1'}, 'fragment': 'frag'}}
    assert run(snippet) == 'https://us%20er:p%40ss@example.com:8443/a%20b/c?q=x/y&n=1#frag'


def test_make_url_ipv6_host_and_minimal():
    assert run({'make_url': {'scheme': 'http', 'host': '::1', 'port': '80'}}) \
        == 'http://[::1]:80'
    assert run({'make_url': {'scheme': 'http', 'host': '[fe80::1]'}}) == 'http://[fe80::1]'
    assert run({'make_url': {'scheme': 'http', 'host': 'h', 'path': 'p'}}) == 'http://h/p'


@pytest.mark.parametrize('args, subpath, words', [
    ('http://x', (), 'must be a map'),
    ({'scheme': 'http', 'hots': 'x'}, ('hots',), 'unknown key "hots"'),
    ({'port': 70000}, ('port',), '1-65535'),
    ({'port': 'http'}, ('port',), 'invalid port'),
    ({'query': 'a=b'}, ('query',), 'must be a map'),
    ({'host': 5}, ('host',), 'must be a string'),
    ({'scheme': 'http:'}, ('scheme',), 'must not contain'),
])
def test_make_url_bad_arguments(args, subpath, words):
    err = error_of({'make_url': args})
    assert err.message.startswith('make_url: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_make_url_unknown_part_is_none():
    assert run({'make_url': {'scheme': 'http', 'host': {'get_attr': ['r', 'ip']}}}) is None


# -- equals, not, and, or (the conditions section) ------------------------------------

def cond(snippet, ctx=None, version=LATEST):
    parsed = functions_base.parse_condition(snippet, version, ('conditions', 'c'))
    return functions_base.resolve(parsed, ctx or FakeContext())


def test_equals():
    ctx = FakeContext(params={'env': 'prod'})
    assert cond({'equals': [{'get_param': 'env'}, 'prod']}, ctx) is True
    assert cond({'equals': [{'get_param': 'env'}, 'dev']}, ctx) is False
    assert cond({'equals': [[1, {'a': 2}], [1, {'a': 2}]]}) is True


def test_not_and_or_with_names_booleans_and_functions():
    ctx = FakeContext(params={'n': 3}, conditions={'yes': True, 'no': False})
    assert cond({'not': 'no'}, ctx) is True
    assert cond({'not': True}, ctx) is False
    assert cond({'and': ['yes', {'equals': [{'get_param': 'n'}, 3]}]}, ctx) is True
    assert cond({'and': ['yes', 'no']}, ctx) is False
    assert cond({'or': ['no', {'not': 'yes'}]}, ctx) is False
    assert cond({'or': ['no', True]}, ctx) is True
    assert ctx.conditions_asked.count('yes') >= 2


@pytest.mark.parametrize('snippet, subpath, words', [
    ({'equals': ['a']}, (), '[value_1, value_2]'),
    ({'equals': 'a'}, (), '[value_1, value_2]'),
    ({'not': 5}, (), 'condition name'),
    ({'and': ['a']}, (), 'minimum number of conditions is 2'),
    ({'or': 'a'}, (), 'list of conditions'),
    ({'and': ['a', 5]}, (1,), 'condition name'),
])
def test_condition_functions_bad_arguments(snippet, subpath, words):
    with pytest.raises(TemplateError) as info:
        cond(snippet)
    name = next(iter(snippet))
    assert info.value.message.startswith(name + ': ') and words in info.value.message
    assert info.value.path == ('conditions', 'c') + subpath


def test_resource_function_in_conditions_section_is_error():
    with pytest.raises(TemplateError) as info:
        cond({'equals': [{'get_resource': 'r'}, 'x']})
    assert 'get_resource' in info.value.message and 'conditions section' in info.value.message
    assert info.value.path == ('conditions', 'c', 'equals', 0)


def test_condition_functions_outside_conditions_section_are_errors():
    err = error_of({'equals': ['a', 'a']})
    assert 'equals' in err.message and '2021-04-16' in err.message


# -- if --------------------------------------------------------------------------------

def test_if_resolves_only_chosen_branch():
    ctx = FakeContext(conditions={'big': True, 'small': False},
                      params={'p': 'value'})
    snippet = {'if': ['big', {'get_param': 'p'}, {'get_param': 'not-defined'}]}
    assert run(snippet, ctx) == 'value'
    snippet = {'if': ['small', {'get_param': 'not-defined'}, 'other']}
    assert run(snippet, ctx) == 'other'


def test_if_with_inline_condition_and_boolean():
    ctx = FakeContext(params={'env': 'prod'})
    snippet = {'if': [{'equals': [{'get_param': 'env'}, 'prod']}, 'p', 'd']}
    assert run(snippet, ctx) == 'p'
    assert run({'if': [False, 'p', 'd']}) == 'd'


def test_if_without_false_branch_from_2021_04_16():
    ctx = FakeContext(conditions={'c': False, 't': True})
    assert run({'if': ['c', 'x']}, ctx) is None
    assert run({'if': ['t', 'x']}, ctx) == 'x'
    # the enclosing list item or map entry is dropped, as if it were not written
    snippet = {'keep': 1, 'drop': {'if': ['c', 2]},
               'list': ['a', {'if': ['c', 'b']}, {'if': ['t', 'c']}]}
    assert run(snippet, ctx) == {'keep': 1, 'list': ['a', 'c']}
    assert run({'list_join': [',', ['a', {'if': ['c', 'b']}, 'd']]}, ctx) == 'a,d'
    # a positional argument never shifts: it reads None
    assert run({'str_split': [',', {'if': ['c', 'x']}]}, ctx) is None
    assert run({'digest': ['md5', {'if': ['c', 'x']}]}, ctx) is None
    err = error_of({'if': ['c', 'x']}, ctx, versions.get('2018-08-31'))
    assert err.message.startswith('if: ') and 'value_if_false' in err.message


def test_if_dependencies_and_select_branches():
    snippet = functions_base.parse({'if': ['c', {'get_resource': 'a'}, {'get_resource': 'b'}]},
                              LATEST)
    assert functions_base.dependencies(snippet) == {'a', 'b'}
    chosen = functions_base.select_branches({'x': [snippet]}, FakeContext(conditions={'c': False}))
    assert functions_base.dependencies(chosen) == {'b'}


def test_select_branches_inside_other_functions():
    snippet = functions_base.parse(
        {'list_join': [',', [{'if': ['c', {'get_resource': 'a'}, 'z']}]]}, LATEST)
    ctx = FakeContext(conditions={'c': False}, refs={'a': 'A'})
    chosen = functions_base.select_branches(snippet, ctx)
    assert functions_base.dependencies(chosen) == set()
    assert functions_base.dependencies(snippet) == {'a'}        # the original is untouched
    assert functions_base.resolve(chosen, ctx) == 'z'


@pytest.mark.parametrize('args, subpath', [
    ('c', ()),
    (['c', 'x', 'y', 'z'], ()),
    ([5, 'x', 'y'], (0,)),
])
def test_if_bad_arguments(args, subpath):
    err = error_of({'if': args})
    assert err.message.startswith('if: ')
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_if_allowed_in_conditions_section_only_from_2021_04_16():
    ctx = FakeContext(conditions={'a': True})
    assert cond({'if': ['a', True, False]}, ctx) is True
    with pytest.raises(TemplateError) as info:
        cond({'if': ['a', True, False]}, ctx, versions.get('2018-08-31'))
    assert 'if' in info.value.message and 'conditions section' in info.value.message


# -- yaql ------------------------------------------------------------------------------

def test_yaql():
    snippet = {'yaql': {'expression': '$.data.nums.sum()',
                        'data': {'nums': {'get_param': 'n'}}}}
    assert run(snippet, FakeContext(params={'n': [1, 2, 3]})) == 6
    assert run({'yaql': {'expression': '$.data.a.select($ * 2)', 'data': {'a': [1, 2]}}}) \
        == [2, 4]
    assert run({'yaql': {'expression': '1 + 2'}}) == 3


def test_yaql_in_conditions_from_2017_09_01():
    ctx = FakeContext(params={'n': 5})
    snippet = {'yaql': {'expression': '$.data.n > 3', 'data': {'n': {'get_param': 'n'}}}}
    assert cond(snippet, ctx) is True
    with pytest.raises(TemplateError):
        cond(snippet, ctx, versions.get('2017-02-24'))


def test_yaql_bad_expression_is_reported_at_parse_time():
    with pytest.raises(TemplateError) as info:
        functions_base.parse({'yaql': {'expression': '$.data.('}}, LATEST, ('outputs', 'o'))
    assert info.value.message.startswith('yaql: bad expression')
    assert info.value.path == ('outputs', 'o', 'expression')


@pytest.mark.parametrize('args, subpath, words', [
    ('1+1', (), 'must be a map'),
    ({'data': {}}, (), 'missing "expression"'),
    ({'expression': '1', 'date': {}}, ('date',), 'unknown key'),
    ({'expression': 5}, ('expression',), 'must be a string'),
])
def test_yaql_bad_arguments(args, subpath, words):
    err = error_of({'yaql': args})
    assert err.message.startswith('yaql: ') and words in err.message
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_yaql_limits():
    long_expr = '1' + ' + 1' * 5000
    err = error_of({'yaql': {'expression': long_expr}})
    assert 'longer than' in err.message
    err = error_of({'yaql': {'expression': 'range(100000).select($)'}})
    assert err.message.startswith('yaql: evaluation failed') and '200' in err.message
    err = error_of({'yaql': {'expression': 'concat("x" * 100000)'}})
    assert 'memory' in err.message


def test_yaql_evaluation_error_and_unknown_data():
    err = error_of({'yaql': {'expression': '$.data.a.len()', 'data': {'a': 5}}})
    assert err.message.startswith('yaql: evaluation failed')
    unknown = {'yaql': {'expression': '$.data.a.len()', 'data': {'a': {'get_attr': ['r', 'x']}}}}
    assert run(unknown) is None


class LimitedContext(FakeContext):
    """A FakeContext that carries Limits, as the StackContext does."""

    def __init__(self, limits, **kwargs):
        super().__init__(**kwargs)
        self.limits = limits


def test_yaql_hostile_expressions_are_refused_with_path_and_budget():
    # pow(10, 100000000) ran past 30 s; pow(2, 10000000000) took 42 s and 4 GB
    start = time.monotonic()
    err = error_of({'yaql': {'expression': 'pow(10, 100000000)'}})
    assert err.message == 'yaql: evaluation failed: the result would have more than 4300 digits'
    assert err.path == ('outputs', 'o', 'value')
    err = error_of({'yaql': {'expression': 'range(0, 1000000000).len()'}})
    assert 'at most 1000000' in err.message
    assert time.monotonic() - start < 10


def test_yaql_runs_under_the_contexts_time_budget():
    ctx = LimitedContext(Limits(yaql_timeout=0.5))
    snippet = {'yaql': {'expression': "regex('^(a|aa)+$').matches($.data.s)",
                        'data': {'s': 'a' * 60 + 'b'}}}
    start = time.monotonic()
    err = error_of(snippet, ctx)
    assert time.monotonic() - start < 10
    assert err.message == 'yaql: ran longer than 0.5 s ([DEFAULT] yaql_timeout)'
    assert err.path == ('outputs', 'o', 'value')


def test_yaql_result_counts_against_the_resolution_budget():
    ctx = FakeContext()
    ctx.budget = functions_base.Budget(300)
    assert run({'yaql': {'expression': 'range(0, 50).select($)'}}, ctx) == list(range(50))
    assert ctx.budget.used == len(str(list(range(50))).replace(' ', ''))
    err = error_of({'yaql': {'expression': 'range(0, 100).select($)'}}, ctx)
    assert err.message == ('yaql: would build more than 301 bytes; the limit of one '
                           'resolution is 300 bytes ([DEFAULT] max_resolved_size)')
    assert err.path == ('outputs', 'o', 'value')


def test_yaql_expression_from_a_function_is_checked_when_resolved():
    ctx = FakeContext(params={'e': '$.data.('})
    err = error_of({'yaql': {'expression': {'get_param': 'e'}}}, ctx)
    assert err.message.startswith('yaql: bad expression')
    assert err.path == ('outputs', 'o', 'value', 'expression')
    assert run({'yaql': {'expression': {'get_param': 'e'}, 'data': {'n': 1}}},
               FakeContext(params={'e': '$.data.n + 1'})) == 2


# -- unknown inputs never raise TypeError ------------------------------------------------

UNKNOWN = {'get_attr': ['r', 'unknown']}


@pytest.mark.parametrize('snippet, expected', [
    ({'list_join': [UNKNOWN, [UNKNOWN]]}, None),
    ({'list_join': [',', UNKNOWN]}, ''),                # Heat: a missing list is empty
    ({'str_replace': {'template': UNKNOWN, 'params': UNKNOWN}}, None),
    ({'str_replace_strict': {'template': 'x', 'params': UNKNOWN}}, None),
    ({'digest': [UNKNOWN, UNKNOWN]}, None),
    ({'repeat': {'for_each': UNKNOWN, 'template': 'x'}}, None),
    ({'str_split': [UNKNOWN, UNKNOWN]}, None),
    ({'map_merge': UNKNOWN}, None),
    ({'map_replace': [UNKNOWN, UNKNOWN]}, None),
    ({'list_concat': UNKNOWN}, None),
    ({'list_concat_unique': [UNKNOWN]}, []),            # Heat: a missing list is empty
    ({'contains': [UNKNOWN, UNKNOWN]}, None),
    ({'filter': [UNKNOWN, UNKNOWN]}, None),
    ({'make_url': {'host': UNKNOWN, 'port': UNKNOWN, 'query': UNKNOWN}}, None),
    ({'get_param': ['list', UNKNOWN]}, None),
    ({'get_attr': ['r', UNKNOWN, UNKNOWN]}, None),
    ({'yaql': {'expression': UNKNOWN}}, None),
    ({'not': {'equals': [{'get_param': 'u'}, 1]}}, True),
])
def test_unknown_arguments_resolve_without_type_errors(snippet, expected):
    version = versions.get('2021-04-16')
    parse = functions_base.parse_condition if 'not' in snippet else functions_base.parse
    parsed = parse(snippet, version)
    assert functions_base.resolve(parsed, FakeContext(params=dict(PARAMS, u=None))) == expected


# -- CFN functions of HOT 2013-05-23 ------------------------------------------------------

V2013 = versions.get('2013-05-23')


@pytest.mark.parametrize('snippet, expected', [
    ({'Fn::Select': ['1', ['a', 'b']]}, 'b'),
    ({'Fn::Select': [1, ['a', 'b']]}, 'b'),
    ({'Fn::Select': [5, ['a', 'b']]}, ''),
    ({'Fn::Select': ['k', {'k': 'v'}]}, 'v'),
    ({'Fn::Select': ['x', {'k': 'v'}]}, ''),
    ({'Fn::Select': ['0', '["j", "s"]']}, 'j'),        # serialized JSON
    ({'Fn::Select': ['0', '']}, ''),
    ({'Fn::Join': [',', ['a', 'b']]}, 'a,b'),
    ({'Fn::Split': [',', 'a,b']}, ['a', 'b']),
    ({'Fn::Replace': [{'$a': 'x', '%b%': 2}, '$a is %b%']}, 'x is 2'),
    ({'Fn::Base64': 'plain'}, 'plain'),
    ({'Fn::MemberListToMap': ['Name', 'Value', ['.member.0.Name=k1', '.member.0.Value=v1',
                                                '.member.1.Name=k2', '.member.1.Value=v2']]},
     {'k1': 'v1', 'k2': 'v2'}),
    ({'Fn::GetAZs': ''}, ['nova']),
])
def test_cfn_functions(snippet, expected):
    assert run(snippet, version=V2013) == expected


def test_cfn_resource_facade():
    ctx = FakeContext(facade={'metadata': {'m': 1}, 'deletion_policy': 'Retain',
                              'update_policy': {'u': 2}})
    assert run({'Fn::ResourceFacade': 'Metadata'}, ctx, V2013) == {'m': 1}
    assert run({'Fn::ResourceFacade': 'DeletionPolicy'}, ctx, V2013) == 'Retain'
    assert run({'Fn::ResourceFacade': 'UpdatePolicy'}, ctx, V2013) == {'u': 2}
    err = error_of({'Fn::ResourceFacade': 'metadata'}, ctx, V2013)
    assert 'Fn::ResourceFacade' in err.message and 'Metadata' in err.message


def test_ref_parameter_or_resource():
    ctx = FakeContext(params={'size': 'm1'}, refs={'server': 'uuid'})
    assert run({'Ref': 'size'}, ctx, V2013) == 'm1'
    assert run({'Ref': 'server'}, ctx, V2013) == 'uuid'
    assert run({'Ref': 'OS::stack_name'}, ctx, V2013) == 'mystack'


def test_ref_dependencies_skip_parameters():
    snippet = functions_base.parse([{'Ref': 'size'}, {'Ref': 'server'}, {'Ref': 'OS::stack_id'}],
                              V2013)
    assert functions_base.dependencies(snippet, parameters={'size'}) == {'server'}
    assert functions_base.dependencies(snippet) == {'size', 'server'}


@pytest.mark.parametrize('snippet, subpath', [
    ({'Fn::Select': ['1']}, ()),
    ({'Fn::Join': ','}, ()),
    ({'Fn::Split': [',']}, ()),
    ({'Fn::Split': [{'get_param': 'd'}, 'a']}, (0,)),
    ({'Fn::Replace': {'a': 'b'}}, ()),
    ({'Fn::Replace': [['a'], 'b']}, (0,)),
    ({'Fn::Base64': ['x']}, ()),
    ({'Fn::MemberListToMap': ['Name', ['x']]}, ()),
    ({'Fn::MemberListToMap': [1, 'Value', []]}, (0,)),
    ({'Ref': ['x']}, ()),
])
def test_cfn_bad_arguments(snippet, subpath):
    err = error_of(snippet, version=V2013)
    assert err.message.startswith(next(iter(snippet)) + ': ')
    assert err.path == ('outputs', 'o', 'value') + subpath


def test_cfn_select_bad_values():
    assert 'integer' in error_of({'Fn::Select': ['x', ['a']]}, version=V2013).message
    assert 'JSON' in error_of({'Fn::Select': ['0', 'not json']}, version=V2013).message
    assert 'string' in error_of({'Fn::Select': [0, {'k': 'v'}]}, version=V2013).message
