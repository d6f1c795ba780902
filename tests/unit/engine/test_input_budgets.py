"""The engine's budgets on what a user submits (issue #14, defects 4 and 9): the files map
and the templates in it, values that cannot be stored, and the same parser limits when a
conductor loads a stored stack."""

import time

import pytest

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from heat_taskflow.template import TemplateError
from tests.unit.engine.helpers import res, sqlite_only, tmpl

pytestmark = sqlite_only

CHILD_TYPE = tmpl({'child': {'type': 'child.yaml'}})
CHILD = tmpl({'a': res('x')})


def nothing_stored(service):
    return db.stack_list(service.database, 'default', include_nested=True) == []


def test_a_child_template_larger_than_max_template_size_is_refused(service, conf):
    conf.set_override('max_template_size', 4096)
    big_child = CHILD + '#' * 5000 + '\n'
    with pytest.raises(TemplateError, match='child.yaml: document is .* more than the '
                                            'limit of 4096 bytes'):
        service.create_stack('big-child', CHILD_TYPE, 't.yaml', {'child.yaml': big_child})
    with pytest.raises(TemplateError, match='more than the limit of 4096 bytes'):
        service.validate_template(CHILD_TYPE, 't.yaml', {'child.yaml': big_child})
    assert nothing_stored(service)
    stack = service.create_stack('small-child', CHILD_TYPE, 't.yaml', {'child.yaml': CHILD})
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']


def test_a_child_named_in_a_registry_or_a_group_is_held_to_it_too(service, conf):
    conf.set_override('max_template_size', 4096)
    big_child = CHILD + '#' * 5000 + '\n'
    env = ('e.yaml', 'resource_registry:\n  "My::Child": child.yaml\n')
    with pytest.raises(TemplateError, match='child.yaml: document is'):
        service.validate_template(tmpl({'c': {'type': 'My::Child'}}), 't.yaml',
                                  {'child.yaml': big_child}, [env])
    group = tmpl({'g': {'type': 'OS::Heat::ResourceGroup',
                        'properties': {'count': 1, 'resource_def': {'type': 'child.yaml'}}}})
    with pytest.raises(TemplateError, match='child.yaml: document is'):
        service.create_stack('group', group, 't.yaml', {'child.yaml': big_child})
    assert nothing_stored(service)


def test_the_whole_files_map_is_held_to_max_files_size(service, conf):
    conf.set_override('max_files_size', 10_000)
    text = tmpl({'a': res({'get_file': 'a.sh'}), 'b': res({'get_file': 'b.sh'})})
    files = {'a.sh': 'a' * 6000, 'b.sh': 'b' * 6000}
    with pytest.raises(exc.InvalidInput, match='files map .* 12000 bytes, more than the '
                                               'limit of 10000 bytes') as err:
        service.create_stack('big-files', text, 't.yaml', files)
    assert err.value.exit_code == 2
    assert nothing_stored(service)
    stack = service.create_stack('files', text, 't.yaml', {'a.sh': 'a', 'b.sh': 'b'})
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']


@pytest.mark.parametrize('content', [
    '#!/bin/sh\necho hello: world\n',         # YAML, a map, but no template
    '#!/bin/sh\necho "a\n  - x: [\n',          # not YAML at all
    '- 1\n- 2\n',                              # a list
], ids=['map-without-version', 'not-yaml', 'list'])
def test_a_type_naming_a_file_that_is_no_template_is_a_clear_error(service, content):
    text = tmpl({'r': {'type': 'scripts/boot.sh'}})
    with pytest.raises(TemplateError) as err:
        service.validate_template(text, 't.yaml', {'scripts/boot.sh': content})
    assert str(err.value).startswith('scripts/boot.sh')
    assert 'template' in str(err.value) or 'invalid YAML' in str(err.value)
    assert nothing_stored(service)


def test_an_alias_bomb_in_a_child_template_is_refused_quickly(service):
    lines = ['heat_template_version: 2018-08-31', 'parameters:', '  p:', '    default:',
             '      - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append('      - &a%d [%s]' % (i, ','.join(['*a%d' % (i - 1)] * 9)))
    started = time.monotonic()
    with pytest.raises(TemplateError, match='child.yaml:.*max_template_nodes'):
        service.create_stack('bomb', CHILD_TYPE, 't.yaml',
                             {'child.yaml': '\n'.join(lines) + '\n'})
    assert time.monotonic() - started < 10
    assert nothing_stored(service)


def test_unstorable_values_are_refused_before_anything_is_stored(service):
    text = tmpl({'a': res('x')}) + 'outputs:\n  o: {value: !!binary aGVsbG8=}\n'
    with pytest.raises(TemplateError, match=r't.yaml:\d+: outputs.o.value: binary'):
        service.create_stack('binary', text, 't.yaml')
    assert nothing_stored(service)


def test_a_conductor_loading_a_stored_stack_uses_the_configured_limits(service, conf):
    text = tmpl({'a': res('x')}) + 'outputs:\n  o: {value: [&l [1, 2, 3, 4], *l, *l, *l]}\n'
    stack = service.create_stack('aliased', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    row = db.stack_get_by_name(service.database, 'aliased', 'default')
    conf.set_override('max_template_nodes', 10)
    service.engine._definitions.clear()
    with pytest.raises(TemplateError, match='more than 10 nodes'):
        service.engine.stack_definition(row, row.raw_template_id)


def test_an_alias_bomb_in_an_os_heat_stack_template_property_is_refused(service):
    # The property is text the user wrote; it used to be parsed without budgets (and the
    # child stack then dumped 9**9 strings).
    lines = ['heat_template_version: 2018-08-31', 'parameters:', '  p:', '    type: json',
             '    default:', '      - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol",'
             '"lol"]']
    for i in range(1, 9):
        lines.append('      - &a%d [%s]' % (i, ','.join(['*a%d' % (i - 1)] * 9)))
    text = tmpl({'child': {'type': 'OS::Heat::Stack',
                           'properties': {'template': '\n'.join(lines) + '\n'}}})
    start = time.monotonic()
    for call in (lambda: service.validate_template(text, 't.yaml'),
                 lambda: service.create_stack('bomb', text, 't.yaml')):
        with pytest.raises(TemplateError, match=r"t\.yaml:\d+: .*child.*template.*"
                                                'max_template_nodes'):
            call()
    assert time.monotonic() - start < 10
    assert nothing_stored(service)
