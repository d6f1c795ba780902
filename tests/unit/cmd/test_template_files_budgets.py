"""The command line's pre-scan under the engine's budgets, and what it may read (issue #14,
defects 1, 9 and 10): cmd/template_files.py."""

import os
import sys
import time

import pytest

from heat_taskflow.cmd import template_files
from heat_taskflow.cmd.template_files import FileError
from heat_taskflow.template import parser
from heat_taskflow.template.limits import Limits
from tests.yaml_bombs import alias_bomb_items

HEAD = 'heat_template_version: 2018-08-31\n'


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def alias_bomb():
    """A template of about 600 bytes holding the bomb in a parameter default."""
    return HEAD + 'parameters:\n  p:\n    default:\n' + alias_bomb_items('      ')


def assert_quick(started):
    assert time.monotonic() - started < 10


def test_alias_bomb_template_is_not_expanded(tmp_path):
    text = alias_bomb()
    assert len(text) < 700
    main = write(tmp_path / 'bomb.yaml', text)
    started = time.monotonic()
    # not followed: handed on as it is, for the engine to refuse with file and line
    assert template_files.load(str(main)) == (text, str(main), {}, [])
    assert_quick(started)


def test_alias_bomb_environment_is_not_expanded(tmp_path):
    # maps this time: the registry walk follows maps, nine levels of nine keys
    lines = ['resource_registry:', '  resources:',
             '    l0: &a0 {%s}' % ', '.join('k%d: x.yaml' % k for k in range(9))]
    for i in range(1, 10):
        lines.append('    l%d: &a%d {%s}' % (i, i, ', '.join('k%d: *a%d' % (k, i - 1)
                                                          for k in range(9))))
    main = write(tmp_path / 'main.yaml', HEAD)
    env = write(tmp_path / 'env.yaml', '\n'.join(lines) + '\n')
    write(tmp_path / 'x.yaml', HEAD)
    started = time.monotonic()
    envs = template_files.load(str(main), [str(env)])[3]
    assert envs == [(str(env), env.read_text())]
    assert_quick(started)


def test_alias_bomb_get_file_target_is_not_expanded(tmp_path):
    main = write(tmp_path / 'main.yaml', HEAD + """resources:
  c: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: bomb.yaml}}}
  t: {type: bomb.yaml}
""")
    bomb = write(tmp_path / 'bomb.yaml', alias_bomb())
    started = time.monotonic()
    assert template_files.load(str(main))[2] == {'bomb.yaml': bomb.read_text()}
    assert_quick(started)


@pytest.mark.parametrize('what', ['template', 'environment', 'child', 'get_file'])
def test_size_is_checked_on_disk_before_reading(tmp_path, monkeypatch, what):
    limits = Limits(max_template_size=1000, max_files_size=5000)
    big = write(tmp_path / 'big.yaml', HEAD + '#' * 6000 + '\n')
    main = write(tmp_path / 'main.yaml', HEAD + 'resources:\n  r: {type: big.yaml}\n'
                 if what == 'child' else
                 HEAD + 'resources:\n  r: {type: OS::Heat::SoftwareConfig, '
                 'properties: {config: {get_file: big.yaml}}}\n')
    read = []
    real_open = open

    def spying_open(path, *args, **kwargs):
        handle = real_open(path, *args, **kwargs)
        if str(path) == str(big):
            real_read = handle.read

            def read_spy(size=-1):
                read.append(size)
                return real_read(size)
            handle.read = read_spy
        return handle
    monkeypatch.setattr('builtins.open', spying_open)
    if what == 'template':
        args = (str(big),)
    elif what == 'environment':
        args = (str(main), [str(big)])
    else:
        args = (str(main),)
    with pytest.raises(FileError) as err:
        template_files.load(*args, limits=limits)
    assert str(big) in str(err.value)
    expected = 'max_files_size' if what == 'get_file' else 'max_template_size'
    assert expected in str(err.value)
    assert str(os.path.getsize(big)) in str(err.value)
    assert read == []


def test_files_map_total_is_bounded_while_collecting(tmp_path):
    limits = Limits(max_files_size=5000)
    refs = ''.join('  c%d: {type: OS::Heat::SoftwareConfig, properties: '
                   '{config: {get_file: f%d.sh}}}\n' % (i, i) for i in range(3))
    main = write(tmp_path / 'main.yaml', HEAD + 'resources:\n' + refs)
    for i in range(3):
        write(tmp_path / ('f%d.sh' % i), 'x' * 2000)
    with pytest.raises(FileError, match=r'f2\.sh.*max_files_size'):
        template_files.load(str(main), limits=limits)


