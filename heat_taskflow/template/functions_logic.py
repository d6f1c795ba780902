"""Intrinsic functions for conditions and choices (equals, not, and, or, if, contains) and yaql.

A condition argument (of not, and, or, if) is a condition name, a boolean, or
a condition function; names are looked up with ``ctx.condition(name)``.
"""

import collections.abc  # noqa: F401  yaql 3 uses collections.abc without importing it
import functools
import threading

import yaql
from yaql.language import exceptions as yaql_exceptions

from heat_taskflow.template import sandbox
from heat_taskflow.template.functions_base import (
    OMITTED,
    Function,
    is_list,
    is_static,
    parse_snippet,
    resolve,
    resolve_each,
    resolve_nullable,
    select_branches,
)
from heat_taskflow.template.limits import DEFAULT as DEFAULT_LIMITS


def condition_value(fn, arg, ctx, subpath=()):
    """The boolean value of a condition argument (name, boolean or function)."""
    if isinstance(arg, Function):
        arg = resolve(arg, ctx)
    if isinstance(arg, bool):
        return arg
    if isinstance(arg, str):
        return bool(ctx.condition(arg))
    if arg is None:
        return None
    raise fn.error('a condition must be a condition name, a boolean or a condition '
                   'function, not %r' % (arg,), subpath)


def _check_condition_arg(fn, arg, subpath):
    if not isinstance(arg, (str, bool, Function)):
        raise fn.error('a condition must be a condition name, a boolean or a condition '
                       'function', subpath)


class Equals(Function):
    """equals: [value1, value2] is true when both are equal."""

    def validate(self):
        """Exactly two values."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [value_1, value_2]')

    def result(self, ctx):
        """Whether the two values are equal."""
        first, second = resolve_each(self.args, ctx)
        return first == second


class Not(Function):
    """not: <condition> negates a condition."""

    def validate(self):
        """One condition."""
        _check_condition_arg(self, self.args, ())

    def result(self, ctx):
        """The negation; None while the condition is unknown."""
        value = condition_value(self, self.args, ctx)
        return None if value is None else not value


class And(Function):
    """and: [cond, cond, ...] is true when every condition is."""

    combine = staticmethod(all)

    def validate(self):
        """At least two conditions."""
        if not is_list(self.args):
            raise self.error('arguments must be a list of conditions')
        if len(self.args) < 2:
            raise self.error('the minimum number of conditions is 2')
        for i, arg in enumerate(self.args):
            _check_condition_arg(self, arg, (i,))

    def result(self, ctx):
        """The combined value (every condition is evaluated)."""
        values = [condition_value(self, a, ctx, (i,)) for i, a in enumerate(self.args)]
        if any(v is None for v in values):
            return None
        return self.combine(values)


class Or(And):
    """or: [cond, cond, ...] is true when any condition is."""

    combine = staticmethod(any)


class If(Function):
    """if: [condition, value_if_true, value_if_false]; only the chosen value is resolved."""

    min_args = 3
    usage = '[condition, value_if_true, value_if_false]'

    @classmethod
    def parse_args(cls, value, version, table, path):
        """The condition is parsed with the condition functions, the values normally."""
        if not is_list(value) or not value:
            return parse_snippet(value, version, table, path)
        condition = parse_snippet(value[0], version, version.condition_functions, path + (0,))
        rest = [parse_snippet(v, version, table, path + (i,)) for i, v in enumerate(value[1:], 1)]
        return [condition] + rest

    def validate(self):
        """A condition and the values to choose from."""
        if not is_list(self.args) or not self.min_args <= len(self.args) <= 3:
            raise self.error('arguments must be of the form %s' % self.usage)
        _check_condition_arg(self, self.args[0], (0,))

    def branch(self, ctx):
        """The parsed snippet the condition chooses (OMITTED for a missing false branch)."""
        value = condition_value(self, self.args[0], ctx, (0,))
        if value is None:
            return None
        if value:
            return self.args[1]
        return self.args[2] if len(self.args) > 2 else OMITTED

    def resource_refs(self):
        """Nothing of its own; the branches' functions report theirs."""
        return ()

    def select_branches(self, ctx):
        """The branch the condition chooses, itself with its ``if`` calls chosen."""
        return select_branches(self.branch(ctx), ctx)

    def result(self, ctx):
        """The chosen value, resolved; None while the condition is unknown."""
        return resolve_nullable(self.branch(ctx), ctx)


