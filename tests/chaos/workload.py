"""The chaos workload: concurrent streams of create / update / delete through the real
``heat-taskflow`` command line, each operation recorded with the end it must reach.

``Workload(cluster, rng, streams)``: ``run(stop)`` runs the streams until ``stop`` (a
threading.Event, or a time.monotonic() deadline) and returns once every stream finished its
operation in flight; ``finish()`` then resumes the stacks that ended FAILED and deletes every
stack of the run, so that nothing of theirs may stay live in the cloud.

Each stream has a random generator of its own drawn from the run's, and a few stacks of its
own (stacks.py: flat ones and groups of nested stacks) on which it runs, one at a time:

- ``stack create --wait`` of a new shape (one in ``broken_rate`` a template the cloud refuses:
  expected ``FAILED_BY_WORKLOAD``);
- ``stack update --wait`` to a changed shape (in place, counts, replacement; one in
  ``broken_rate`` broken);
- ``stack delete --wait``;
- one create in ``kill_rate`` without --wait, its command line killed with SIGKILL 0-0.3 s
  after it started, or after its stack row appeared (while it posts the first jobs). The
  stack must still end CREATE_COMPLETE by itself, or be absent when nothing was stored; a
  watcher polls ``stack show`` until it is no longer IN_PROGRESS (or ``settle_timeout``).

``operations`` (the invariants' input) holds one dict per operation: stream, op (create |
update | delete | resume), stack, stack_id, expected (CREATE_COMPLETE, UPDATE_COMPLETE,
DELETE_COMPLETE or FAILED_BY_WORKLOAD; GONE for a killed create that stored nothing),
status (what it ended in: the stack's ACTION_STATUS; DELETE_COMPLETE once it is gone; GONE
for that killed create; REFUSED when the command was refused before it started anything -
exit 2, or nothing stored -, its stderr then the reason), reason, started, ended,
killed_cli, and for the record: rc (the command's exit code), error (its stderr's tail),
stack_status (where the stack is), change (what an update changed), kind, absent (a killed
create stored nothing). A resume of a stack that is not IN_PROGRESS expects REFUSED.
``run_stacks`` names every stack the run made.

The command line's exit codes (cmd/shell.py): 0 done; 1 the stack ended FAILED (or an
unexpected error); 2 usage, input or validation error. ``--wait`` returns once the stack is no
longer IN_PROGRESS, and waits for ever: ``op_timeout`` bounds it here (the command is then
killed and the stack polled like a killed one).
"""

import json
import random
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from tests.chaos import stacks

OP_TIMEOUT = 300.0        # seconds: a guard against a hung command, never an assertion
SETTLE_TIMEOUT = 180.0    # seconds a stack may stay IN_PROGRESS after its command ended
POLL = 1.0
MAX_STACKS = 2            # live stacks per stream
KILL_WINDOW = 0.3         # seconds: a killed command line dies this long after its anchor


def _tail(text, lines=6):
    return '\n'.join((text or '').strip().splitlines()[-lines:])


def _in_progress(status):
    return bool(status) and status.endswith('_IN_PROGRESS')


