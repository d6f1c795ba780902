"""yaql evaluation in a separate process, under a time and a memory budget.

A yaql expression comes from a template, so anyone may write one; some are cheap to
write and endless to evaluate (``pow(10, 100000000)``, ``sequence().len()``, a
backtracking ``regex``). No budget can be enforced from inside the evaluating thread:
the work happens in C (big integers, the ``re`` engine) and never yields. So an
expression is evaluated by a worker process:

- started lazily, once, with ``subprocess`` (never ``fork``: conductors and the API are
  threaded) running this very file as a script, so it imports yaql and nothing of
  heat_taskflow, and never re-imports the caller's ``__main__`` (multiprocessing's
  ``spawn`` and ``forkserver`` would);
- limited to ``memory`` bytes of address space (``RLIMIT_AS``): an allocation past it is
  a MemoryError there, not a swapping host;
- killed when an evaluation outlives ``timeout`` seconds, and replaced by a fresh one on
  the next call; a CPU-time rlimit set before each evaluation also ends a worker whose
  parent died mid-evaluation, and one whose parent is gone exits when its input closes;
- serving one evaluation at a time; a small pool (``MAX_WORKERS``) lets threads evaluate
  side by side. Time waiting for a free worker does not count against the budget.

Requests and replies are one line of JSON each, so data and results are plain JSON
data. The worker also prunes yaql's context: ``pow``, ``shiftBitsLeft`` and ``range``
refuse results past ``MAX_INTEGER_DIGITS`` digits or ``MAX_RANGE`` items at once, so the
common abuse fails cleanly before the deadline.

Results are cached per (expression, data) while small; a time or memory failure is remembered
for ``FAILURE_TTL`` seconds, so a template repeating one hostile expression pays the
budget once, not once per copy.

This module imports nothing of heat_taskflow: the caller (``functions_logic.Yaql``)
turns the exceptions below into TemplateErrors with a path.
"""

import atexit
import collections
import json
import os
import select
import subprocess
import sys
import threading
import time

MAX_WORKERS = 2
MAX_INTEGER_DIGITS = 4300   # Python's own limit on converting an int to text
MAX_RANGE = 1_000_000
FAILURE_TTL = 60.0
START_TIMEOUT = 60.0        # seconds a new worker may take to import yaql

_CACHE_ENTRIES = 512
_CACHE_ITEM_BYTES = 4096

# yaql's options, as Heat sets them: limits on collection sizes inside one evaluation.
ENGINE_OPTIONS = {
    'yaql.limitIterators': 200,
    'yaql.memoryQuota': 10000,
    'yaql.convertOutputData': True,
}


class SandboxError(Exception):
    """An evaluation did not give a value; the message says why, without a path."""


class BadExpression(SandboxError):
    """The expression does not parse."""


class EvaluationFailed(SandboxError):
    """yaql raised an error while evaluating (bad data, a type error, a yaql limit)."""


class BudgetExceeded(SandboxError):
    """The evaluation hit a budget: ``option`` names the [DEFAULT] option."""

    def __init__(self, message, option):
        super().__init__(message)
        self.option = option


class ResultTooLarge(BudgetExceeded):
    """The result's JSON text is more than ``limit`` bytes."""

    def __init__(self, limit):
        super().__init__('the result is larger than %s' % _limit_text(limit),
                         'max_resolved_size')
        self.limit = limit


class WorkerFailed(SandboxError):
    """The worker process could not start, or ended without answering."""


def evaluate(expression, data, timeout, memory, max_result):
    """``(value, size)``: the value of ``expression`` over ``$.data = data``, evaluated in
    a worker, and the bytes of its JSON text.

    ``timeout`` seconds and ``memory`` bytes bound the evaluation, ``max_result`` the
    bytes of its result as JSON (ResultTooLarge past it). Raises a SandboxError subclass
    when there is no value.
    """
    try:
        data_text = json.dumps(data, allow_nan=False, separators=(',', ':'))
    except (TypeError, ValueError) as exc:
        raise EvaluationFailed('data is not JSON data: %s' % exc)
    key = (expression, data_text, timeout, memory)
    reply = _cache.get(key)
    if reply is None:
        head = json.dumps({'expression': expression, 'max_result': max_result,
                           'timeout': timeout}, separators=(',', ':'))
        request = ('%s,"data":%s}\n' % (head[:-1], data_text)).encode()
        reply = _pool.run(request, timeout, memory)
        _cache.put(key, reply)
    return _answer(reply, max_result)


