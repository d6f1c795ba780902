"""Tests for heat_taskflow.template.sandbox: yaql in a worker process under a budget.

Every hostile expression here runs in the worker, which the sandbox kills at the
deadline: a regression shows as a failed assertion on the elapsed time, not a hung run.
Elapsed-time bounds are generous (10 s for budgets of 0.5-2 s) so that a loaded machine
does not make them flake.
"""

import json
import os
import signal
import threading
import time

import pytest

from heat_taskflow.template import sandbox

MIB = 1024 * 1024
SLOW_BOUND = 10.0       # seconds: far above any budget used here, far below the old hangs


def evaluate(expression, data=None, timeout=2.0, memory=512 * MIB, max_result=8 * MIB):
    value, size = sandbox.evaluate(expression, {} if data is None else data, timeout, memory,
                                   max_result)
    assert size == len(json.dumps(value, separators=(',', ':')))
    return value


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    try:
        return fn(*args, **kwargs), time.monotonic() - start
    except sandbox.SandboxError as exc:
        return exc, time.monotonic() - start


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True, scope='module')
def no_workers_left_behind():
    yield
    pids = sandbox.worker_pids()
    sandbox.shutdown()
    assert sandbox.worker_pids() == []
    assert not [pid for pid in pids if alive(pid)]


def test_plain_expressions_give_json_data():
    assert evaluate('$.data.a.select($ * 2)', {'a': [1, 2]}) == [2, 4]
    assert evaluate('dict(a => 1, b => [true, null])') == {'a': 1, 'b': [True, None]}
    assert evaluate('pow(2, 100)') == 2 ** 100
    assert evaluate('pow(2, 10000000000, 7)') == 2      # modular powers stay cheap
    assert evaluate('range(0, 1000).len()') == 1000


@pytest.mark.parametrize('expression', [
    'pow(10, 100000000)',           # ran past 30 s
    'pow(2, 10000000000)',          # 42 s and 4 GB
    'shiftBitsLeft(1, 100000000000)',
])
def test_huge_integers_are_refused_before_the_work(expression):
    err, elapsed = timed(evaluate, expression)
    assert isinstance(err, sandbox.EvaluationFailed)
    assert 'more than 4300 digits' in str(err)
    assert elapsed < SLOW_BOUND


def test_huge_ranges_are_refused_before_the_work():
    err, elapsed = timed(evaluate, 'range(0, 1000000000).len()')     # ran past 30 s
    assert isinstance(err, sandbox.EvaluationFailed)
    assert 'range of 1000000000 items; at most 1000000' in str(err)
    assert elapsed < SLOW_BOUND


def test_an_endless_evaluation_is_killed_at_the_deadline():
    evaluate('1')
    before = sandbox.worker_pids()
    err, elapsed = timed(evaluate, 'sequence().len()', timeout=0.5)
    assert isinstance(err, sandbox.BudgetExceeded)
    assert err.option == 'yaql_timeout'
    assert str(err) == 'ran longer than 0.5 s'
    assert elapsed < SLOW_BOUND
    # the worker that ran it is gone; the next evaluation gets a fresh one
    assert not [pid for pid in before if alive(pid) and pid not in sandbox.worker_pids()]
    assert evaluate('1 + 1') == 2


def test_a_backtracking_regex_is_killed_at_the_deadline():
    # 28 s with 46 characters before; exponential in the length
    err, elapsed = timed(evaluate, "regex('^(a|aa)+$').matches($.data.s)",
                         {'s': 'a' * 60 + 'b'}, timeout=0.5)
    assert isinstance(err, sandbox.BudgetExceeded) and err.option == 'yaql_timeout'
    assert elapsed < SLOW_BOUND


def test_memory_past_the_budget_is_refused():
    # yaql checks the size of a result only after building it: 81 MB here
    expression = "$.data.s.replace('x', $.data.s).len()"
    err, _ = timed(evaluate, expression, {'s': 'x' * 9000}, memory=48 * MIB)
    assert isinstance(err, sandbox.BudgetExceeded)
    assert err.option == 'yaql_memory'
    assert 'needed more than 48 MiB' in str(err)
    assert evaluate('2 + 2', memory=48 * MIB) == 4


