"""The seeded, bounded fuzz lane of the test command (the long campaign is ``tox -e fuzz``).

A few hundred hostile cases drawn by Hypothesis from tests/hostile/strategies.py
(derandomized: the same cases on every run; no example database, so nothing is written to
.hypothesis), each run through the engine's validate and create in a worker subprocess
(tests/hostile/worker.py) and judged by the invariants of tests/hostile/runner.py; and a
small sample through the real command line. Every violation is collected, so one run
reports every class of finding, not only the first.
"""

import collections
import warnings

from hypothesis import HealthCheck, Phase, given, settings

from tests.hostile import runner, strategies

LIBRARY_CASES = 250
CLI_CASES = 3
BOUND = 10.0        # seconds per case before its worker is killed (a hang)

FUZZ = settings(max_examples=LIBRARY_CASES, derandomize=True, database=None, deadline=None,
                phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                print_blob=False)


def _summary(found):
    lines = []
    for key, (count, data, verdict) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        lines.append('%d x %s\n    input: %r\n    verdict: %r'
                     % (count, ' | '.join(k for k in key if k), data, verdict))
    return '\n'.join(lines)


def _collect(found, data, verdict, slow):
    for key in runner.findings_of(verdict, slow=slow):
        count, smallest, first = found.get(key, (0, data, verdict))
        if len(str(data)) < len(str(smallest)):
            smallest, first = data, verdict
        found[key] = (count + 1, smallest, first)


def test_library_fuzz(pool):
    found = {}
    outcomes = collections.Counter()

    @FUZZ
    @given(strategies.cases())
    def run(case):
        data = case.to_json()
        verdict = pool.run(data, timeout=BOUND)
        outcomes[verdict['outcome']] += 1
        _collect(found, data, verdict, runner.SLOW)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        run()
    assert sum(outcomes.values()) >= LIBRARY_CASES // 2, outcomes
    assert 'accepted' in outcomes, outcomes     # the grammar still reaches the engine
    assert not found, '%s\n%s' % (dict(outcomes), _summary(found))


def test_command_line_fuzz():
    found = {}
    drawn = []

    @settings(FUZZ, max_examples=CLI_CASES)
    @given(strategies.cases(mutate=False))
    def draw(case):
        drawn.append(case.to_json())

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        draw()
    for data in drawn:
        for verdict in runner.run_cli(data):
            _collect(found, data, verdict, runner.CLI_SLOW)
    assert not found, _summary(found)
