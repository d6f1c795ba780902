"""The workload's record, against a fake cluster: a command line that keeps stacks in a
SQLite ``stack`` table the way the engine does (live_name, action, status, deleted_at), so
what the workload reads back from the database and from ``stack show`` is exercised
without any process of the real cluster.

The fake's create and update fail (ROLLBACK_COMPLETE / UPDATE_FAILED) exactly when the
template holds the broken resource; ``refuse`` names stacks whose create is refused before
anything is stored (exit 2), as the real command line does when ZooKeeper cannot be
reached; ``stuck`` names stacks whose operations never end.
"""

import json
import random
import subprocess
import sys
import threading
import time
import uuid

import sqlalchemy as sa

from tests.chaos import stacks
from tests.chaos import workload as workload_mod

SCHEMA = ('CREATE TABLE stack (id TEXT PRIMARY KEY, name TEXT, live_name TEXT, owner_id TEXT, '
          'action TEXT, status TEXT, status_reason TEXT, deleted_at TEXT)')


class FakeCluster:
    def __init__(self, tmp_path, refuse=(), stuck=()):
        self.workdir = tmp_path
        self.db_url = 'sqlite:///%s' % (tmp_path / 'fake.sqlite')
        self.engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        with self.engine.begin() as conn:
            conn.execute(sa.text(SCHEMA))
        self.refuse, self.stuck = set(refuse), set(stuck)
        self.calls = []
        self.lock = threading.Lock()

    def _row(self, ref):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(
                'SELECT id, name, action, status, status_reason, deleted_at FROM stack '
                'WHERE (id = :r OR live_name = :r)'), {'r': ref}).first()

    def _set(self, stack_id, **values):
        with self.engine.begin() as conn:
            conn.execute(sa.text('UPDATE stack SET %s WHERE id = :id' % ', '.join(
                '%s = :%s' % (k, k) for k in values)), dict(values, id=stack_id))

    @staticmethod
    def _broken(args):
        path = args[args.index('-t') + 1]
        with open(path) as f:
            return 'broken_ip' in f.read()

    def cli(self, *args, timeout=None):
        with self.lock:
            self.calls.append(args)
            return self._cli(list(args))

    def _cli(self, args):
        done = lambda rc, out='', err='': subprocess.CompletedProcess(args, rc, out, err)  # noqa: E731
        verb, name = args[1], args[-1] if args[-2] != '-f' else args[-3]
        if verb == 'create':
            if name in self.refuse:
                return done(2, err='Failed connecting to Zookeeper\n[jobboard] cannot connect')
            stack_id = str(uuid.uuid4())
            failed = self._broken(args)
            with self.engine.begin() as conn:
                conn.execute(sa.text(
                    'INSERT INTO stack VALUES (:id, :n, :n, NULL, :a, :s, :r, NULL)'),
                    {'id': stack_id, 'n': name,
                     'a': 'CREATE' if name in self.stuck else
                     ('ROLLBACK' if failed else 'CREATE'),
                     's': 'IN_PROGRESS' if name in self.stuck else 'COMPLETE',
                     'r': stacks.WORKLOAD_FAILURE if failed else 'done'})
            return done(1 if failed else 0)
        row = self._row(name)
        if row is None or row.deleted_at is not None:
            return done(2, err='stack "%s" not found' % name)
        if verb == 'show':
            return done(0, out=json.dumps({'id': row.id, 'stack_name': row.name,
                                           'stack_status': '%s_%s' % (row.action, row.status),
                                           'stack_status_reason': row.status_reason}))
        if verb == 'update':
            failed = self._broken(args)
            self._set(row.id, action='UPDATE', status='FAILED' if failed else 'COMPLETE',
                      status_reason=stacks.WORKLOAD_FAILURE if failed else 'done')
            return done(1 if failed else 0)
        if verb == 'delete':
            if row.status == 'IN_PROGRESS':
                return done(2, err='stack is in progress')
            self._set(row.id, live_name=None, action='DELETE', status='COMPLETE',
                      deleted_at='now')
            return done(0)
        if verb == 'resume':
            return done(2, err='nothing to resume')
        raise AssertionError(args)

    def cli_popen(self, *args, **kw):
        self.calls.append(args)
        return subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'],
                                **{k: v for k, v in kw.items() if k in ('stdout', 'stderr')})


