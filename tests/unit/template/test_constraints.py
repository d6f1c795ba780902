import re
import time

import pytest

from heat_taskflow.template import constraints as c
from heat_taskflow.template.limits import Limits


def test_range_bounds_and_message():
    r = c.Range(min=1, max=10)
    r.check(1)
    r.check(10)
    with pytest.raises(ValueError, match=r'11 is out of range \(min: 1, max: 10\)'):
        r.check(11)
    with pytest.raises(ValueError):
        r.check(0)


def test_range_needs_a_bound():
    with pytest.raises(ValueError):
        c.Range()


def test_length_counts_strings_lists_and_maps():
    length = c.Length(min=2, max=3)
    length.check('ab')
    length.check([1, 2, 3])
    with pytest.raises(ValueError, match=r'length \(1\)'):
        length.check({'a': 1})
    with pytest.raises(ValueError, match=r'length \(4\)'):
        length.check('abcd')


def test_allowed_values_checks_every_list_item():
    allowed = c.AllowedValues(['a', 'b'])
    allowed.check('a')
    allowed.check(['a', 'b'])
    with pytest.raises(ValueError, match='"c" is not an allowed value'):
        allowed.check(['a', 'c'])


def test_allowed_pattern_matches_whole_string():
    pattern = c.AllowedPattern('[a-z]+')
    pattern.check('abc')
    with pytest.raises(ValueError, match='does not match pattern'):
        pattern.check('abc1')


def test_modulo():
    modulo = c.Modulo(step=2, offset=1)
    modulo.check(3)
    with pytest.raises(ValueError, match='not a multiple of 2 with an offset of 1'):
        modulo.check(4)
    with pytest.raises(ValueError):
        c.Modulo(step=2, offset=2)
    with pytest.raises(ValueError):
        c.Modulo(step=0, offset=0)


def test_description_replaces_message():
    with pytest.raises(ValueError, match='^must be small$'):
        c.Range(max=1, description='must be small').check(2)


def test_custom_constraint_uses_registered_hook():
    def only_even(value):
        if value % 2:
            raise ValueError('odd')

    c.register_custom_constraint('test.even', only_even)
    try:
        custom = c.CustomConstraint('test.even')
        custom.check(2)
        with pytest.raises(ValueError, match='does not validate test.even: odd'):
            custom.check(3)
    finally:
        c.unregister_custom_constraint('test.even')
    # Nobody registered it any more: not checked here.
    c.CustomConstraint('test.even').check(3)


@pytest.mark.parametrize('data', [
    {'range': {'min': 1, 'max': 5}},
    {'length': {'min': 3}, 'description': 'at least three'},
    {'allowed_values': ['x', 'y']},
    {'allowed_pattern': '[0-9]+'},
    {'modulo': {'step': 3, 'offset': 0}},
    {'custom_constraint': 'nova.flavor'},
])
def test_from_definition_round_trips(data):
    assert c.from_definition(data).to_dict() == data


@pytest.mark.parametrize('data', [
    'range', {}, {'range': {'min': 1}, 'length': {'min': 1}}, {'nonsense': 1}, {'range': 5},
])
def test_from_definition_rejects_malformed(data):
    with pytest.raises(ValueError):
        c.from_definition(data)


# --- allowed_pattern under a budget (issue #14, defect 3) ----------------------------

def test_allowed_pattern_stops_a_backtracking_match_at_regex_timeout():
    # (a|aa)+$ against 41 characters took 14 s; against 60, hours
    pattern = c.AllowedPattern('(a|aa)+$')
    limits = Limits(regex_timeout=0.2)
    start = time.monotonic()
    with pytest.raises(c.PatternTimeout,
                       match=r'allowed_pattern took longer than 0\.2 s '
                             r'\(\[DEFAULT\] regex_timeout\)'):
        pattern.check('a' * 60 + 'b', limits)
    assert time.monotonic() - start < 10
    assert pattern.parameter_error('a' * 20, 'string', limits) is None
    assert 'does not match' in pattern.parameter_error('a' * 20 + 'b', 'string', limits)


@pytest.mark.parametrize('pattern, words', [
    ('[', 'not a valid regular expression: unterminated character set'),
    ('(' * 5000 + ')' * 5000, 'not a valid regular expression: it nests too deeply'),
    # the regex library unrolls counted repeats: seconds to compile each of these
    ('a{1000000}', 'is too large: more than 100000 characters'),
    ('(?:(?:a{1000}){1000}){10}', 'is too large'),
    ('(?:[ab]{1000}){1000}', 'is too large'),
    (r'\p{L}', 'bad escape'),         # re's syntax, as Heat's, not regex's extensions
])
def test_allowed_pattern_refuses_bad_or_huge_patterns_before_compiling(pattern, words):
    start = time.monotonic()
    with pytest.raises(ValueError, match=re.escape(words)):
        c.AllowedPattern(pattern)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize('pattern, good, bad', [
    ('[a-z]{1,255}', 'abc', 'ab1'),
    ('(?P<x>a)?(?(x)b|c)', 'ab', 'ac'),
    ('(?=a)a+', 'aaa', 'b'),
    ('(?>a+)b', 'aab', 'aa'),
    ('x{3}', 'xxx', 'xx'),
])
def test_allowed_pattern_keeps_re_semantics(pattern, good, bad):
    constraint = c.AllowedPattern(pattern)
    assert constraint.parameter_error(good, 'string') is None
    assert constraint.parameter_error(bad, 'string') is not None
