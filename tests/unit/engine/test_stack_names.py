"""Stack names a user submits are checked as Heat checks them, and a stack is found by its
id before its name (issue #14, defect 8)."""

import pytest

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from tests.unit.engine.helpers import res, sqlite_only, tmpl

pytestmark = sqlite_only

TEMPLATE = tmpl({'a': res('1')})


@pytest.mark.parametrize('name', [
    '', ' ', 'two words', 'line\nbreak', '\x1b[31mred\x1b[0m', 'x' * 256, '9lives', '-x',
    'caf\u00e9', 'a/b', '0b1c4f4e-8a47-4a6c-9a8e-1c2d3e4f5a6b',
    'ABCDEF01-2345-4678-9ABC-DEF012345678', 'abcdef0123456789abcdef0123456789',
])
def test_bad_names_are_refused_and_nothing_stored(service, name):
    with pytest.raises(exc.InvalidInput) as info:
        service.create_stack(name, TEMPLATE, 't.yaml')
    assert info.value.exit_code == 2
    assert '\x1b' not in str(info.value) and '\n' not in str(info.value)
    assert db.stack_list(service.database, None) == []


@pytest.mark.parametrize('name', ['a', 'Web-1.prod_2', 'x' * 255])
def test_heat_names_are_accepted(service, name):
    assert service.create_stack(name, TEMPLATE, 't.yaml')['stack_name'] == name


def test_engine_made_child_names_are_exempt(service):
    # A group's members live in a child stack named after the parent and the resource;
    # resource names need not fit the rule for user-submitted stack names.
    group = {'type': 'OS::Heat::ResourceGroup',
             'properties': {'count': 1, 'resource_def': res('m')}}
    view = service.create_stack('parent', tmpl({'my group': group}), 't.yaml')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    children = db.stack_list(service.database, None, owner_id=view['id'])
    assert [c.name.startswith('parent-my group-') for c in children] == [True]


def test_a_stack_named_with_another_stacks_id_does_not_take_its_place(service):
    victim = service.create_stack('victim', TEMPLATE, 't.yaml')
    # Stored as it could be before names were checked (the engine's own create does not
    # check: child stacks go through it).
    impostor = service.engine.create(victim['id'], _source(), project_id=service.project_id)
    assert impostor.name == victim['id']
    assert service.get_stack(victim['id'])['stack_name'] == 'victim'
    service.delete_stack(victim['id'])
    assert db.stack_get(service.database, victim['id']).deleted_at is not None
    assert db.stack_get(service.database, impostor.id).deleted_at is None
    # Once no live stack has that id, the name still finds the stack that bears it.
    assert service.get_stack(victim['id'])['id'] == impostor.id


def test_lookup_by_id_is_case_insensitive(service):
    view = service.create_stack('s', TEMPLATE, 't.yaml')
    assert service.get_stack(view['id'].upper())['id'] == view['id']


def _source():
    from heat_taskflow.engine import operations as ops
    return ops.Source(TEMPLATE, 't.yaml')


def test_lookups_escape_the_name_they_echo(service):
    evil = 'no\x1b[31mpe\nX'
    for call in (lambda: service.get_stack(evil),
                 lambda: service.delete_stack(evil),
                 lambda: service.list_events(evil)):
        with pytest.raises(exc.StackNotFound) as err:
            call()
        assert str(err.value) == 'stack "no\\x1b[31mpe\\nX" not found'
    service.create_stack('named', tmpl({'a': res('1')}), 't.yaml')
    with pytest.raises(exc.InvalidInput) as err:
        service.show_resource('named', 'a\x1b[2J')
    assert '"a\\x1b[2J"' in str(err.value) and '\x1b' not in str(err.value)
    with pytest.raises(exc.OutputNotFound) as err:
        service.show_output('named', 'out\x1b[2J')
    assert '"out\\x1b[2J"' in str(err.value) and '\x1b' not in str(err.value)