class Workload:
    """Streams of stack operations against a Cluster, and their record."""

    def __init__(self, cluster, rng, streams=3, log=print, workdir=None, kill_rate=0.15,
                 broken_rate=0.1, op_timeout=OP_TIMEOUT, settle_timeout=SETTLE_TIMEOUT):
        self.cluster = cluster
        self.log = log
        self.streams = streams
        self.kill_rate = kill_rate
        self.broken_rate = broken_rate
        self.op_timeout = op_timeout
        self.settle_timeout = settle_timeout
        self.workdir = Path(workdir or getattr(cluster, 'workdir', None)
                            or tempfile.mkdtemp(prefix='chaos-workload-')) / 'templates'
        self.workdir.mkdir(parents=True, exist_ok=True)
        # One generator per stream, drawn in order from the run's: a seed fixes them all.
        self._rngs = [random.Random(rng.getrandbits(64)) for _ in range(streams)]
        self.operations = []
        self.run_stacks = []
        self._lock = threading.Lock()
        self._watchers = []
        # name -> {'id', 'shape', 'status', 'version', 'stream'}: the stacks alive now.
        self._stacks = {}
        self._engine = None

    # -- the run -------------------------------------------------------------------------

    def run(self, stop):
        """Run the streams until stop (an Event, or a time.monotonic() deadline)."""
        if not hasattr(stop, 'is_set'):
            deadline, stop = stop, threading.Event()
            timer = threading.Timer(max(0.0, deadline - time.monotonic()), stop.set)
            timer.daemon = True
            timer.start()
        threads = [threading.Thread(target=self._stream, args=(i, stop),
                                    name='chaos-stream-%d' % i, daemon=True)
                   for i in range(self.streams)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.log('workload: streams stopped after %d operations' % len(self.operations))

    def _stream(self, index, stop):
        rng = self._rngs[index]
        serial = 0
        while not stop.is_set():
            mine = [n for n, s in list(self._stacks.items())
                    if s['stream'] == index and not s.get('settling')]
            # Rolled back (a failed create, or a rollback that failed): a user deletes it.
            alive = [n for n in mine
                     if not (self._stacks[n]['status'] or '').startswith('ROLLBACK_')]
            dead = [n for n in mine if n not in alive]
            roll = rng.random()
            try:
                if dead:
                    self.delete(index, rng.choice(dead))
                elif not mine or (len(mine) < MAX_STACKS and roll < 0.35):
                    serial += 1
                    name = 'chaos-s%d-%d' % (index, serial)
                    if rng.random() < self.kill_rate:
                        self.create_killed(index, name, rng)
                    else:
                        self.create(index, name, rng)
                elif roll < 0.8:
                    self.update(index, rng.choice(alive), rng)
                else:
                    self.delete(index, rng.choice(mine))
            except Exception as exc:    # noqa: BLE001 - a stream must outlive one bad call
                self.log('workload: stream %d: %r' % (index, exc))
                time.sleep(POLL)

    # -- operations ------------------------------------------------------------------------

    def create(self, stream, name, rng):
        shape = stacks.new_shape(rng, broken=rng.random() < self.broken_rate)
        path = self._write(name, shape)
        self._adopt(name, stream, shape)
        started = time.time()
        result = self._cli('stack', 'create', '--wait', '-t', path, name, '-f', 'json')
        stack = self._settled(name, result)
        expected = 'FAILED_BY_WORKLOAD' if shape['broken'] else 'CREATE_COMPLETE'
        self._record(stream, 'create', name, expected, stack, result, started,
                     kind=shape['kind'])
        if stack is None:       # refused before anything was stored: nothing to act on
            with self._lock:
                self._stacks.pop(name, None)

    def create_killed(self, stream, name, rng):
        """A create without --wait, its command line killed while it posts."""
        shape = stacks.new_shape(rng)
        path = self._write(name, shape)
        anchor = rng.choice(('start', 'stored'))
        delay = rng.uniform(0.0, KILL_WINDOW)
        self._adopt(name, stream, shape, settling=True)
        started = time.time()
        proc = self.cluster.cli_popen('stack', 'create', '-t', path, name,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if anchor == 'stored':
            end = time.monotonic() + self.op_timeout
            while (self._stored_id(name) is None and proc.poll() is None
                   and time.monotonic() < end):
                time.sleep(0.01)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.kill()
        proc.wait()
        self.log('workload: stream %d: %s create killed %.2f s after %s (%s)'
                 % (stream, name, delay, anchor, 'killed' if killed else
                    'had already exited %s' % proc.returncode))
        watcher = threading.Thread(
            target=self._watch_killed,
            args=(stream, name, shape, started, proc.returncode, killed, anchor, delay),
            name='chaos-watch-%s' % name, daemon=True)
        with self._lock:
            self._watchers.append(watcher)
        watcher.start()

    def _watch_killed(self, stream, name, shape, started, rc, killed, anchor, delay):
        stack_id = self._stacks[name]['id'] = self._stored_id(name)
        stack = self._poll_settled(stack_id) if stack_id else None
        absent = stack_id is None
        if stack is not None and _in_progress(stack.get('stack_status')):
            self.log('workload: %s still %s %.0f s after its command line was killed'
                     % (name, stack['stack_status'], self.settle_timeout))
        result = subprocess.CompletedProcess([], rc, '', '')
        # Killed before it stored anything: nothing may exist (and nothing does, or the
        # stack row would be there: it is committed before any job is posted).
        expected = 'GONE' if absent else 'CREATE_COMPLETE'
        if absent:
            stack = {'stack_status': 'GONE'}
        self._record(stream, 'create', name, expected, stack, result, started,
                     killed_cli=killed, absent=absent, kind=shape['kind'],
                     kill_anchor=anchor, kill_delay=round(delay, 3), stack_id=stack_id)
        if absent:
            with self._lock:
                self._stacks.pop(name, None)
        else:
            self._stacks[name]['settling'] = False

    def update(self, stream, name, rng):
        entry = self._stacks[name]
        shape, what = stacks.change(rng, entry['shape'])
        broken = rng.random() < self.broken_rate
        shape['broken'] = broken
        path = self._write(name, shape)
        entry['shape'] = shape
        started = time.time()
        result = self._cli('stack', 'update', '--wait', '-t', path, entry['id'] or name,
                           '-f', 'json')
        stack = self._settled(name, result)
        expected = 'FAILED_BY_WORKLOAD' if broken else 'UPDATE_COMPLETE'
        self._record(stream, 'update', name, expected, stack, result, started,
                     change=what + (' broken' if broken else ''), kind=shape['kind'])

    def delete(self, stream, name):
        entry = self._stacks[name]
        started = time.time()
        result = self._cli('stack', 'delete', '--yes', '--wait', entry['id'] or name)
        stack = self._settled(name, result)
        self._record(stream, 'delete', name, 'DELETE_COMPLETE', stack, result, started,
                     kind=entry['shape']['kind'])

    def resume(self, name):
        """stack resume --wait: REFUSED (exit 2, the stack unchanged) when it is not
        IN_PROGRESS, as cmd/stack_resume.py says; else its operation must complete."""
        entry = self._stacks[name]
        before = self._db_stack(entry['id'])
        status = (before or {}).get('stack_status')
        if not status:
            return
        expected = ('%s_COMPLETE' % status.split('_')[0]) if _in_progress(status) \
            else 'REFUSED'
        started = time.time()
        result = self._cli('stack', 'resume', '--wait', entry['id'], '-f', 'json')
        stack = self._settled(name, result)
        self._record(None, 'resume', name, expected, stack, result, started,
                     kind=entry['shape']['kind'], before=status)

    # -- the end of the run ----------------------------------------------------------------

    def finish(self):
        """Wait for the killed creates' watchers, resume the stacks that ended FAILED (or
        still IN_PROGRESS), and delete every stack of the run (a delete that ended
        DELETE_FAILED is tried once more, and recorded as well)."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.join()
        for name in sorted(self._stacks):
            status = self._stacks[name]['status'] or ''
            if status.endswith('_FAILED') or _in_progress(status):
                self.resume(name)
        for name in sorted(self._stacks):
            self.delete(None, name)
        if self._stacks:
            self.log('workload: %d stack(s) left after the deletes: %s'
                     % (len(self._stacks), ', '.join(sorted(self._stacks))))
        for name in sorted(self._stacks):
            if (self._stacks[name]['status'] or '').endswith('_FAILED'):
                self.delete(None, name)     # a user tries a failed delete again

    # -- helpers ---------------------------------------------------------------------------

    def _write(self, name, shape):
        entry = self._stacks.get(name)
        version = entry['version'] + 1 if entry else 0
        if entry:
            entry['version'] = version
        where = self.workdir / name / ('v%d' % version)
        where.mkdir(parents=True, exist_ok=True)
        for filename, text in stacks.render(name, shape).items():
            (where / filename).write_text(text)
        return str(where / 'stack.yaml')

    def _adopt(self, name, stream, shape, settling=False):
        with self._lock:
            self.run_stacks.append(name)
            self._stacks[name] = {'id': None, 'shape': shape, 'status': None, 'version': 0,
                                  'stream': stream, 'settling': settling}

    def _cli(self, *args):
        """Run heat-taskflow ARGS; a CompletedProcess (rc None when it hung and was
        killed)."""
        try:
            return self.cluster.cli(*args, timeout=self.op_timeout)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(args, None, exc.stdout or '',
                                               'timed out after %.0f s' % self.op_timeout)

    def _show(self, ref):
        """The stack dict of ``stack show REF``, None once it is gone."""
        for _ in range(5):
            result = self._cli('stack', 'show', ref, '-f', 'json')
            if result.returncode == 0:
                return json.loads(result.stdout)
            if 'not found' in (result.stderr or ''):
                return None
            time.sleep(POLL)
        raise RuntimeError('stack show %s: %s' % (ref, _tail(result.stderr)))

    def _poll_settled(self, ref):
        """stack show REF until it is no longer IN_PROGRESS or settle_timeout passed."""
        end = time.monotonic() + self.settle_timeout
        while True:
            stack = self._show(ref)
            if stack is None or not _in_progress(stack.get('stack_status')) \
                    or time.monotonic() > end:
                return stack
            time.sleep(POLL)

    def _settled(self, name, result):
        """Where the stack is once its command ended, read from the database (by id);
        while it is still IN_PROGRESS (the command hung, or died of something) polled with
        ``stack show`` until it is not."""
        entry = self._stacks[name]
        if entry['id'] is None:
            entry['id'] = self._stored_id(name)
        if entry['id'] is None:
            return None
        stack = self._db_stack(entry['id'])
        # Exit 2: the command was refused and started nothing; what is in progress is not
        # its operation (a resume or delete of a stack stuck IN_PROGRESS).
        if stack is not None and _in_progress(stack['stack_status']) \
                and result.returncode != 2:
            stack = self._poll_settled(entry['id'])
        return stack

    def _query(self, sql, **params):
        with self._lock:
            if self._engine is None:
                self._engine = sa.create_engine(self.cluster.db_url,
                                                poolclass=sa.pool.NullPool)
        with self._engine.connect() as conn:
            return conn.execute(sa.text(sql), params).first()

    def _stored_id(self, name):
        """The id of the live top-level stack of that name in the database, or None."""
        row = self._query('SELECT id FROM stack WHERE live_name = :n AND owner_id IS NULL',
                          n=name)
        return row and row[0]

    def _db_stack(self, stack_id):
        """{'stack_status', 'stack_status_reason'} of the stack's row, None once it is
        deleted (as ``stack show`` says: not found)."""
        row = self._query('SELECT action, status, status_reason, deleted_at FROM stack '
                          'WHERE id = :i', i=stack_id)
        if row is None or row[3] is not None:
            return None
        return {'stack_status': '%s_%s' % (row[0], row[1]), 'stack_status_reason': row[2]}

    def _record(self, stream, op, name, expected, stack, result, started, stack_id=None,
                killed_cli=False, **extra):
        entry = self._stacks.get(name, {})
        stack_status = status = (stack or {}).get('stack_status')
        reason = (stack or {}).get('stack_status_reason')
        if stack is None and op == 'delete':
            stack_status = status = 'DELETE_COMPLETE'      # gone
        elif stack is None or result.returncode == 2:
            # The command refused the operation before starting it (exit 2: the job board
            # unreachable, the cloud not answering a validation, nothing to resume): its
            # stderr is the reason; the stack, if any, is where it was (stack_status).
            status, reason = 'REFUSED', _tail(result.stderr, 3)
        record = {'stream': stream, 'op': op, 'stack': name,
                  'stack_id': stack_id or entry.get('id'), 'expected': expected,
                  'status': status, 'reason': reason,
                  'started': started, 'ended': time.time(), 'killed_cli': killed_cli,
                  'rc': result.returncode, 'error': _tail(result.stderr),
                  'stack_status': stack_status, **extra}
        with self._lock:
            self.operations.append(record)
            if op == 'delete' and stack_status == 'DELETE_COMPLETE':
                self._stacks.pop(name, None)
            elif name in self._stacks:
                self._stacks[name]['status'] = stack_status
        ok = status == expected or (expected == 'FAILED_BY_WORKLOAD' and status and (
            status.endswith('_FAILED') or status.startswith('ROLLBACK_')))
        self.log('workload: %s %s %s -> %s%s (%.1f s)%s'
                 % ('-' if stream is None else 's%d' % stream, op, name, status,
                    '' if ok else ' [expected %s]' % expected, record['ended'] - started,
                    '' if ok else ': %s' % (record['reason'] or record['error'])[:300]))

    def summary(self):
        """{op: {outcome: n}}: outcome is 'ok', 'workload-failed' (expected), 'absent'
        (a killed create that stored nothing) or the status it ended in."""
        out = {}
        for record in self.operations:
            if record.get('absent'):
                outcome = 'absent'
            elif record['status'] == record['expected']:
                outcome = 'ok'
            elif record['expected'] == 'FAILED_BY_WORKLOAD' and record['status'] and (
                    record['status'].endswith('_FAILED')
                    or record['status'].startswith('ROLLBACK_')):
                outcome = 'workload-failed'
            else:
                outcome = str(record['status'])
            op = record['op'] + (' (killed cli)' if record['killed_cli'] else '')
            kinds = out.setdefault(op, {})
            kinds[outcome] = kinds.get(outcome, 0) + 1
        return out
