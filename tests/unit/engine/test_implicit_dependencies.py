"""Implicit dependencies reach the engine: a plugin's ``implicit_dependencies`` orders the
create and is stored in the resource rows' ``requires``."""

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.types import test_resource
from tests.unit.engine.helpers import paths_on, res, rows, sqlite_only, tmpl


class AfterSameValue(test_resource.TestResource):
    """A test resource that comes after every TestResource storing the same value."""

    type_name = 'Test::AfterSameValue'

    @classmethod
    def implicit_dependencies(cls, name, view):
        mine = view.properties(name).get('value')
        return [other for other in view.names()
                if view.type_of(other) == 'OS::Heat::TestResource'
                and view.same(view.properties(other).get('value'), mine)]


@pytest.fixture
def with_plugin(monkeypatch):
    classes = registry.classes()
    classes[AfterSameValue.type_name] = AfterSameValue
    monkeypatch.setattr(registry, '_classes', {
        registry.NAMESPACE: classes,
        registry.TEST_NAMESPACE: registry.classes(test_types=True)})


@sqlite_only
def test_an_implicit_dependency_is_stored_in_requires(conf, database, with_plugin):
    template = tmpl({'after': {'type': 'Test::AfterSameValue', 'properties': {'value': 'v'}},
                     'first': res('v', wait_secs=0.2),
                     'unrelated': res('w')})
    with paths_on('legacy', conf, database) as paths:
        stack = paths.create('implicit', template, 't.yaml')
        assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
        stored = rows(paths, 'implicit')
        assert list(stored['after'].requires) == [stored['first'].id]
        assert list(stored['first'].requires) == []
        # The stack deletes in the reverse order without trouble.
        assert paths.delete('implicit')['stack_status'] == 'DELETE_COMPLETE'
