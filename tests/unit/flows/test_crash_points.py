"""A resource action killed right after any of its database commits is finished by its re-run.

Each scenario runs in a forked child process that ends (``os._exit``: like a kill -9,
nothing is flushed, no ``finally`` runs) right after its Nth commit of a transaction that
wrote, for every N from 1 until the scenario finishes without reaching N. The parent then
runs it again on the same database file (resource actions: the same actions in the same
traversal, as a re-claimed job does; a whole legacy stack operation: ``stack resume``, or
the operation again when the kill came before it was claimed) and checks against an
uncrashed run:

- the end state: the stack's status and rows (without their random names) and the objects
  the ledger (OS::Heat::TestLedger's audit of its physical actions) holds live per resource;
- the events: each resource reaches each *_COMPLETE once per traversal, and exactly the
  *_COMPLETE an uncrashed run records (none missing, none doubled);
- the ledger: one creation and at most one deletion per token (a plugin's handle_* may run
  twice; the second run adopts what the first did).

Nothing commits on a timer here (no heartbeat, TaskFlow's states written as they change),
so the Nth commit is the same step on every run. SQLite only: what is checked is the
transactions of the actions, not a backend's.
"""
import collections
import dataclasses
import datetime
import itertools
import multiprocessing
import os
import re
import shutil
import threading
import traceback

import pytest
import sqlalchemy as sa
import yaml
from oslo_config import cfg

from heat_taskflow.common import states
from heat_taskflow.conf import opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.flows import actions
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import models
from heat_taskflow.persistence.database import Database
from heat_taskflow.resources.types import test_ledger

TRAVERSAL = 'crash-points-traversal'
# The child's exit codes.
KILLED, FINISHED, BROKEN = 17, 0, 3


def tmpl(resources):
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources},
                          sort_keys=False)


def ledger_res(ledger, value, **props):
    props.update(ledger=str(ledger), value=value)
    return {'type': 'OS::Heat::TestLedger', 'properties': props}


def _conf(state_dir):
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(state_dir))
    # No commits on a timer (a legacy operation's heartbeat): the Nth commit is the same
    # step on every run.
    conf.set_override('legacy_heartbeat_interval', 3600)
    return conf


class Opened:
    """A StackService on a database file, closed (pools, engine) on exit."""

    def __init__(self, url, state_dir):
        # TaskFlow's atom states written as they change, not behind on a timer.
        self.database = Database(url, logbook_write_behind=0)
        self._executors = legacy.ExecutorPool(4)
        self.service = service_mod.StackService(_conf(state_dir), database=self.database,
                                                executors=self._executors)

    def __enter__(self):
        return self.service

    def __exit__(self, *exc):
        self.service.close()
        self._executors.shutdown()
        self.database.dispose()


_WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE')


def after_each_commit(database, then):
    """Call ``then(k)`` right after the database's kth commit of a transaction that wrote
    (reads commit too; they change nothing a re-run could find). SQLAlchemy's ``commit``
    event fires before the COMMIT runs, so the dialect's do_commit is wrapped instead (as
    persistence/database.py's SQLiteWriterLock does): ``then`` runs after the commit and
    before anything its caller does next."""
    dialect = database.engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    wrote = set()       # the DBAPI connections whose transaction wrote
    commits = itertools.count(1)
    lock = threading.Lock()

    def dbapi(connection):      # the dialect is given the pool's proxy of it
        return getattr(connection, 'dbapi_connection', connection)

    def before_cursor_execute(conn, cursor, statement, *args):
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            wrote.add(dbapi(conn.connection))

    def do_commit(connection):
        commit(connection)
        if dbapi(connection) in wrote:
            wrote.discard(dbapi(connection))
            with lock:
                then(next(commits))

    def do_rollback(connection):
        rollback(connection)
        wrote.discard(dbapi(connection))

    sa.event.listen(database.engine, 'before_cursor_execute', before_cursor_execute)
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def exit_after_commit(database, n):
    """End this process (as a kill -9 would) right after its nth writing commit."""
    def then(k):
        if k == n:
            os._exit(KILLED)
    after_each_commit(database, then)


@dataclasses.dataclass
class Actions:
    """Resource actions of one traversal of stack 's': ``steps`` of (what, name, row id)
    run with a runtime of ``action`` on the raw template ``raw_id`` (None: converging to
    nothing). Run again after a kill as a re-claimed job runs them: the same actions."""
    action: str
    raw_id: object
    steps: list

    def prepared(self, service):
        """The stack is in this traversal, as the actions' caller leaves it."""
        assert db.stack_update(service.database, service._stack('s').id, {
            'current_traversal': TRAVERSAL, 'action': self.action,
            'status': states.IN_PROGRESS})

    def run(self, service):
        """The actions, in order, with a runtime of the traversal."""
        stack = service._stack('s')
        engine = service.engine
        defn = (engine.stack_definition(stack, self.raw_id)
                if self.raw_id is not None else None)
        runtime = engine.traversal_runtime(stack, self.action, defn, None,
                                           traversal_id=TRAVERSAL)
        for what, name, row_id in self.steps:
            if what == 'converge':
                actions.converge(runtime, name)
            elif what == 'cleanup':
                actions.cleanup(runtime, name, row_id)
            else:
                actions.check(runtime, name)


