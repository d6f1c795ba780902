"""Tests for heat_taskflow.common.states: one vocabulary, read by every layer."""

import ast
import pathlib

from heat_taskflow.common import states
from heat_taskflow.flows import runtime, sync_points
from heat_taskflow.resources import base

ROOT = pathlib.Path(__file__).resolve().parents[3] / 'heat_taskflow'


def test_the_layers_read_the_same_strings():
    for name in ('CREATE', 'UPDATE', 'DELETE', 'ROLLBACK', 'CHECK',
                 'IN_PROGRESS', 'COMPLETE', 'FAILED'):
        assert getattr(runtime, name) is getattr(states, name)
    assert (sync_points.COMPLETE, sync_points.FAILED) == (states.COMPLETE, states.FAILED)
    assert base.STATUSES == states.STATUSES
    assert set(base.ACTIONS) <= set(states.ACTIONS)


def test_heats_names():
    assert states.ACTIONS == ('INIT', 'CREATE', 'UPDATE', 'DELETE', 'ROLLBACK', 'CHECK')
    assert states.STATUSES == ('IN_PROGRESS', 'COMPLETE', 'FAILED')


def test_common_imports_nothing_else_of_heat_taskflow():
    for path in (ROOT / 'common').glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or '').startswith('heat_taskflow'), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith('heat_taskflow') for a in node.names), path
