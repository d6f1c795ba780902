"""StackEngine's traversal lifecycle (heat_taskflow/engine/operations.py): one status
sequence on both paths, rollbacks described by stack columns, stored definitions parsed once."""

import pytest

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import operations as ops
from heat_taskflow.persistence import api as db
from heat_taskflow.template import StackDefinition
from tests.unit.engine.helpers import paths_on, res, tmpl


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, conf, database):
    with paths_on(request.param, conf, database) as on_path:
        yield on_path


@pytest.fixture
def written(monkeypatch):
    """The (action, status) pairs written to each stack row, in order."""
    seen = {}
    update = db.stack_update

    def stack_update(database, stack_id, values, **kwargs):
        # Noted before the write commits: a waiter in another thread may see the committed
        # row (and the test go on to read `seen`) before this thread runs another line.
        entry = (values.get('action'), values['status']) if 'status' in values else None
        written = seen.setdefault(stack_id, [])
        if entry is not None:
            written.append(entry)
        done = update(database, stack_id, values, **kwargs)
        if entry is not None and not done:
            del written[len(written) - 1 - written[::-1].index(entry)]   # the one noted above
        return done

    monkeypatch.setattr(db, 'stack_update', stack_update)
    return seen


def test_a_failed_create_goes_straight_to_its_rollback(paths, written):
    stack = paths.create('sc', tmpl({'ok': res('fine'), 'bad': res('x', fail=True)}), 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    assert stack['stack_status_reason'].startswith(
        'Stack ROLLBACK completed successfully (Create failed: ')
    # No FAILED that is not final: whoever polls sees IN_PROGRESS until the end.
    assert written[stack['id']] == [('ROLLBACK', 'IN_PROGRESS'), (None, 'COMPLETE')]
    row = db.stack_get(paths.database, stack['id'])
    assert (row.rollback_action, row.rollback_cancelled) == ('CREATE', False)


def test_a_failed_update_goes_straight_to_its_rollback(paths, written):
    paths.create('su', tmpl({'a': res('one')}), 't.yaml')
    stack = paths.update('su', tmpl({'a': res('two', fail=True)}), 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    assert written[stack['id']][-3:] == [('UPDATE', 'IN_PROGRESS'), ('ROLLBACK', 'IN_PROGRESS'),
                                         (None, 'COMPLETE')]
    row = db.stack_get(paths.database, stack['id'])
    assert (row.rollback_action, row.rollback_cancelled) == ('UPDATE', False)
    # The next operation's claim clears what the row said of the rollback.
    assert paths.update('su', tmpl({'a': res('three')}), 't.yaml')['stack_status'] == \
        'UPDATE_COMPLETE'
    row = db.stack_get(paths.database, stack['id'])
    assert (row.rollback_action, row.rollback_cancelled) == (None, False)


def test_a_failure_without_rollback_is_failed_once(paths, written):
    stack = paths.create('sf', tmpl({'bad': res('x', fail=True)}), 't.yaml',
                         disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    assert written[stack['id']] == [(None, 'FAILED')]


def test_stored_definitions_are_parsed_once_and_not_validated_again(service, monkeypatch):
    engine = service.engine
    service.create_stack('sd', tmpl({'a': res('one')}), 't.yaml')
    stack = service._stack('sd')

    def never(*args, **kwargs):
        raise AssertionError('a stored template is not validated again')

    monkeypatch.setattr(StackDefinition, 'validate', never)
    monkeypatch.setattr(ops.StackEngine, '_validate_resources', never)
    first = engine.stack_definition(stack, stack.raw_template_id)
    assert engine.stack_definition(stack, stack.raw_template_id) is first
    assert service.check_stack('sd')['stack_status'] == 'CHECK_COMPLETE'


def test_the_definition_cache_is_bounded(service, monkeypatch):
    engine = service.engine
    monkeypatch.setattr(engine, 'MAX_DEFINITIONS', 1)
    service.create_stack('b1', tmpl({'a': res('one')}), 't.yaml')
    service.create_stack('b2', tmpl({'a': res('two')}), 't.yaml')
    one, two = service._stack('b1'), service._stack('b2')
    first = engine.stack_definition(one, one.raw_template_id)
    engine.stack_definition(two, two.raw_template_id)
    again = engine.stack_definition(one, one.raw_template_id)
    assert again is not first and again.parameters == first.parameters
    assert list(engine._definitions) == [one.raw_template_id]


@pytest.mark.parametrize('operation', ['delete_stack', 'check_stack'])
def test_losing_the_claim_to_another_operation_is_action_in_progress(service, monkeypatch,
                                                                     operation):
    # Two requests at once (the API serves them on threads): the other one swapped its
    # traversal in between this one's read of the stack and its claim.
    service.create_stack('race', tmpl({'a': res('one')}), 't.yaml')
    monkeypatch.setattr(service.engine, 'claim', lambda *args, **kwargs: None)
    with pytest.raises(exc.ActionInProgress):
        getattr(service, operation)('race')
