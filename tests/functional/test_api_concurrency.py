"""20 python-heatclient clients at once through one heat-taskflow-api process, on SQLite and
on PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards; skipped with the
reason when the server does not answer).

Each client thread creates its own stacks, reads them back (show, list with a name filter,
resources, events, outputs) while the others do the same, deletes some of them and keeps the
rest. Every request must get a correct answer: no 5xx, no error at all, every read showing
what that thread made. At the end the list of the project holds exactly the stacks the
threads kept (none lost, none doubled), then they are all deleted.
"""

import threading
import time
import traceback

import pytest
from heatclient import exc

from tests import conftest as root_conftest
from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

CLIENTS = 20
STACKS_PER_CLIENT = 3          # the first one is deleted, the others kept
BOUND = 300.0                  # seconds: a guard against hangs, never a measurement

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'parameters': {'owner': {'type': 'string'}},
    'resources': {
        'a': {'type': 'OS::Heat::Value', 'properties': {'value': {'get_param': 'owner'}}},
        'b': {'type': 'OS::Heat::None', 'depends_on': ['a']},
    },
    'outputs': {'owner': {'value': {'get_attr': ['a', 'value']}}},
}


@pytest.fixture(params=['sqlite', 'postgresql'])
def db_url(request, tmp_path):
    if request.param == 'sqlite':
        yield None                 # ApiServer's own SQLite file
        return
    url, drop = root_conftest._server_database('postgresql')
    try:
        yield url
    finally:
        drop()


def _until(get, done, deadline):
    while True:
        value = get()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out; last: %r' % (value,))
        time.sleep(0.2)


class Client(threading.Thread):
    """One client's work; ``errors`` collects everything that went wrong."""

    def __init__(self, server, index, start_gate):
        super().__init__(name='client-%d' % index, daemon=True)
        self.server = server
        self.index = index
        self.gate = start_gate
        self.kept = {}            # name -> id
        self.deleted = {}         # name -> id
        self.errors = []
        self.requests = 0

    def check(self, condition, message):
        if not condition:
            self.errors.append('%s: %s' % (self.name, message))

    def run(self):
        try:
            self._run()
        except exc.HTTPException as err:
            self.errors.append('%s: HTTP %s %s\n%s' % (self.name, err.code, err,
                                                       traceback.format_exc()))
        except Exception:      # noqa: BLE001 - everything a client meets is reported
            self.errors.append('%s: %s' % (self.name, traceback.format_exc()))

    def _run(self):
        hc = api.heat_client(self.server)
        deadline = time.monotonic() + BOUND
        self.gate.wait()
        names = ['c%02d-s%d' % (self.index, i) for i in range(STACKS_PER_CLIENT)]
        ids = {}
        for name in names:
            body = hc.stacks.create(stack_name=name, template=TEMPLATE,
                                    parameters={'owner': name})
            self.requests += 1
            ids[name] = body['stack']['id']
        for name in names:
            stack = _until(lambda name=name: hc.stacks.get(name),
                           lambda s: not s.stack_status.endswith('IN_PROGRESS'), deadline)
            self.requests += 1
            self.check(stack.stack_status == 'CREATE_COMPLETE',
                       '%s ended %s: %s' % (name, stack.stack_status,
                                            stack.stack_status_reason))
            self.check(stack.id == ids[name], '%s has id %s, created %s'
                       % (name, stack.id, ids[name]))
            outputs = {o['output_key']: o['output_value'] for o in stack.outputs}
            self.check(outputs == {'owner': name}, '%s outputs %r' % (name, outputs))
            listed = list(hc.stacks.list(filters={'name': name}))
            self.check([s.id for s in listed] == [ids[name]], '%s listed as %r'
                       % (name, [(s.stack_name, s.id) for s in listed]))
            resources = {r.resource_name: r.resource_status for r in hc.resources.list(name)}
            self.check(resources == {'a': 'CREATE_COMPLETE', 'b': 'CREATE_COMPLETE'},
                       '%s resources %r' % (name, resources))
            events = [(e.resource_name, e.resource_status)
                      for e in hc.events.list(name, sort_dir='asc')]
            self.check(events and events[-1] == (name, 'CREATE_COMPLETE'),
                       '%s events %r' % (name, events))
            output = hc.stacks.output_show(name, 'owner')['output']['output_value']
            self.check(output == name, '%s output %r' % (name, output))
            self.requests += 5
        victim = names[0]
        hc.stacks.delete(victim)
        self.requests += 1
        while True:
            try:
                stack = hc.stacks.get(victim, resolve_outputs=False)
            except exc.HTTPNotFound:
                break
            self.requests += 1
            if stack.stack_status not in ('DELETE_IN_PROGRESS', 'DELETE_COMPLETE'):
                self.check(False, '%s while deleted: %s %s' % (
                    victim, stack.stack_status, stack.stack_status_reason))
                break
            if time.monotonic() > deadline:
                self.check(False, '%s never went away' % victim)
                break
            time.sleep(0.2)
        self.deleted[victim] = ids[victim]
        self.kept = {name: ids[name] for name in names[1:]}


@pytest.mark.slow
def test_twenty_clients_create_read_delete_at_once(tmp_path, db_url):
    server = api.running(tmp_path / 'api', db_url=db_url)
    try:
        gate = threading.Barrier(CLIENTS)
        clients = [Client(server, i, gate) for i in range(CLIENTS)]
        t0 = time.monotonic()
        for client in clients:
            client.start()
        for client in clients:
            client.join(BOUND + 30)
        elapsed = time.monotonic() - t0
        assert not any(c.is_alive() for c in clients), 'a client hung\n%s' % server.log_tail()
        errors = [e for c in clients for e in c.errors]
        assert not errors, '%d errors:\n%s\n%s' % (len(errors), '\n'.join(errors[:10]),
                                                    server.log_tail())

        hc = api.heat_client(server)
        expected = {}
        for client in clients:
            expected.update(client.kept)
        listed = list(hc.stacks.list())
        names = [s.stack_name for s in listed]
        assert len(names) == len(set(names)), 'a stack listed twice: %r' % sorted(names)
        assert {s.stack_name: s.id for s in listed} == expected
        assert {s.stack_status for s in listed} == {'CREATE_COMPLETE'}
        deleted = {name for c in clients for name in c.deleted}
        assert len(deleted) == CLIENTS and not deleted & set(names)
        print('%d clients, %d requests in %.1f s' % (
            CLIENTS, sum(c.requests for c in clients), elapsed))

        for name in expected:
            hc.stacks.delete(name)
        for name in expected:
            api.wait_gone(hc, name, timeout=BOUND, server=server)
        assert list(hc.stacks.list()) == []
    finally:
        server.stop()