def _workload(cluster, seed=3, **kw):
    kw.setdefault('settle_timeout', 0.5)
    kw.setdefault('op_timeout', 1.0)
    return workload_mod.Workload(cluster, random.Random(seed), streams=2,
                                 log=lambda line: None, **kw)


def _run(workload, seconds=1.5):
    workload.run(time.monotonic() + seconds)
    workload.finish()


def test_every_operation_is_recorded_with_its_expected_end(tmp_path):
    cluster = FakeCluster(tmp_path)
    workload = _workload(cluster, broken_rate=0.3, kill_rate=0.0)
    _run(workload)
    ops = workload.operations
    kinds = {op['op'] for op in ops}
    assert {'create', 'update', 'delete'} <= kinds, kinds
    for op in ops:
        assert set(op) >= {'stream', 'op', 'stack', 'stack_id', 'expected', 'status',
                           'reason', 'started', 'ended', 'killed_cli'}, op
        assert op['started'] <= op['ended']
        assert op['stack_id'] is not None, op
        if op['expected'] == 'FAILED_BY_WORKLOAD':
            assert op['status'] in ('ROLLBACK_COMPLETE', 'UPDATE_FAILED'), op
            assert stacks.WORKLOAD_FAILURE in op['reason']
        else:
            assert op['status'] == op['expected'], op
    assert any(op['expected'] == 'FAILED_BY_WORKLOAD' for op in ops)
    # Everything the run made is deleted at the end, and every stack is named.
    assert set(workload.run_stacks) == {op['stack'] for op in ops}
    with cluster.engine.connect() as conn:
        assert conn.execute(sa.text('SELECT count(*) FROM stack WHERE deleted_at IS NULL')
                            ).scalar() == 0


def test_a_seed_fixes_the_first_operations(tmp_path):
    def first(where, seed):
        where.mkdir()
        workload = _workload(FakeCluster(where), seed=seed, broken_rate=0.3, kill_rate=0.0)
        _run(workload, 1.0)
        return [(op['op'], op['stack'], op['expected']) for op in workload.operations
                if op['stream'] == 0][:4]

    assert first(tmp_path / 'a', 11) == first(tmp_path / 'b', 11)


def test_a_refused_create_is_a_failure_and_its_stack_is_not_acted_on(tmp_path):
    cluster = FakeCluster(tmp_path, refuse={'chaos-s0-1'})
    workload = _workload(cluster, kill_rate=0.0, broken_rate=0.0)
    _run(workload, 1.0)
    refused = [op for op in workload.operations if op['stack'] == 'chaos-s0-1']
    assert len(refused) == 1, refused
    assert refused[0]['status'] == 'REFUSED' and refused[0]['expected'] == 'CREATE_COMPLETE'
    assert 'Zookeeper' in refused[0]['reason']


def test_a_killed_create_is_followed_until_it_settles_then_resumed_and_deleted(tmp_path):
    cluster = FakeCluster(tmp_path, stuck={'chaos-s0-1'})
    workload = _workload(cluster, kill_rate=1.0)

    # The fake create is killed before it stores anything: the stack must be absent.
    _run(workload, 0.5)
    killed = [op for op in workload.operations if op['killed_cli']]
    assert killed and all(op['expected'] == op['status'] == 'GONE' for op in killed), killed

    # A create whose stack was stored (here by hand, as if the command line had stored it
    # before it was killed) and never ends: recorded IN_PROGRESS, then resumed at the end
    # (refused: the stack is unchanged) and its delete is refused: both are recorded.
    (tmp_path / 'two').mkdir()
    cluster2 = FakeCluster(tmp_path / 'two', stuck={'chaos-s0-1'})
    workload = _workload(cluster2, kill_rate=1.0)
    cluster2.cli('stack', 'create', '-t', workload._write('chaos-s0-1', stacks.new_shape(
        random.Random(0))), 'chaos-s0-1')
    _run(workload, 0.3)
    ops = [op for op in workload.operations if op['stack'] == 'chaos-s0-1']
    assert [op['op'] for op in ops] == ['create', 'resume', 'delete'], ops
    create, resume, delete = ops
    assert create['killed_cli'] and create['status'] == 'CREATE_IN_PROGRESS'
    assert create['expected'] == 'CREATE_COMPLETE'
    assert resume['expected'] == 'CREATE_COMPLETE'
    assert (resume['status'], resume['reason']) == ('REFUSED', 'nothing to resume')
    assert delete['status'] == 'REFUSED'
    assert delete['stack_status'] == 'CREATE_IN_PROGRESS'
