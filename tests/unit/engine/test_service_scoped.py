"""StackService.scoped: one project's view of the engine (what the API hands a request,
and what the command line acts as through [DEFAULT] project)."""

import pytest

from heat_taskflow.cmd import shell
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from tests.unit.engine.helpers import res, sqlite_only, tmpl

TEXT = tmpl({'a': res('one')}, outputs={'out': {'value': {'get_attr': ['a', 'output']}}})
NESTED = tmpl({'n': {'type': 'OS::Heat::Stack', 'properties': {
    'template': tmpl({'inner': res('deep')})}}})


@pytest.fixture
def two(service):
    """Views of projects p1 and p2, and an admin view of project admin."""
    return service.scoped('p1'), service.scoped('p2'), service.scoped('admin', admin=True)


@sqlite_only
def test_stacks_are_created_and_found_in_their_project_only(two):
    p1, p2, admin = two
    a = p1.create_stack('web', TEXT, 't.yaml')
    b = p2.create_stack('web', TEXT, 't.yaml')      # the same name in another project
    assert a['id'] != b['id']
    assert a['project'] == 'p1' and b['project'] == 'p2'
    assert p1.get_stack('web')['id'] == a['id']
    assert p1.get_stack(a['id'])['id'] == a['id']
    assert [s['id'] for s in p1.list_stacks()] == [a['id']]
    assert [s['id'] for s in p2.list_stacks()] == [b['id']]
    # Another project's stack by id is not found, exactly as a missing one.
    for call in (p2.get_stack, p2.list_resources, p2.list_events, p2.delete_stack,
                 p2.list_outputs, p2.get_template):
        with pytest.raises(exc.StackNotFound):
            call(a['id'])
    with pytest.raises(exc.StackNotFound):
        p2.update_stack(a['id'], TEXT, 't.yaml')
    with pytest.raises(exc.StackNotFound):
        p2.show_resource(a['id'], 'a')
    # An admin finds any project's stack by id, not by another project's name.
    assert admin.get_stack(a['id'])['project'] == 'p1'
    with pytest.raises(exc.StackNotFound):
        admin.get_stack('web')
    assert admin.list_stacks() == []
    assert p1.get_stack(a['id'])['stack_status'] == 'CREATE_COMPLETE'


@sqlite_only
def test_nested_stacks_inherit_their_parents_project(two):
    p1, p2, _ = two
    top = p1.create_stack('top', NESTED, 't.yaml')
    assert top['stack_status'] == 'CREATE_COMPLETE', top['stack_status_reason']
    children = db.stack_list(p1.database, None, owner_id=top['id'])
    assert [c.project_id for c in children] == ['p1']
    assert p1.get_stack(children[0].id)['project'] == 'p1'
    with pytest.raises(exc.StackNotFound):
        p2.get_stack(children[0].id)
    assert {r['resource_name'] for r in p1.list_resources('top', nested_depth=1)} == \
        {'n', 'inner'}


@sqlite_only
def test_the_unscoped_service_and_the_command_line_act_as_the_configured_project(
        conf, service, monkeypatch):
    conf.set_override('project_id', 'ops')
    scoped = service.scoped('ops')
    made = scoped.create_stack('web', TEXT, 't.yaml')
    assert made['project'] == 'ops'
    # A service built from conf acts in [DEFAULT] project_id.
    from heat_taskflow.engine import service as service_mod
    plain = service_mod.StackService(conf, database=service.database,
                                     executors=None)
    assert plain.project_id == 'ops'
    assert [s['id'] for s in plain.list_stacks()] == [made['id']]
    # The command line's service is the scoped view of [DEFAULT] project_id.
    from heat_taskflow.conductors import local
    monkeypatch.setattr(local, 'stack_service', lambda c: plain)
    cli = shell.make_service(conf)
    assert cli.project_id == 'ops' and cli.get_stack('web')['id'] == made['id']
    assert service.scoped('other').list_stacks() == []


@sqlite_only
def test_an_unknown_output_is_output_not_found(two):
    p1, _, _ = two
    p1.create_stack('web', TEXT, 't.yaml')
    assert p1.show_output('web', 'out')['output_value'] == 'one'
    with pytest.raises(exc.OutputNotFound, match='stack "web" has no output "nope"'):
        p1.show_output('web', 'nope')
