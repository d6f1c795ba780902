"""The package map of docs/architecture.md, enforced: imports point one way, downwards.

Every import statement of heat_taskflow (module level or inside a function) is read from
the source; a package may import itself and packages of a lower layer, never one of its
own layer or above. Backends are reached through their doors (stevedore), so no module
imports an ``impl_`` module.
"""

import ast
import pathlib

import heat_taskflow

ROOT = pathlib.Path(heat_taskflow.__file__).parent

# Bottom first. Packages on one line are peers: neither may import the other.
LAYERS = (
    ('common', 'conf'),             # status vocabulary, polling; oslo.config options
    ('template', 'simcloud'),       # HOT as a pure library; the simulated cloud (a test tool)
    ('resources', 'persistence', 'jobs'),   # plugins; SQL; job board transport
    ('flows',),                     # operations compiled into graphs and tasks
    ('engine',),                    # stack operations, the two paths, the service
    ('conductors',),                # the daemon, its observer, an in-process conductor
    ('api',),                       # the Heat REST API service (docs/api.md)
    ('cmd',),                       # command lines
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _imports(path, root):
    """(line, imported module) of every heat_taskflow import in a source file under root."""
    module = '.'.join(path.relative_to(root.parent).with_suffix('').parts)
    package = module if path.name == '__init__.py' else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parent + ([base] if base else []))
            names = [base] + ['%s.%s' % (base, alias.name) for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith('heat_taskflow.'):
                yield node.lineno, name


def _package(module):
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else None


def _sources(root):
    return sorted(p for p in root.rglob('*.py') if 'migrations' not in p.parts)


def upward_imports(root=ROOT):
    """'file:line: package imports module' for every import that does not point down."""
    wrong = []
    for path in _sources(root):
        where = path.relative_to(root.parent)
        here = _package('.'.join(where.with_suffix('').parts))
        if here not in RANK:
            continue            # heat_taskflow/__init__.py
        for line, name in _imports(path, root):
            there = _package(name)
            if there in RANK and there != here and RANK[there] >= RANK[here]:
                wrong.append('%s:%d: %s imports %s' % (where, line, here, name))
    return wrong


def test_every_package_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / '__init__.py').exists()}
    assert packages == set(RANK), 'add new packages to LAYERS (docs/architecture.md too)'


def test_imports_point_downwards():
    assert upward_imports() == []


def test_no_module_imports_a_backend_implementation():
    wrong = ['%s:%d: %s' % (path.relative_to(ROOT.parent), line, name)
             for path in _sources(ROOT) for line, name in _imports(path, ROOT)
             if name.rpartition('.')[2].startswith('impl_')]
    assert wrong == []


def test_the_checker_sees_upward_and_peer_imports(tmp_path):
    # The check must be able to fail: an engine module importing conductors inside a
    # function, and a persistence module importing its peer resources, are both found.
    root = tmp_path / 'heat_taskflow'
    (root / 'engine').mkdir(parents=True)
    (root / 'persistence').mkdir()
    (root / 'engine' / 'bad.py').write_text(
        'from heat_taskflow.flows import graph\n\n'
        'def f():\n    from heat_taskflow.conductors import conductor\n')
    (root / 'persistence' / 'bad.py').write_text('from ..resources import base\n')
    assert upward_imports(root) == [
        'heat_taskflow/engine/bad.py:4: engine imports heat_taskflow.conductors',
        'heat_taskflow/engine/bad.py:4: engine imports heat_taskflow.conductors.conductor',
        'heat_taskflow/persistence/bad.py:1: persistence imports heat_taskflow.resources',
        'heat_taskflow/persistence/bad.py:1: persistence imports heat_taskflow.resources.base',
    ]
