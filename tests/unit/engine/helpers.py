"""Helpers shared by the engine tests: templates of test resources, stored rows, and one
StackService on each path (legacy, or distributed on a private zake board)."""

import contextlib

import pytest
import yaml

from heat_taskflow.engine import legacy
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness

# For tests of engine logic that does not depend on the database backend.
sqlite_only = pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)


def tmpl(resources, outputs=None, parameters=None, version='2018-08-31'):
    """A HOT template text of these resources (and outputs, parameters)."""
    doc = {'heat_template_version': version, 'resources': resources}
    if outputs:
        doc['outputs'] = outputs
    if parameters:
        doc['parameters'] = parameters
    return yaml.safe_dump(doc, sort_keys=False)


def res(value, **props):
    """An OS::Heat::TestResource definition storing ``value``."""
    props['value'] = value
    return {'type': 'OS::Heat::TestResource', 'properties': props}


def rows(service, name):
    """{resource name: current row} of a stack."""
    stack = service._stack(name)
    return {r.name: r for r in db.resource_list(service.database, stack.id)
            if r.replaced_by is None}


def outputs(view):
    """{output key: value} of a stack view."""
    return {o['output_key']: o['output_value'] for o in view['outputs']}


class Paths:
    """One StackService on one path; every operation returns the settled stack view."""

    def __init__(self, path, service):
        self.path = path
        self.service = service

    def __getattr__(self, name):
        return getattr(self.service, name)

    def settled(self, view):
        if view['stack_status'].endswith('_IN_PROGRESS'):
            assert self.path == 'distributed'
            return harness.settle(self.service, view['id'])
        return view

    def create(self, *args, **kwargs):
        return self.settled(self.service.create_stack(*args, **kwargs))

    def update(self, *args, **kwargs):
        return self.settled(self.service.update_stack(*args, **kwargs))

    def delete(self, name):
        return self.settled(self.service.delete_stack(name))

    def check(self, name):
        return self.settled(self.service.check_stack(name))


@contextlib.contextmanager
def paths_on(path, conf, database):
    """Paths on ``path``: the legacy runner, or two conductors on a private zake board."""
    if path == 'legacy':
        executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
        try:
            yield Paths('legacy', harness.make_service(conf, database, executors))
        finally:
            executors.shutdown()
        return
    with harness.zake_service(conf, database) as service, \
            harness.conductors(conf, database, count=2):
        yield Paths('distributed', service)
