"""A failing delete masks hidden parameter values in its status reasons and events
(issue #14): a delete has no target definition, so the stored stack's hidden values are
used (its definition's, else its stored parameters with its template's schemas)."""

import pytest

from heat_taskflow.engine import operations
from heat_taskflow.resources.types.test_resource import TestResource
from tests.unit.engine.helpers import paths_on, res, sqlite_only, tmpl

pytestmark = sqlite_only

SECRET = 'Hunter2-VerySecret'


def _failing_delete(monkeypatch):
    def check_delete_complete(self, cookie):
        raise RuntimeError('cannot delete, backend said "%s"' % self.properties['value'])
    monkeypatch.setattr(TestResource, 'check_delete_complete', check_delete_complete)


def _texts(service, name):
    view = service.get_stack(name)
    texts = [repr(view)]
    texts += [repr(e) for e in service.list_events(name)]
    # the resource's status reason (its attributes are the plugin's, not masked)
    texts += [r['resource_status_reason'] for r in service.list_resources(name)]
    return view, texts


@pytest.mark.parametrize('definition_loads', [True, False], ids=['definition', 'stored'])
def test_a_failing_delete_masks_hidden_values(service, monkeypatch, definition_loads):
    text = tmpl({'a': res({'get_param': 'secret'})},
                parameters={'secret': {'type': 'string', 'hidden': True}})
    stack = service.create_stack('hd', text, 't.yaml', parameters={'secret': SECRET})
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    _failing_delete(monkeypatch)
    if not definition_loads:
        def broken(self, stack, template_id):
            raise RuntimeError('the stored template no longer loads')
        monkeypatch.setattr(operations.StackEngine, 'stack_definition', broken)
    service.delete_stack('hd')
    view, texts = _texts(service, 'hd')
    assert view['stack_status'] == 'DELETE_FAILED'
    assert 'cannot delete, backend said' in view['stack_status_reason']
    assert '******' in view['stack_status_reason']
    assert not [t for t in texts if SECRET in t]


def test_a_failing_delete_in_a_conductor_masks_hidden_values(conf, database, monkeypatch):
    text = tmpl({'a': res({'get_param': 'secret'})},
                parameters={'secret': {'type': 'string', 'hidden': True}})
    with paths_on('distributed', conf, database) as paths:
        stack = paths.create('hd', text, 't.yaml', parameters={'secret': SECRET})
        assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
        _failing_delete(monkeypatch)
        paths.delete('hd')
        view, texts = _texts(paths.service, 'hd')
    assert view['stack_status'] == 'DELETE_FAILED'
    assert '******' in view['stack_status_reason']
    assert not [t for t in texts if SECRET in t]


def _sql_error():
    """A real SQLAlchemy error as an engine without heat-taskflow's settings raises it
    (its text carries the statement)."""
    import sqlalchemy as sa
    engine = sa.create_engine('sqlite://')
    with engine.connect() as conn:
        conn.execute(sa.text('CREATE TABLE vault (id INTEGER PRIMARY KEY, v TEXT NOT NULL)'))
        try:
            conn.execute(sa.text('INSERT INTO vault (id, v) VALUES (1, NULL)'))
        except sa.exc.DBAPIError as err:
            assert '[SQL: INSERT INTO vault' in str(err)
            return err
    raise AssertionError('no error')


def test_a_database_error_becomes_a_short_status_reason(service, monkeypatch):
    err = _sql_error()

    def handle_create(self):
        raise err
    monkeypatch.setattr(TestResource, 'handle_create', handle_create)
    stack = service.create_stack('dberr', tmpl({'a': res('1')}), 't.yaml',
                                 disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    reasons = [stack['stack_status_reason']]
    reasons += [r['resource_status_reason'] for r in service.list_resources('dberr')]
    reasons += [e['resource_status_reason'] for e in service.list_events('dberr')]
    assert any('database error: NOT NULL constraint failed: vault.v' in r for r in reasons)
    for reason in reasons:
        assert 'INSERT INTO' not in reason and '[SQL' not in reason and '\n' not in reason
        assert 'sqlite3' not in reason and 'IntegrityError' not in reason
