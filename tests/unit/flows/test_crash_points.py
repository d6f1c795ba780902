"""A resource action killed right after any of its database commits is finished by its re-run.

Each scenario runs its actions in a forked child process that ends (``os._exit``: like a
kill -9, nothing is flushed, no ``finally`` runs) right after its Nth commit, for every N
from 1 until the actions finish without reaching N. The parent then runs the same actions
again, in the same traversal, on the same database file, and checks against an uncrashed
run of them:

- the end state: the stack's rows (without their random names) and the objects the
  ledger (OS::Heat::TestLedger's audit of its physical actions) holds live per resource;
- the traversal's events: each resource reaches each *_COMPLETE once, and exactly the
  *_COMPLETE an uncrashed run records (none missing, none doubled);
- the ledger: one creation and at most one deletion per token (a plugin's handle_* may run
  twice; the second run adopts what the first did).

SQLite only: what is checked is the actions' transactions, not a backend's.
"""

import collections
import dataclasses
import multiprocessing
import os
import re
import shutil
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
    return conf


class Opened:
    """A StackService on a database file, closed (pools, engine) on exit."""

    def __init__(self, url, state_dir):
        self.database = Database(url)
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
    before anything its caller does next. One thread writes at a time here."""
    dialect = database.engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    state = {'wrote': False, 'commits': 0}

    def before_cursor_execute(conn, cursor, statement, *args):
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            state['wrote'] = True

    def do_commit(connection):
        commit(connection)
        if state['wrote']:
            state['wrote'] = False
            state['commits'] += 1
            then(state['commits'])

    def do_rollback(connection):
        rollback(connection)
        state['wrote'] = False

    sa.event.listen(database.engine, 'before_cursor_execute', before_cursor_execute)
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def exit_after_commit(database, n):
    """End this process (as a kill -9 would) right after its nth writing commit."""
    def then(k):
        if k == n:
            os._exit(KILLED)
    after_each_commit(database, then)


@dataclasses.dataclass
class Scenario:
    """Actions of one traversal of stack 's': ``steps`` of (what, name, row id) run with a
    runtime of ``action`` on the raw template ``raw_id`` (None: converging to nothing)."""
    action: str
    raw_id: object
    steps: list
    stack_id: str = None


def run(service, scenario):
    """The scenario's actions, in order, with a runtime of its traversal."""
    stack = db.stack_get(service.database, scenario.stack_id)
    engine = service.engine
    defn = (engine.stack_definition(stack, scenario.raw_id)
            if scenario.raw_id is not None else None)
    runtime = engine.traversal_runtime(stack, scenario.action, defn, None,
                                       traversal_id=TRAVERSAL)
    for what, name, row_id in scenario.steps:
        if what == 'converge':
            actions.converge(runtime, name)
        elif what == 'cleanup':
            actions.cleanup(runtime, name, row_id)
        else:
            actions.check(runtime, name)


def _child(url, state_dir, scenario, n):
    try:
        with Opened(url, state_dir) as service:
            exit_after_commit(service.database, n)
            run(service, scenario)
    except BaseException:   # noqa: BLE001 - reported by the exit code, shown on stderr
        traceback.print_exc()
        os._exit(BROKEN)
    os._exit(FINISHED)


def observe(service, scenario, ledger):
    """What must be the same after a re-run as after an uncrashed run, and the ledger's
    and events' own checks."""
    database = service.database
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
            for r in db.resource_list(database, scenario.stack_id)]
    completes = collections.Counter(
        (e.resource_name, e.resource_action, re.sub(r'\d+', 'N', e.resource_status_reason))
        for e in db.event_list(database, scenario.stack_id)
        if e.traversal_id == TRAVERSAL and e.resource_status == states.COMPLETE)
    return {'rows': rows, 'live': live_objects, 'completes': sorted(completes),
            # Both empty on every run: none of these twice.
            'completed twice in the traversal': sorted(
                key for key, count in completes.items() if count > 1),
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
        stack = service._stack('s')
        scenario.stack_id = stack.id
        # The traversal is the stack's current one: its actions are not cancelled.
        assert db.stack_update(service.database, stack.id, {
            'current_traversal': TRAVERSAL, 'action': scenario.action,
            'status': states.IN_PROGRESS})
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
        run(service, scenario)
        total = len(commits)
        expected = observe(service, scenario, ledger)
        assert not expected['completed twice in the traversal']
        assert not expected['physical actions twice per token']
        run(service, scenario)          # the re-run of a finished action changes nothing
        assert observe(service, scenario, ledger) == expected
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
            run(service, scenario)
            got = observe(service, scenario, ledger)
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
        return Scenario(states.UPDATE, _raw(service, {'a': a, 'b': ledger_res(ledger, 'B')}),
                        [('converge', 'b', None)])

    assert crash_points(tmp_path, prepare) >= 3


def test_update_in_place(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Scenario(states.UPDATE, _raw(service, {'a': ledger_res(ledger, 'A2')}),
                        [('converge', 'a', None)])

    assert crash_points(tmp_path, prepare) >= 2


def test_replace_then_clean_up_the_replaced(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        old = _row(service, 'a').id
        return Scenario(states.UPDATE,
                        _raw(service, {'a': ledger_res(ledger, 'A2', update_replace=True)}),
                        [('converge', 'a', None), ('cleanup', 'a', old)])

    assert crash_points(tmp_path, prepare) >= 4


def test_delete(tmp_path):
    def prepare(service, ledger):
        _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Scenario(states.DELETE, None, [('cleanup', 'a', _row(service, 'a').id)])

    assert crash_points(tmp_path, prepare) >= 2


def test_check(tmp_path):
    def prepare(service, ledger):
        stack = _stack(service, ledger, a=ledger_res(ledger, 'A'))
        return Scenario(states.CHECK, stack.raw_template_id, [('check', 'a', None)])

    assert crash_points(tmp_path, prepare) >= 2


def test_restore_after_a_failed_replacement(tmp_path):
    # A rollback: the replacement failed; the replaced row matches the target again and is
    # restored, and the failed replacement is cleaned up.
    def prepare(service, ledger):
        stack = _stack(service, ledger, a=ledger_res(ledger, 'A'))
        failing = Scenario(states.UPDATE, _raw(service, {'a': ledger_res(
            ledger, 'A2', update_replace=True, fail=True)}), [('converge', 'a', None)],
            stack_id=stack.id)
        db.stack_update(service.database, stack.id, {
            'current_traversal': TRAVERSAL, 'action': states.UPDATE,
            'status': states.IN_PROGRESS})
        with pytest.raises(actions.ResourceActionFailed):
            run(service, failing)
        failed = _row(service, 'a')
        assert failed.replaces is not None and failed.status == states.FAILED
        return Scenario(states.UPDATE, stack.raw_template_id,
                        [('converge', 'a', None), ('cleanup', 'a', failed.id)])

    assert crash_points(tmp_path, prepare) >= 2