@dataclasses.dataclass
class Operation:
    """A legacy stack operation on stack 's' ('create', 'update' to ``text``, 'delete'),
    run again after a kill as an operator would: ``stack resume`` when the kill left it
    IN_PROGRESS, the operation again when the kill came before it was claimed."""
    operation: str
    text: str = None

    def prepared(self, service):
        """Nothing to set up beyond what prepare did."""

    def run(self, service):
        stack = _find(service)
        if stack is not None and stack.status == states.IN_PROGRESS:
            # Time passes: a kill before the holder was recorded leaves only the stack's
            # last change to tell a dead operation from a live one.
            old = models.utcnow() - datetime.timedelta(days=1)
            db.stack_update(service.database, stack.id, {'heartbeat_at': old, 'updated_at': old})
            service.resume_stack(stack.id)
        elif self.operation == 'create':
            if stack is None:
                service.create_stack('s', self.text, 't.yaml')
        elif self.operation == 'update':
            if stack.action == states.CREATE:
                service.update_stack('s', self.text, 't.yaml')
        elif stack.action != states.DELETE:
            service.delete_stack('s')
        stack = _find(service)
        assert stack.status == states.COMPLETE, stack.status_reason


def _find(service):
    """Stack 's' (deleted too), or None."""
    found = [stack for stack in db.stack_list(service.database, service.project_id,
                                              show_deleted=True) if stack.name == 's']
    assert len(found) <= 1
    return found[0] if found else None


def _child(url, state_dir, scenario, n):
    try:
        with Opened(url, state_dir) as service:
            exit_after_commit(service.database, n)
            scenario.run(service)
    except BaseException:   # noqa: BLE001 - reported by the exit code, shown on stderr
        traceback.print_exc()
        os._exit(BROKEN)
    os._exit(FINISHED)


def observe(service, ledger, events_before):
    """What must be the same after a re-run as after an uncrashed run (of the events: those
    after ``events_before``, what the scenario recorded), and the ledger's and events' own
    checks."""
    database = service.database
    stack = _find(service)
    lines = test_ledger.read_ledger(str(ledger))
    per_token = collections.defaultdict(collections.Counter)
    for line in lines:
        per_token[line['token']][line['event']] += 1
    twice = sorted((token, event) for token, seen in per_token.items()
                   for event in (test_ledger.CREATE, test_ledger.DELETE) if seen[event] > 1)
    live = {token for token, seen in per_token.items()
            if seen[test_ledger.CREATE] and not seen[test_ledger.DELETE]}
    values = collections.defaultdict(list)
    for line in lines:
        if line['token'] in live and line['event'] in (test_ledger.CREATE,
                                                      test_ledger.UPDATE):
            values[line['token']].append(line['value'])
    live_objects = sorted((line['resource'], values[line['token']][-1]) for line in lines
                          if line['token'] in live and line['event'] == test_ledger.CREATE)
    rows = [(r.name, r.action, r.status, r.status_reason, r.replaces is not None,
             r.replaced_by is not None, r.properties_data, r.attributes,
             r.physical_resource_id in live)
            for r in db.resource_list(database, stack.id)]
    events = [e for e in db.event_list(database, stack.id, since_id=events_before)
              if e.resource_type != db.STACK_EVENT_TYPE and e.resource_status == states.COMPLETE]
    completes = sorted((e.resource_name, e.resource_action,
                        re.sub(r'\d+', 'N', e.resource_status_reason)) for e in events)
    per_traversal = collections.Counter(
        (e.traversal_id, e.resource_name, e.resource_action) for e in events)
    return {'stack': (stack.action, stack.status), 'rows': rows, 'live': live_objects,
            'completes': completes,
            # Both empty on every run: none of these twice.
            'completed twice in one traversal': sorted(
                key for key, count in per_traversal.items() if count > 1),
            'physical actions twice per token': twice}