def test_results_must_be_json_data_within_the_size_budget():
    err, _ = timed(evaluate, 'now()')
    assert isinstance(err, sandbox.EvaluationFailed) and 'not JSON data' in str(err)
    err, _ = timed(evaluate, "float('nan')")
    assert isinstance(err, sandbox.EvaluationFailed) and 'not JSON data' in str(err)
    err, _ = timed(evaluate, 'range(0, 100).select($)', max_result=100)
    assert isinstance(err, sandbox.ResultTooLarge) and err.option == 'max_resolved_size'
    assert str(err) == 'the result is larger than 100 bytes'
    # a result evaluated (and cached) under a larger budget is still held to the smaller
    assert len(evaluate('range(0, 50).select($)')) == 50
    err, _ = timed(evaluate, 'range(0, 50).select($)', max_result=100)
    assert isinstance(err, sandbox.ResultTooLarge)


def test_errors_of_the_expression_and_the_data():
    err, _ = timed(evaluate, '$.data.(')
    assert isinstance(err, sandbox.BadExpression)
    err, _ = timed(evaluate, '1 / 0')
    assert isinstance(err, sandbox.EvaluationFailed)
    err, _ = timed(evaluate, '$.data', {'when': object()})
    assert isinstance(err, sandbox.EvaluationFailed) and 'not JSON data' in str(err)
    deep = '[' * 3000 + ']' * 3000
    err, _ = timed(evaluate, deep)
    assert isinstance(err, sandbox.EvaluationFailed)


def test_a_budget_failure_is_remembered():
    err, first = timed(evaluate, 'sequence(1).len()', timeout=0.5)
    assert isinstance(err, sandbox.BudgetExceeded)
    again, second = timed(evaluate, 'sequence(1).len()', timeout=0.5)
    assert isinstance(again, sandbox.BudgetExceeded)
    assert second < 0.5 <= first


def test_threads_evaluate_side_by_side_while_one_is_stuck():
    results = {}

    def small(i):
        results[i] = evaluate('$.data.i * 2', {'i': i})

    stuck = threading.Thread(target=timed, args=(evaluate, 'sequence().len()'),
                             kwargs={'timeout': 1.0})
    stuck.start()
    threads = [threading.Thread(target=small, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads + [stuck]:
        t.join(60)
    assert results == {i: 2 * i for i in range(6)}


def test_a_forked_child_uses_its_own_worker():
    assert evaluate('$.data', {'who': 'parent'}) == {'who': 'parent'}
    parent_workers = sandbox.worker_pids()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # pragma: no cover - the child
        try:
            os.close(read_end)
            value = evaluate('$.data.who', {'who': 'child'})
            mine = sandbox.worker_pids()
            ok = value == 'child' and mine and not set(mine) & set(parent_workers)
            os.write(write_end, b'ok' if ok else b'bad')
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, 'rb') as answer:
        assert answer.read() == b'ok'
    os.waitpid(pid, 0)
    assert evaluate('$.data.who', {'who': 'parent again'}) == 'parent again'


def test_a_worker_that_dies_is_reported_and_replaced():
    evaluate('1')
    victim = sandbox.worker_pids()
    outcome = {}

    def stuck():
        outcome['result'] = timed(evaluate, 'sequence(2).len()', timeout=30)

    thread = threading.Thread(target=stuck)
    thread.start()
    # Killed while idle or while evaluating: either way the evaluation has no answer.
    for pid in victim:
        os.kill(pid, signal.SIGKILL)
    thread.join(60)
    err, elapsed = outcome['result']
    assert isinstance(err, sandbox.WorkerFailed)
    assert 'was killed by SIGKILL' in str(err)
    assert elapsed < SLOW_BOUND
    assert evaluate('3 * 3') == 9
    assert not set(victim) & set(sandbox.worker_pids())
