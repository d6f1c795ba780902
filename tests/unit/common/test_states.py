"""Tests for heat_taskflow.common.states: one vocabulary, read by every layer."""

import ast
import pathlib

from heat_taskflow.common import states
from heat_taskflow.resources import base

ROOT = pathlib.Path(__file__).resolve().parents[3] / 'heat_taskflow'


def test_the_layers_read_the_same_strings():
    assert base.STATUSES == states.STATUSES
    assert set(base.ACTIONS) <= set(states.ACTIONS)


def test_no_other_module_defines_the_vocabulary():
    # A module-level NAME = 'IN_PROGRESS' (or any action or status) outside common/states.py
    # is a second vocabulary.
    words = set(states.ACTIONS) | set(states.STATUSES) | {states.DRIFTED}
    defined = []
    for path in sorted(ROOT.rglob('*.py')):
        if path == ROOT / 'common' / 'states.py' or 'migrations' in path.parts:
            continue
        for node in ast.parse(path.read_text()).body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and node.value.value in words):
                defined.append('%s:%d' % (path.relative_to(ROOT), node.lineno))
    assert defined == []


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