class IfNullable(If):
    """if from 2021-04-16: without a false value, a false condition omits the enclosing item.

    In a list the item is dropped, in a map the key is dropped; elsewhere it reads None.
    """

    min_args = 2
    usage = '[condition, value_if_true, (value_if_false)]'


class Contains(Function):
    """contains: [value, sequence] is true when the value is in the sequence."""

    def validate(self):
        """Exactly two arguments."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [value, [value1, value2, ...]]')
        seq = self.args[1]
        if not isinstance(seq, (list, str, Function)):
            raise self.error('the second argument must be a sequence', (1,))

    def result(self, ctx):
        """Membership (a string as the sequence means a substring test, as in Heat)."""
        value, sequence = resolve_each(self.args, ctx)
        if sequence is None:
            return None
        if not isinstance(sequence, (list, tuple, str)):
            raise self.error('the second argument must be a sequence, not %r' % (sequence,))
        if isinstance(sequence, str) and not isinstance(value, str):
            return False
        return value in sequence


class Yaql(Function):
    """yaql: {expression, data} evaluates a yaql expression over ``$.data``.

    The expression is parsed here (a bad one is reported where it stands) and evaluated
    by ``sandbox`` in a worker process, under the ``yaql_timeout`` and ``yaql_memory``
    budgets of the context's Limits; its result (as JSON) counts against the resolution's
    ``max_resolved_size`` budget like any function's.
    """

    MAX_EXPRESSION_LENGTH = 10000

    _engine = None
    _lock = threading.Lock()

    @classmethod
    def engine(cls):
        """The shared yaql parser (built once; parsing the grammar is slow)."""
        with cls._lock:
            if cls._engine is None:
                cls._engine = yaql.YaqlFactory().create(dict(sandbox.ENGINE_OPTIONS))
        return cls._engine

    def validate(self):
        """A map with expression (and optional data); a literal expression must parse."""
        if not isinstance(self.args, collections.abc.Mapping):
            raise self.error('arguments must be a map: {expression: ..., data: {...}}')
        if 'expression' not in self.args:
            raise self.error('missing "expression"; the form is {expression: ..., data: {...}}')
        extra = sorted(set(self.args) - {'expression', 'data'})
        if extra:
            raise self.error('unknown key "%s"; only "expression" and "data" are allowed'
                             % extra[0], (extra[0],))
        expression = self.args['expression']
        if not isinstance(expression, Function):
            self._check_expression(expression)

    def _check_expression(self, expression):
        if not isinstance(expression, str):
            raise self.error('"expression" must be a string', ('expression',))
        if len(expression) > self.MAX_EXPRESSION_LENGTH:
            raise self.error('expression is longer than %d characters'
                             % self.MAX_EXPRESSION_LENGTH, ('expression',))
        problem = _parse_problem(expression)
        if problem is not None:
            raise self.error('bad expression: %s' % problem, ('expression',))

    def result(self, ctx):
        """The value of the expression."""
        expression = resolve(self.args['expression'], ctx)
        if expression is None:
            return None
        self._check_expression(expression)
        data = resolve(self.args.get('data', {}), ctx)
        limits = getattr(ctx, 'limits', None) or DEFAULT_LIMITS
        remaining = ctx.budget.remaining
        try:
            value, size = sandbox.evaluate(expression, data, limits.yaql_timeout,
                                           limits.yaql_memory, remaining)
        except sandbox.ResultTooLarge:
            self.charge(ctx, remaining + 1, measured=False)     # raises, as other functions
            raise
        except sandbox.BadExpression as exc:
            raise self.error('bad expression: %s' % exc, ('expression',))
        except sandbox.BudgetExceeded as exc:
            raise self.error('%s ([DEFAULT] %s)' % (exc, exc.option))
        except sandbox.EvaluationFailed as exc:
            if not is_static(self.args.get('data')) and _has_none(data):
                # Data from functions not resolvable yet (validation): not an error.
                return None
            raise self.error('evaluation failed: %s' % exc)
        except sandbox.SandboxError as exc:
            raise self.error(str(exc))
        self.charge(ctx, size)
        return value


@functools.lru_cache(maxsize=256)
def _parse_problem(expression):
    """Why ``expression`` does not parse, or None when it does."""
    engine = Yaql.engine()
    try:
        with Yaql._lock:        # yaql's ply parser keeps state while parsing
            engine(expression)
    except yaql_exceptions.YaqlException as exc:
        return str(exc)
    return None


def _has_none(value):
    if value is None:
        return True
    if isinstance(value, collections.abc.Mapping):
        return any(_has_none(v) for v in value.values())
    if is_list(value):
        return any(_has_none(v) for v in value)
    return False