def crash_points(tmp_path, prepare):
    """Kill the scenario ``prepare(service, ledger)`` returns after each commit in turn
    and re-run it; returns the number of commits of an uncrashed run."""
    ledger = tmp_path / 'ledger'
    state_dir = tmp_path / 'state'
    state_dir.mkdir()
    start = tmp_path / 'start.sqlite'
    with Opened('sqlite:///%s' % start, state_dir) as service:
        service.database.sync()
        scenario = prepare(service, ledger)
        scenario.prepared(service)
        stack = _find(service)
        events = db.event_list(service.database, stack.id) if stack is not None else []
        before = events[-1].id if events else 0
    ledger_text = ledger.read_bytes() if ledger.exists() else b''

    def fresh(tag):
        path = tmp_path / ('%s.sqlite' % tag)
        shutil.copyfile(start, path)        # the engine's disposal checkpointed the WAL
        ledger.write_bytes(ledger_text)
        return 'sqlite:///%s' % path

    url = fresh('uncrashed')
    with Opened(url, state_dir) as service:
        commits = []
        after_each_commit(service.database, commits.append)
        scenario.run(service)
        total = len(commits)
        expected = observe(service, ledger, before)
        assert not expected['completed twice in one traversal']
        assert not expected['physical actions twice per token']
        scenario.run(service)          # the re-run of a finished action changes nothing
        assert observe(service, ledger, before) == expected
        assert len(commits) == total

    mp = multiprocessing.get_context('fork')
    n = 0
    while True:
        n += 1
        url = fresh('killed-%d' % n)
        child = mp.Process(target=_child, args=(url, state_dir, scenario, n))
        child.start()
        child.join()
        assert child.exitcode in (KILLED, FINISHED), 'the child broke at N=%d' % n
        with Opened(url, state_dir) as service:
            try:
                scenario.run(service)
            except Exception as err:
                raise AssertionError('the re-run after a kill after commit %d of %d failed: '
                                     '%s' % (n, total, err)) from err
            got = observe(service, ledger, before)
        assert got == expected, 'killed after commit %d of %d' % (n, total)
        if child.exitcode == FINISHED:
            assert n == total + 1
            return total


# -- the scenarios ------------------------------------------------------------------------

def _stack(service, ledger, **resources):
    service.create_stack('s', tmpl(resources), 't.yaml')
    stack = service._stack('s')
    assert stack.status == states.COMPLETE, stack.status_reason
    return stack


def _raw(service, resources):
    return db.raw_template_create(
        service.database, {'text': tmpl(resources), 'filename': 't.yaml'}, files={},
        environment={'files': [], 'parameters': {}}).id


def _row(service, name):
    return db.resource_get_by_name(service.database, service._stack('s').id, name)


def test_create(tmp_path):
    def prepare(service, ledger):
        a = ledger_res(ledger, 'A')
        _stack(service, ledger, a=a)
        return Actions(states.UPDATE, _raw(service, {'a': a, 'b': ledger_res(ledger, 'B')}),
                        [('converge', 'b', None)])

    assert crash_points(tmp_path, prepare) >= 3


def test_update_in_place(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Actions(states.UPDATE, _raw(service, {'a': ledger_res(ledger, 'A2')}),
                        [('converge', 'a', None)])

    assert crash_points(tmp_path, prepare) >= 2


def test_replace_then_clean_up_the_replaced(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        old = _row(service, 'a').id
        return Actions(states.UPDATE,
                        _raw(service, {'a': ledger_res(ledger, 'A2', update_replace=True)}),
                        [('converge', 'a', None), ('cleanup', 'a', old)])

    assert crash_points(tmp_path, prepare) >= 4


def test_delete(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Actions(states.DELETE, None, [('cleanup', 'a', _row(service, 'a').id)])

    assert crash_points(tmp_path, prepare) >= 2


def test_check(tmp_path):
    def prepare(service, ledger):
        stack = _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Actions(states.CHECK, stack.raw_template_id, [('check', 'a', None)])

    assert crash_points(tmp_path, prepare) >= 2


def test_restore_after_a_failed_replacement(tmp_path):
    # A rollback: the replacement failed; the replaced row matches the target again and is
    # restored, and the failed replacement is cleaned up.
    def prepare(service, ledger):
        stack = _stack(service, ledger, a=ledger_res(ledger, 'A'))
        failing = Actions(states.UPDATE, _raw(service, {'a': ledger_res(
            ledger, 'A2', update_replace=True, fail=True)}), [('converge', 'a', None)])
        failing.prepared(service)
        with pytest.raises(actions.ResourceActionFailed):
            failing.run(service)
        failed = _row(service, 'a')
        assert failed.replaces is not None and failed.status == states.FAILED
        return Actions(states.UPDATE, stack.raw_template_id,
                        [('converge', 'a', None), ('cleanup', 'a', failed.id)])

    assert crash_points(tmp_path, prepare) >= 2


# -- whole stack operations (legacy path; the re-run is "stack resume") -------------------

def _two(ledger, value, **props):
    """a, and b that reads a."""
    return {'a': ledger_res(ledger, value, **props),
            'b': ledger_res(ledger, {'get_attr': ['a', 'output']})}


@pytest.mark.slow
def test_stack_create(tmp_path):
    def prepare(service, ledger):
        return Operation('create', tmpl(_two(ledger, 'A')))

    assert crash_points(tmp_path, prepare) >= 6


@pytest.mark.slow
def test_stack_update(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, **_two(ledger, 'A'))
        # a is replaced (and the replaced one deleted), b updated in place.
        return Operation('update', tmpl(_two(ledger, 'A2', update_replace=True)))

    assert crash_points(tmp_path, prepare) >= 6


@pytest.mark.slow
def test_stack_delete(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, **_two(ledger, 'A'))
        return Operation('delete')

    assert crash_points(tmp_path, prepare) >= 4