def test_a_file_reporting_size_zero_is_still_bounded(tmp_path, monkeypatch):
    # /proc files report 0 bytes on disk: only the bounded read protects
    main = write(tmp_path / 'main.yaml', HEAD + 'resources:\n  r: {type: OS::Heat::Value, '
                 'properties: {value: {get_file: f.sh}}}\n')
    write(tmp_path / 'f.sh', 'y' * 3000)
    real_fstat = os.fstat

    def lying_fstat(fd):
        result = real_fstat(fd)
        return os.stat_result((result.st_mode,) + tuple(result)[1:6] + (0,)
                              + tuple(result)[7:10])
    monkeypatch.setattr(os, 'fstat', lying_fstat)
    with pytest.raises(FileError, match='more than 1000 bytes'):
        template_files.load(str(main), limits=Limits(max_files_size=1000))


def test_deep_nesting_does_not_exhaust_the_stack():
    # the pre-scan's walk: 5,000 levels of maps and lists, no recursion
    node = {'get_file': 'deep.sh'}
    for i in range(5000):
        node = {'a': [node]} if i % 2 else [node]
    assert list(template_files._resource_refs({'resources': {'r': {'x': node}}})) == [
        ('get_file', 'deep.sh')]
    registry = {'My::X': 'x.yaml'}
    for _ in range(5000):
        registry = {'resources': registry}
    assert list(template_files._registry_refs(registry)) == ['x.yaml']


def test_deep_nesting_without_libyaml_is_not_a_recursion_error(tmp_path, monkeypatch):
    # PyYAML without libyaml composes in Python: an unbounded load recursed past the limit
    monkeypatch.setattr(parser, '_FastLoader', None)
    monkeypatch.setattr(parser, '_DATA_LOADER', parser.yaml.SafeLoader)
    depth = max(sys.getrecursionlimit(), 5000)
    text = HEAD + 'resources: {}\nparameters: ' + '[' * depth + ']' * depth + '\n'
    main = write(tmp_path / 'deep.yaml', text)
    assert template_files.load(str(main))[:3] == (text, str(main), {})


OUTSIDE = HEAD + 'resources:\n  r: {type: OS::Heat::Value, properties: {value: {get_file: %s}}}\n'


@pytest.mark.parametrize('ref', ['../secret.txt', '{secret}', 'file://{secret}',
                                 'link/secret.txt'])
def test_references_outside_the_tree_are_refused_unless_allowed(tmp_path, ref):
    secret = write(tmp_path / 'secret.txt', 'password\n')
    project = tmp_path / 'project'
    (project / 'link').mkdir(parents=True)
    os.symlink(secret, project / 'link' / 'secret.txt')
    ref = ref.format(secret=secret)
    main = write(project / 'main.yaml', OUTSIDE % ref)
    with pytest.raises(FileError, match='outside the directory tree.*--allow-outside-files'):
        template_files.load(str(main))
    assert template_files.load(str(main), allow_outside=True)[2] == {ref: 'password\n'}


def test_proc_files_are_refused_unless_allowed(tmp_path):
    if not os.path.exists('/proc/self/environ'):
        pytest.skip('no /proc')
    main = write(tmp_path / 'main.yaml', OUTSIDE % '/proc/self/environ')
    with pytest.raises(FileError, match='outside the directory tree'):
        template_files.load(str(main))


def test_an_environment_tree_is_allowed_for_its_own_references(tmp_path):
    # environments/ referring to ../providers/ as TripleO's do: inside the template's tree
    main = write(tmp_path / 'top' / 'main.yaml', HEAD)
    env = write(tmp_path / 'envs' / 'env.yaml', 'resource_registry:\n  "My::X": x.yaml\n')
    write(tmp_path / 'envs' / 'x.yaml', HEAD)
    assert set(template_files.load(str(main), [str(env)])[2]) == {'x.yaml'}
    write(tmp_path / 'envs' / 'x.yaml', HEAD + 'resources:\n  r: {type: ../other/y.yaml}\n')
    write(tmp_path / 'other' / 'y.yaml', HEAD)
    with pytest.raises(FileError, match=r'\.\./other/y\.yaml.*outside'):
        template_files.load(str(main), [str(env)])
