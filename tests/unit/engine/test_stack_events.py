"""The stack's own events: one per stack state change, on both paths (what ends a
client's ``openstack stack ... --wait``), and what they cost."""

import pytest
import sqlalchemy as sa

from heat_taskflow.persistence import api as db
from tests.unit.engine.helpers import paths_on, res, sqlite_only, tmpl

TEXT = tmpl({'a': res('one'), 'b': res('two')})
BAD = tmpl({'a': res('one'), 'bad': res('x', fail=True)})
NESTED = tmpl({'n': {'type': 'OS::Heat::Stack', 'properties': {
    'template': tmpl({'inner': res('deep')})}}})


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, conf, database):
    with paths_on(request.param, conf, database) as on_path:
        yield on_path


def stack_events(service, stack_id):
    """(status, reason) of the stack's own events, oldest first, read from the table."""
    return [('%s_%s' % (e.resource_action, e.resource_status), e.resource_status_reason)
            for e in db.event_list(service.database, stack_id)
            if e.resource_type == 'OS::Heat::Stack' and e.physical_resource_id == stack_id]


@sqlite_only
def test_every_operation_records_the_stacks_state_changes(paths):
    made = paths.create('life', TEXT, 't.yaml')
    sid = made['id']
    assert stack_events(paths, sid) == [
        ('CREATE_IN_PROGRESS', 'Stack CREATE started'),
        ('CREATE_COMPLETE', 'Stack CREATE completed successfully')]
    paths.check('life')
    failed = paths.update('life', BAD, 't.yaml')
    assert failed['stack_status'] == 'ROLLBACK_COMPLETE', failed['stack_status_reason']
    events = stack_events(paths, sid)[2:]
    assert [s for s, _ in events] == ['CHECK_IN_PROGRESS', 'CHECK_COMPLETE',
                                      'UPDATE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS',
                                      'ROLLBACK_COMPLETE']
    assert events[3][1].startswith('Rolling back: Update failed: ')
    assert events[4][1] == failed['stack_status_reason']
    paths.delete('life')
    # The delete's last event is readable by the deleted stack's id (the rows remain).
    assert stack_events(paths, sid)[-2:] == [
        ('DELETE_IN_PROGRESS', 'Stack DELETE started'),
        ('DELETE_COMPLETE', 'Stack DELETE completed successfully')]
    listed = paths.list_events(sid)
    last = listed[-1]
    assert (last['resource_name'], last['physical_resource_id'], last['resource_type'],
            last['resource_status']) == ('life', sid, 'OS::Heat::Stack', 'DELETE_COMPLETE')


@sqlite_only
def test_a_failed_create_without_rollback_and_nested_stacks_record_theirs(paths):
    failed = paths.create('broken', BAD, 't.yaml', disable_rollback=True)
    assert [s for s, _ in stack_events(paths, failed['id'])] == [
        'CREATE_IN_PROGRESS', 'CREATE_FAILED']
    top = paths.create('top', NESTED, 't.yaml')
    child = db.stack_list(paths.database, None, owner_id=top['id'])[0]
    assert [s for s, _ in stack_events(paths, child.id)] == [
        'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    paths.delete('top')
    assert [s for s, _ in stack_events(paths, child.id)][-1] == 'DELETE_COMPLETE'


class _Statements:
    """Counts the INSERTs and UPDATEs the database runs, by table."""

    def __init__(self, engine):
        self.seen = []
        self.engine = engine

    def __enter__(self):
        sa.event.listen(self.engine, 'before_cursor_execute', self._record)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, 'before_cursor_execute', self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        verb = words[0].upper()
        if verb == 'INSERT':
            self.seen.append(('INSERT', words[2].strip('"')))
        elif verb == 'UPDATE':
            self.seen.append(('UPDATE', words[1].strip('"')))


@sqlite_only
def test_a_stack_state_change_costs_one_insert_in_the_same_transaction(service):
    made = service.create_stack('cost', TEXT, 't.yaml')
    stack = db.stack_get(service.database, made['id'])
    with _Statements(service.database.engine) as counted:
        claimed = service.engine.claim(stack, dict(action='CHECK', status='IN_PROGRESS',
                                                   status_reason='Stack CHECK started'))
    assert counted.seen == [('UPDATE', 'stack'), ('INSERT', 'event')]
    # A compare-and-swap that fails writes no event.
    with _Statements(service.database.engine) as counted:
        assert service.engine.claim(stack, dict(status='FAILED')) is None
    assert counted.seen == [('UPDATE', 'stack')]
    with _Statements(service.database.engine) as counted:
        service.engine.complete(claimed.id, claimed.current_traversal, 'CHECK', None)
    assert counted.seen == [('UPDATE', 'stack'), ('INSERT', 'event')]
    # A whole create: the resources' events and the stack's two, nothing else per event.
    with _Statements(service.database.engine) as counted:
        service.create_stack('cost2', TEXT, 't.yaml')
    assert counted.seen.count(('INSERT', 'event')) == 2 * 2 + 2


@sqlite_only
def test_the_command_line_shows_stack_events_in_event_list_not_in_its_live_display(
        paths, tmp_path):
    """--wait prints the resource events and ends with the stack's status line (the
    stack's own events would only repeat it); ``stack event list`` lists them all."""
    from tests.unit.engine.test_operator_lifecycle import cli

    template = tmp_path / 't.yaml'
    template.write_text(TEXT)
    code, out, err = cli(paths.service, 'stack', 'create', '-t', str(template), 'shown',
                         '--wait')
    assert code == 0, err
    lines = err.splitlines()
    assert [line for line in lines if '[shown]' in line] == []
    assert sum('[a]: CREATE_COMPLETE' in line for line in lines) == 1
    assert 'CREATE_COMPLETE' in lines[-1] and 'shown' in lines[-1]
    code, out, err = cli(paths.service, 'stack', 'event', 'list', 'shown', '-f', 'value',
                         '-c', 'resource_name', '-c', 'resource_status')
    assert code == 0, err
    listed = out.splitlines()
    assert listed[0] == 'shown CREATE_IN_PROGRESS'
    assert listed[-1] == 'shown CREATE_COMPLETE'
    assert 'a CREATE_COMPLETE' in listed