def _answer(reply, max_result):
    """The value of a worker's reply and its size, or its error raised."""
    if 'value' in reply:
        if len(reply['value']) > max_result:       # a cached result, asked for with less
            raise ResultTooLarge(max_result)
        return json.loads(reply['value']), len(reply['value'])
    kind, message = reply.get('error'), reply.get('message', '')
    if kind == 'parse':
        raise BadExpression(message)
    if kind == 'eval':
        raise EvaluationFailed(message)
    if kind == 'memory':
        raise BudgetExceeded(message, 'yaql_memory')
    if kind == 'timeout':
        raise BudgetExceeded(message, 'yaql_timeout')
    if kind == 'size':
        raise ResultTooLarge(max_result)
    raise WorkerFailed(message or 'the yaql worker gave no answer')


def _limit_text(nbytes):
    mib = nbytes / (1024 * 1024)
    return '%g MiB' % round(mib, 1) if mib >= 1 else '%d bytes' % nbytes


class _Cache:
    """A small LRU of replies; budget failures expire after FAILURE_TTL seconds."""

    def __init__(self):
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            reply, expires = item
            if expires is not None and time.monotonic() > expires:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return reply

    def put(self, key, reply):
        expires = None
        if reply.get('error') in ('timeout', 'memory'):
            expires = time.monotonic() + FAILURE_TTL
        elif reply.get('error') in ('size', 'crash'):
            return      # depends on the budget left, or on what happened to the worker
        size = len(key[0]) + len(key[1]) + len(reply.get('value') or reply.get('message', ''))
        if size > _CACHE_ITEM_BYTES:
            return
        with self._lock:
            self._items[key] = (reply, expires)
            self._items.move_to_end(key)
            while len(self._items) > _CACHE_ENTRIES:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self, memory):
        self.memory = memory
        command = [sys.executable, '-c', _BOOT, os.path.abspath(__file__), str(memory)]
        try:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True)
        except OSError as exc:
            raise WorkerFailed('could not start the yaql worker process: %s' % exc)
        self._buffer = b''
        try:
            ready = self._read_line(time.monotonic() + START_TIMEOUT)
        except (_Timeout, _Closed):
            self.kill()
            raise WorkerFailed('the yaql worker process did not start')
        if ready.get('ready') is not True:
            self.kill()
            raise WorkerFailed('the yaql worker process did not start: %s'
                               % ready.get('message', ready))

    @property
    def pid(self):
        return self.proc.pid

    def call(self, request, timeout):
        """The worker's reply to one request; _Timeout or _Closed when there is none."""
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            raise _Closed()
        return self._read_line(deadline)

    def _read_line(self, deadline):
        fd = self.proc.stdout.fileno()
        poller = select.poll()      # not select(): a busy server may hold fds past 1024
        poller.register(fd, select.POLLIN)
        while b'\n' not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            if not poller.poll(remaining * 1000):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise _Closed()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b'\n')
        return json.loads(line)

    def kill(self):
        """End the process now and reap it."""
        try:
            self.proc.kill()
        except OSError:
            pass
        self._reap()

    def close(self):
        """Ask the worker to exit (its input closes); kill it if it does not."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()

    def forget(self):
        """Close this process's copies of the pipes, leaving the worker alone."""
        self.proc.returncode = 0        # not ours to wait for
        self._close_pipes()

    def _reap(self):
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def _close_pipes(self):
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class _Pool:
    """Up to MAX_WORKERS workers, each serving one evaluation at a time."""

    def __init__(self):
        self._cond = threading.Condition()
        self._idle = []
        self._workers = set()       # idle and busy
        self._count = 0

    def after_fork(self):
        """In a child of fork(): forget the parent's workers, which are the parent's to
        stop (closing our copies of their pipes, so that they still see their input
        close), and start our own when needed."""
        for worker in self._workers:
            worker.forget()
        self.__init__()

    def _acquire(self, memory):
        with self._cond:
            while True:
                for i, worker in enumerate(self._idle):
                    if worker.memory == memory:
                        return self._idle.pop(i)
                if self._idle:
                    # an idle worker with another memory limit: replace it
                    other = self._idle.pop(0)
                    self._workers.discard(other)
                    self._count -= 1
                    other.close()
                if self._count < MAX_WORKERS:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            worker = _Worker(memory)
        except BaseException:
            self._release(None)
            raise
        with self._cond:
            self._workers.add(worker)
        return worker

    def _release(self, worker, keep=True):
        """Give a worker back (``keep``) or count it gone (None, or ``keep=False``)."""
        with self._cond:
            if worker is not None and not keep:
                self._workers.discard(worker)
            if worker is None or not keep:
                self._count -= 1
            else:
                self._idle.append(worker)
            self._cond.notify()

    def run(self, request, timeout, memory):
        """The reply to ``request``; a worker that timed out or died is replaced."""
        worker = self._acquire(memory)
        try:
            reply = worker.call(request, timeout)
        except _Timeout:
            worker.kill()
            self._release(worker, keep=False)
            return {'error': 'timeout', 'message': 'ran longer than %g s' % timeout}
        except _Closed:
            worker.kill()
            self._release(worker, keep=False)
            return _death(worker, memory)
        except BaseException:
            worker.kill()
            self._release(worker, keep=False)
            raise
        if reply.get('error') == 'memory':
            worker.close()      # its heap may be in any state: start afresh
            self._release(worker, keep=False)
        else:
            self._release(worker)
        return reply

    def pids(self):
        """Process ids of the idle workers (for tests)."""
        with self._cond:
            return [w.pid for w in self._idle]

    def shutdown(self):
        """Stop every idle worker; busy ones are stopped when their evaluation ends."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._workers.difference_update(idle)
        for worker in idle:
            worker.close()


def _death(worker, memory):
    """The reply standing for a worker that closed its output without answering."""
    code = worker.proc.returncode
    if code is not None and code < 0:
        import signal
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if name == 'SIGXCPU':
            return {'error': 'timeout', 'message': 'used more CPU time than allowed'}
        how = 'was killed by %s' % name
    else:
        how = 'exited with status %s' % code
    # Running out of address space can also end the interpreter outright.
    return {'error': 'crash',
            'message': 'the yaql worker process %s (a [DEFAULT] yaql_memory of %s may be '
                       'too small for it)' % (how, _limit_text(memory))}


_cache = _Cache()
_pool = _Pool()


def shutdown():
    """Stop the idle worker processes and forget cached results (they restart on demand)."""
    _pool.shutdown()
    _cache.clear()


def worker_pids():
    """Process ids of the idle worker processes."""
    return _pool.pids()


def _after_fork():
    global _cache
    _pool.after_fork()
    _cache = _Cache()     # its lock may have been held by another thread


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork)


# --- the worker side: run as a script, with nothing of heat_taskflow imported ------------

_BOOT = ("import sys; sys.path = [p for p in sys.path if p]; import runpy; "
         "runpy.run_path(sys.argv[1], run_name='__main__')")


def _guarded_functions(yaql_specs, yaqltypes):
    """yaql functions replacing those whose results can grow without bound."""
    import math

    def check_digits(bits):
        if bits * math.log10(2) > MAX_INTEGER_DIGITS:
            raise ValueError('the result would have more than %d digits' % MAX_INTEGER_DIGITS)

    @yaql_specs.parameter('a', yaqltypes.Number())
    @yaql_specs.parameter('b', yaqltypes.Number())
    @yaql_specs.parameter('c', yaqltypes.Number(nullable=True))
    @yaql_specs.name('pow')
    def pow_(a, b, c=None):
        if c is None and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            check_digits(b * math.log2(abs(a)))
        return pow(a, b, c)

    @yaql_specs.parameter('value', int)
    @yaql_specs.parameter('bits_number', int)
    @yaql_specs.name('shiftBitsLeft')
    def shift_bits_left(value, bits_number):
        if value:
            check_digits(value.bit_length() + bits_number)
        return value << bits_number

    def checked_range(start, stop, step):
        items = range(start, stop, step)
        if len(items) > MAX_RANGE:
            raise ValueError('range of %d items; at most %d are allowed'
                             % (len(items), MAX_RANGE))
        return iter(items)

    @yaql_specs.parameter('stop', int)
    @yaql_specs.name('range')
    def range_(stop):
        return checked_range(0, stop, 1)

    @yaql_specs.parameter('start', int)
    @yaql_specs.parameter('stop', int)
    @yaql_specs.parameter('step', int)
    @yaql_specs.name('range')
    def range__(start, stop, step=1):
        return checked_range(start, stop, step)

    return [pow_, shift_bits_left, range_, range__]


def _serve(memory):
    """The worker's loop: one JSON request per line in, one JSON reply per line out."""
    import collections.abc  # noqa: F401  yaql 3 uses collections.abc without importing it
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; anything else printed goes nowhere.
    out = os.fdopen(os.dup(1), 'wb')
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    stdin = os.fdopen(os.dup(0), 'rb')

    def send(message):
        out.write(json.dumps(message, separators=(',', ':')).encode() + b'\n')
        out.flush()

    try:
        import yaql
        from yaql.language import exceptions as yaql_exceptions
        from yaql.language import specs as yaql_specs
        from yaql.language import yaqltypes

        engine = yaql.YaqlFactory().create(dict(ENGINE_OPTIONS))
        root = yaql.create_context().create_child_context()
        for fn in _guarded_functions(yaql_specs, yaqltypes):
            root.register_function(fn, exclusive=True)
        root = root.create_child_context()
        engine('1 + 1').evaluate({}, root.create_child_context())   # warm up
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            memory = min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which refuses
        send({'ready': False, 'message': '%s: %s' % (type(exc).__name__, exc)})
        return
    send({'ready': True})

    statements = collections.OrderedDict()

    def parse(expression):
        statement = statements.get(expression)
        if statement is None:
            statement = engine(expression)
            statements[expression] = statement
            if len(statements) > 256:
                statements.popitem(last=False)
        return statement

    def cpu_seconds():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]

    for line in stdin:
        reply = None
        try:
            request = json.loads(line)
            # Backstop for a parent that died mid-evaluation: a little over the budget
            # of CPU time, then SIGXCPU ends this process.
            soft = int(cpu_seconds() + request['timeout']) + 3
            if cpu_hard == resource.RLIM_INFINITY or soft < cpu_hard:
                resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
            try:
                statement = parse(request['expression'])
            except yaql_exceptions.YaqlException as exc:
                reply = {'error': 'parse', 'message': str(exc)}
            else:
                value = statement.evaluate({'data': request['data']}, root.create_child_context())
                try:
                    text = json.dumps(value, allow_nan=False, separators=(',', ':'))
                except (TypeError, ValueError) as exc:
                    raise ValueError('the result is not JSON data: %s' % exc)
                if len(text) > request['max_result']:
                    reply = {'error': 'size'}
                else:
                    reply = {'value': text}
        except MemoryError:
            reply = {'error': 'memory', 'message': 'needed more than %s of memory'
                     % _limit_text(memory)}
        except RecursionError:
            reply = {'error': 'eval', 'message': 'the expression nests too deeply'}
        except Exception as exc:  # noqa: BLE001 - yaql raises many kinds
            try:
                message = str(exc)
            except Exception:  # noqa: BLE001 - e.g. an int too long to print
                message = type(exc).__name__
            reply = {'error': 'eval', 'message': message or type(exc).__name__}
        try:
            send(reply)
        except MemoryError:
            send({'error': 'memory', 'message': 'needed more than %s of memory'
                  % _limit_text(memory)})
        if reply.get('error') == 'memory':
            return


if __name__ == '__main__':
    _serve(int(sys.argv[-1]))
