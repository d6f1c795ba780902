"""The short chaos storm in the test command, and the seeds that once failed.

Each case is one run of tests/chaos/run.py's ``storm``: a cluster of 3 conductors on a
private ZooKeeper and the simulated cloud, 3 streams of create / update / delete through the
command line, and the seeded fault schedule (conductors killed with kill -9, ZooKeeper
restarted short and long, a ZooKeeper outage, the cloud restarted; the command line killed
while it posts), then every stack resumed or deleted and the five invariants checked
(invariants.py). The assertion is the invariants' report: it names every problem.

``REGRESSION_SEEDS``: a seed whose storm once broke an invariant is added here (with a
comment naming what it broke), so it is replayed in every run of the tests. A replay is the
same storm (workload and fault schedule), not the same interleaving of processes.

The long lanes are ``tox -e chaos`` (10 minutes on SQLite), ``tox -e chaos -- --minutes 30``
and ``tox -e chaos -- --db postgresql``. The PostgreSQL case here is a short storm too; it
is skipped with the reason when no PostgreSQL server answers.
"""

import pytest

from tests.chaos import run as run_mod

pytestmark = [pytest.mark.functional, pytest.mark.slow]

STORM_SECONDS = 60.0        # about a minute of faults; the run takes 2 to 3 in all
POSTGRESQL_SECONDS = 30.0   # shorter: the test command's time budget
SETTLE = 90.0               # seconds the conductors get to finish, after the storm and after
                            # the deletes (a bound, not a measurement)

# Seeds replayed in every run. The default seed first; a failing seed found by a long run
# (its report names it) is appended with what it broke.
REGRESSION_SEEDS = [
    run_mod.DEFAULT_SEED,
    # A group stack's update rolled back: "the job of converge:nodes did not finish in 3
    # attempts" (the group resource's job waits for its child stack, and its conductor was
    # killed three times meanwhile); and creates refused or failed while the cloud
    # restarted ("the cloud configuration does not work: ... Connection refused").
    7,
]


def _cluster_missing():
    from tests.chaos import cluster as cluster_mod

    return cluster_mod.Cluster.missing()


def _storm(tmp_path, seed, seconds, db):
    lines = []
    result = run_mod.storm(seed, seconds, db=db, conductors=3, streams=3,
                           workdir=tmp_path / 'chaos', settle_for=SETTLE, log=lines.append)
    run_mod.print_summary(result, lines.append)
    print('\n'.join(lines))
    return result


def _message(result):
    """The assertion's message: the replay, the counts, every problem, the logs' tails."""
    return '\n'.join(
        ['chaos seed %d on %s broke invariants (replay: python -m tests.chaos.run '
         '--seconds %g --seed %d --db %s)' % (result['seed'], result['db'], result['seconds'],
                                              result['seed'], result['db']),
         'counts: %s' % result['counts'],
         'operations: %s' % result['operations_summary'],
         'faults: %s' % result['fault_counts']]
        + ['  %s' % p for p in result['problems']]
        + ([result['logs_tail']] if result.get('logs_tail') else []))


@pytest.fixture
def cluster_available():
    reason = _cluster_missing()
    if reason:
        pytest.skip('the chaos cluster cannot run here: %s' % reason)


@pytest.mark.parametrize('seed', REGRESSION_SEEDS)
def test_storm_sqlite(tmp_path, cluster_available, seed):
    result = _storm(tmp_path, seed, STORM_SECONDS, 'sqlite')
    assert result['operations'], 'the workload ran no operation'
    assert result['ok'], _message(result)


def test_storm_postgresql(tmp_path, cluster_available):
    from tests.chaos import cluster as cluster_mod

    reason = cluster_mod.Cluster.postgresql_missing()
    if reason:
        pytest.skip(reason)
    result = _storm(tmp_path, run_mod.DEFAULT_SEED, POSTGRESQL_SECONDS, 'postgresql')
    assert result['operations'], 'the workload ran no operation'
    assert result['ok'], _message(result)
