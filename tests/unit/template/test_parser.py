"""Tests for heat_taskflow.template.parser."""

import tracemalloc

import pytest

from heat_taskflow.template import parser
from heat_taskflow.template.errors import TemplateError


@pytest.fixture(params=['libyaml', 'python'])
def both_loaders(request, monkeypatch):
    """Run a test with the libyaml loader (when built) and with the pure-Python one."""
    if request.param == 'python':
        monkeypatch.setattr(parser, '_FastLoader', None)
    elif parser._FastLoader is None:
        pytest.skip('PyYAML built without libyaml')
    return request.param


DOC = """\
heat_template_version: 2018-08-31
resources:
  web:
    type: OS::Nova::Server
    properties:
      networks:
        - port: p1
        - port: p2
"""


def test_yaml_loads_data_and_lines(both_loaders):
    data, smap = parser.load(DOC, 'stack.yaml')
    assert data['resources']['web']['properties']['networks'][1] == {'port': 'p2'}
    assert smap.line_of(('heat_template_version',)) == 1
    assert smap.line_of(('resources', 'web')) == 3
    assert smap.line_of(('resources', 'web', 'type')) == 4
    assert smap.line_of(('resources', 'web', 'properties', 'networks', 0)) == 7
    assert smap.line_of(('resources', 'web', 'properties', 'networks', 1, 'port')) == 8


def test_line_of_falls_back_to_closest_ancestor():
    _data, smap = parser.load(DOC, 'stack.yaml')
    assert smap.line_of(('resources', 'web', 'type', 'no', 'such')) == 4
    assert smap.line_of(('nothing', 'here')) == 1


def test_dates_stay_strings(both_loaders):
    data, _ = parser.load('heat_template_version: 2018-08-31\nwhen: 2001-12-14t21:59:43.10-05:00\n')
    assert data['heat_template_version'] == '2018-08-31'
    assert data['when'] == '2001-12-14t21:59:43.10-05:00'


def test_json_is_parsed_with_lines():
    text = ('{\n  "heat_template_version": "2016-10-14",\n  "resources": {\n'
            '    "a": {"type": "X"}\n  }\n}')
    data, smap = parser.load(text, 't.json')
    assert data['resources']['a'] == {'type': 'X'}
    assert smap.line_of(('resources', 'a')) == 4


def test_json_syntax_error_names_line():
    with pytest.raises(TemplateError) as err:
        parser.load('{\n "a": 1,\n "b": ]\n}', 't.json')
    assert err.value.line == 3
    assert str(err.value).startswith('t.json:3: invalid JSON')


def test_yaml_syntax_error_names_line(both_loaders):
    with pytest.raises(TemplateError) as err:
        parser.load('a: 1\nb:\n  - x\n  y: [\n', 'bad.yaml')
    assert err.value.filename == 'bad.yaml'
    assert err.value.line is not None and err.value.line >= 3
    assert 'invalid YAML' in str(err.value)


def test_size_limit():
    text = 'a: "%s"\n' % ('x' * 2000)
    parser.load(text, max_size=4096)
    with pytest.raises(TemplateError, match='more than the limit of 1000 bytes'):
        parser.load(text, 'big.yaml', max_size=1000)


def test_default_size_limit_is_512_kib():
    assert parser.DEFAULT_MAX_SIZE == 512 * 1024
    with pytest.raises(TemplateError, match='limit'):
        parser.load('a: "%s"\n' % ('x' * (512 * 1024)))


def test_depth_limit_yaml(both_loaders):
    nested = 'a: ' + '[' * 50 + ']' * 50 + '\n'
    parser.load(nested, max_depth=60)
    with pytest.raises(TemplateError, match='deeper than 20 levels') as err:
        parser.load(nested, 'deep.yaml', max_depth=20)
    assert err.value.line == 1


def test_depth_limit_json_does_not_recurse():
    text = '{"a": ' + '[' * 100000 + ']' * 100000 + '}'
    with pytest.raises(TemplateError, match='deeper than'):
        parser.load(text, max_size=10 ** 6)


def test_depth_limit_block_yaml_reports_line(both_loaders):
    lines = ['k0:']
    for i in range(1, 30):
        lines.append('  ' * i + 'k%d:' % i)
    with pytest.raises(TemplateError) as err:
        parser.load('\n'.join(lines) + ' x\n', max_depth=10)
    # the first node past the limit is the key k9, on line 10
    assert err.value.line == 10


def test_billion_laughs_is_refused_quickly_and_small(both_loaders):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ', '.join(['*a%d' % (i - 1)] * 9)
        lines.append('a%d: &a%d [%s]' % (i, i, refs))
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match='expands to more than'):
            parser.load('\n'.join(lines) + '\n', 'bomb.yaml')
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_small_alias_use_is_allowed(both_loaders):
    data, _ = parser.load('base: &b {x: 1}\nother: *b\nmerged:\n  <<: *b\n  y: 2\n')
    assert data['other'] == {'x': 1}
    assert data['merged'] == {'x': 1, 'y': 2}


def test_recursive_alias_is_refused(both_loaders):
    with pytest.raises(TemplateError, match='recursive'):
        parser.load('a: &a [1, *a]\n')


def test_unsafe_tags_are_refused(both_loaders):
    with pytest.raises(TemplateError, match='invalid YAML'):
        parser.load('a: !!python/object/apply:os.system ["echo hi"]\n')


def test_unhashable_key_is_an_error_not_a_crash():
    with pytest.raises(TemplateError):
        parser.load('? [a, b]\n: c\n')


def test_bytes_input_and_bad_utf8():
    data, _ = parser.load('a: é\n'.encode('utf-8'))
    assert data == {'a': 'é'}
    with pytest.raises(TemplateError, match='UTF-8'):
        parser.load(b'a: \xff\n')


def test_load_mapping_rejects_lists_and_accepts_empty():
    assert parser.load_mapping('', 'e.yaml')[0] == {}
    with pytest.raises(TemplateError, match='not a YAML mapping') as err:
        parser.load_mapping('- a\n- b\n', 'l.yaml')
    assert str(err.value).startswith('l.yaml:1:')


def test_huge_integer_literal_is_a_template_error():
    with pytest.raises(TemplateError):
        parser.load('{"a": %s}' % ('9' * 5000))


def test_garbage_collector_state_is_restored():
    import gc
    assert gc.isenabled()
    parser.load('a: 1\n')
    assert gc.isenabled()
    with pytest.raises(TemplateError):
        parser.load('a: [\n')
    assert gc.isenabled()
    gc.disable()
    try:
        parser.load('a: 1\n')
        assert not gc.isenabled()
    finally:
        gc.enable()
