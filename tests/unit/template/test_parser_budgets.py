"""The parser's budgets (template/limits.py Limits) and the values it refuses because they
cannot be stored (issue #14: defect 2's alias expansion, defect 4's unstorable values)."""

import time

import pytest

from heat_taskflow.template import Environment, Template, parser
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.limits import Limits

HEAD = 'heat_template_version: 2018-08-31\nresources: {}\n'


def aliases_of_one_string(count, size):
    """A template whose parameter default repeats one ``size``-byte string ``count`` times."""
    lines = [HEAD + 'parameters:', '  p:', '    type: json', '    default:',
             '      - &s "%s"' % ('y' * size)]
    lines += ['      - *s'] * count
    return '\n'.join(lines) + '\n'


def test_thousand_aliases_of_a_100k_string_are_refused_by_expanded_size():
    # 111 KB of text, 1,002 nodes: under the node limit, but 100 MB once expanded
    text = aliases_of_one_string(1000, 100_000)
    started = time.monotonic()
    with pytest.raises(TemplateError, match='max_template_expanded_size') as err:
        parser.load(text, 'aliases.yaml')
    assert time.monotonic() - started < 10
    assert err.value.filename == 'aliases.yaml'
    assert err.value.line is not None


def test_expanded_size_is_configurable_and_counts_only_expansion():
    text = aliases_of_one_string(9, 1000)     # 10 KB once expanded
    data, _ = parser.load(text, 't.yaml', Limits(max_template_expanded_size=20_000))
    assert len(data['parameters']['p']['default']) == 10
    with pytest.raises(TemplateError, match='more than 5000 bytes of text'):
        parser.load(text, 't.yaml', Limits(max_template_expanded_size=5000))


def test_node_limit_is_configurable():
    text = HEAD + 'parameters:\n  p:\n    default:\n      - &a [1, 2, 3, 4, 5, 6, 7, 8]\n' \
        + ''.join('      - *a\n' for _ in range(8))
    parser.load(text, 't.yaml', Limits())
    with pytest.raises(TemplateError, match='more than 50 nodes.*max_template_nodes'):
        parser.load(text, 't.yaml', Limits(max_template_nodes=50))


def test_template_and_environment_take_limits():
    text = aliases_of_one_string(9, 1000)
    small = Limits(max_template_expanded_size=5000)
    with pytest.raises(TemplateError, match='bytes of text'):
        Template.parse(text, 't.yaml', small)
    with pytest.raises(TemplateError, match='bytes of text'):
        Template.parse(text, 't.yaml', limits=small)
    env = 'parameter_defaults:\n  a: &s "%s"\n  b: [*s, *s, *s, *s, *s, *s]\n' % ('z' * 1000)
    assert Environment.load([('e.yaml', env)]).param_defaults['a'] == 'z' * 1000
    with pytest.raises(TemplateError, match='bytes of text') as err:
        Environment.load([('e.yaml', env)], small)
    assert err.value.filename == 'e.yaml'


def test_older_keyword_budgets_still_apply():
    with pytest.raises(TemplateError, match='more than the limit of 10 bytes'):
        parser.load(HEAD, 't.yaml', max_size=10)
    with pytest.raises(TemplateError, match='more than the limit of 10 bytes'):
        Template.parse(HEAD, 't.yaml', max_size=10)
    with pytest.raises(TemplateError, match='deeper than 2 levels'):
        Template.parse(HEAD + 'outputs: {o: {value: [1]}}\n', 't.yaml', max_depth=2)


UNSTORABLE = [
    ('x: !!binary aGVsbG8=\n', 'binary'),
    ('x: !!set {a, b}\n', 'set'),
    ('x: !!omap [{a: 1}, {b: 2}]\n', 'ordered map'),
    ('x: {1: a, "1": b}\n', 'same once stored as JSON'),
    ('x: {true: a, "true": b}\n', 'same once stored as JSON'),
    ('x: .nan\n', 'not finite'),
    ('x: .inf\n', 'not finite'),
    ('x: -.inf\n', 'not finite'),
    ('x: 1.0e+400\n', 'not finite'),       # YAML 1.1 needs the dot and sign
    ('x: {.inf: a}\n', 'map key'),
]


@pytest.mark.parametrize('snippet,message', UNSTORABLE)
def test_values_json_cannot_store_are_refused_with_their_line(snippet, message):
    text = HEAD + 'parameters:\n  p:\n    type: json\n    default:\n' \
        + ''.join('      ' + line + '\n' for line in snippet.splitlines())
    with pytest.raises(TemplateError, match=message) as err:
        Template.parse(text, 'bad.yaml')
    assert err.value.filename == 'bad.yaml'
    assert err.value.line == 7
    assert str(err.value).startswith('bad.yaml:7: parameters.p.default.x')


@pytest.mark.parametrize('number', ['NaN', 'Infinity', '-Infinity', '1e400'])
def test_json_documents_with_non_finite_numbers_are_refused(number):
    text = ('{"heat_template_version": "2018-08-31",\n "resources": {},\n'
            ' "parameters": {"p": {"type": "number", "default": %s}}}\n' % number)
    with pytest.raises(TemplateError, match='not finite') as err:
        Template.parse(text, 'bad.json')
    assert err.value.filename == 'bad.json'
    assert err.value.line == 3


def test_python_tags_are_refused():
    with pytest.raises(TemplateError, match='invalid YAML'):
        parser.load(HEAD + 'x: !!python/object/apply:os.system ["true"]\n', 't.yaml')


def test_keys_json_writes_as_distinct_strings_are_kept():
    data, _ = parser.load(HEAD + 'x: {1: a, 2: b, false: c, null: d, 1.5: e, "3": f}\n')
    assert data['x'] == {1: 'a', 2: 'b', False: 'c', None: 'd', 1.5: 'e', '3': 'f'}


def test_storable_check_is_linear_in_shared_aliases():
    # nine levels of three aliases: 3**9 leaves when expanded, walked once per node
    lines = [HEAD + 'x:', '  - &a0 [1, 2, 3]']
    for i in range(1, 10):
        lines.append('  - &a%d [*a%d, *a%d, *a%d]' % (i, i - 1, i - 1, i - 1))
    started = time.monotonic()
    data, _ = parser.load('\n'.join(lines) + '\n', 't.yaml')
    assert time.monotonic() - started < 10
    assert len(data['x']) == 10
