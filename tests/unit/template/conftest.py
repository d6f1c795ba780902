"""Fixtures for the template library tests.

``TEST_VERSION`` is a heat_template_version registered only for tests: the 2018-08-31
tables plus small condition functions written here, so condition tests do not depend
on the state of the real condition function classes.
"""

import contextlib
import types

import pytest

from heat_taskflow.template import functions_base, versions

TEST_VERSION = '2030-01-01'


class _Equals(functions_base.Function):
    def result(self, ctx):
        a, b = functions_base.resolve(self.args, ctx)
        return a == b


class _Not(functions_base.Function):
    def result(self, ctx):
        return not _truth(self.args, ctx)


class _And(functions_base.Function):
    def result(self, ctx):
        return all(_truth(a, ctx) for a in self.args)


class _Or(functions_base.Function):
    def result(self, ctx):
        return any(_truth(a, ctx) for a in self.args)


class _If(functions_base.Function):
    def result(self, ctx):
        cond, yes, no = self.args
        return functions_base.resolve(yes if _truth(cond, ctx) else no, ctx)


def _truth(arg, ctx):
    # a string names another condition, as Heat's and/or/not allow from 2017-09-01
    if isinstance(arg, str):
        return ctx.condition(arg)
    return bool(functions_base.resolve(arg, ctx))


def _test_spec():
    base = versions.VERSIONS['2018-08-31']
    fns = dict(base.functions)
    fns['if'] = _If
    conds = {'get_param': base.functions['get_param'], 'equals': _Equals, 'not': _Not,
             'and': _And, 'or': _Or}
    return versions.VersionSpec(
        name=TEST_VERSION, aliases=('testing',),
        functions=types.MappingProxyType(fns),
        condition_functions=types.MappingProxyType(conds),
        sections=base.sections, resource_keys=base.resource_keys,
        output_keys=base.output_keys, all_function_names=base.all_function_names)


@contextlib.contextmanager
def registered_test_version():
    """Register TEST_VERSION while the block runs."""
    spec = _test_spec()
    versions.VERSIONS[TEST_VERSION] = spec
    try:
        yield spec
    finally:
        versions.VERSIONS.pop(TEST_VERSION, None)


@pytest.fixture
def test_version():
    """Register TEST_VERSION for the duration of a test (use via usefixtures)."""
    with registered_test_version() as spec:
        yield spec
