"""A failing delete masks hidden parameter values in its status reasons and events
(issue #14): a delete has no target definition, so the stored stack's hidden values are
used (its definition's, else its stored parameters with its template's schemas)."""

import pytest

from heat_taskflow.engine import operations
from heat_taskflow.resources.types.test_resource import TestResource
from tests.unit.engine.helpers import res, sqlite_only, tmpl

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
