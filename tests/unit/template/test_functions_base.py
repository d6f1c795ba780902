"""Tests for heat_taskflow/template/functions_base.py: the machinery knows no family."""

import ast
import pathlib

import heat_taskflow.template

TEMPLATE = pathlib.Path(heat_taskflow.template.__file__).parent
FAMILIES = ('functions_ref', 'functions_data', 'functions_logic', 'functions_cfn')


def _imported_template_modules(module):
    """The template modules ``module`` imports; fails on a star or a private name."""
    tree = ast.parse((TEMPLATE / ('%s.py' % module)).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == 'heat_taskflow.template':
                names.update(alias.name for alias in node.names)
            elif node.module.startswith('heat_taskflow.template.'):
                names.add(node.module.rsplit('.', 1)[1])
                assert not any(alias.name == '*' for alias in node.names), module
                private = [a.name for a in node.names if a.name.startswith('_')]
                assert not private, '%s imports private %s' % (module, private)
    return names


def test_functions_base_imports_no_family_and_no_table():
    # limits is plain data (the default byte budget of a resolution), not a family
    assert _imported_template_modules('functions_base') == {'errors', 'limits'}


def test_families_import_the_base_and_never_the_tables():
    for family in FAMILIES:
        imported = _imported_template_modules(family)
        assert 'functions_base' in imported, family
        assert 'versions' not in imported, family


def test_the_version_tables_assemble_every_family():
    assert set(FAMILIES) <= _imported_template_modules('versions')
