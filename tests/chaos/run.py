"""One chaos run: a cluster, the workload's streams, the fault schedule, then the invariants.

    python -m tests.chaos.run --minutes 10 --seed 7 --db sqlite --conductors 3 --streams 3 \\
        --out chaos-report.json

Prints the seed first (and the command that replays it), the faults as they are applied and
the operations as they end; then stops the workload (operations in flight finish), waits for
the conductors to settle (nothing IN_PROGRESS, or ``--settle`` seconds), resumes the stacks
that ended FAILED, deletes every stack of the run, and runs the invariants (invariants.py):
stuck, failed, duplicates, orphans, doubled. Prints what was done (faults by kind,
operations by kind and outcome) and the five counts, writes the JSON report, and exits 1
when an invariant failed (0 otherwise; 2 for a run that could not start).

A seed fixes the workload (its shapes, operations and kills) and the fault schedule; the
interleaving of processes is not reproducible, so a replay is the same storm, not the same
run. ``--seconds`` replaces ``--minutes`` for short runs.
"""

import argparse
import collections
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

DEFAULT_SEED = 20261207
SETTLE = 180.0        # seconds the conductors get to finish what is IN_PROGRESS


def _minutes(text):
    return 60.0 * float(text)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m tests.chaos.run', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # Both set the storm's length; the last one given wins (tox -e chaos -- --seconds 90).
    parser.add_argument('--minutes', dest='seconds', type=_minutes, default=600.0,
                        help='length of the storm in minutes (default 10)')
    parser.add_argument('--seconds', dest='seconds', type=float,
                        help='length of the storm in seconds (short runs)')
    parser.add_argument('--seed', type=int, default=None,
                        help='the run\'s seed (default: a random one, printed)')
    parser.add_argument('--db', choices=('sqlite', 'postgresql'), default='sqlite')
    parser.add_argument('--conductors', type=int, default=3)
    parser.add_argument('--streams', type=int, default=3)
    parser.add_argument('--settle', type=float, default=SETTLE,
                        help='seconds to wait for the conductors to settle (default %(default)s)')
    parser.add_argument('--workdir', default=None,
                        help='where the cluster keeps its files (default: a new temporary '
                             'directory, kept)')
    parser.add_argument('--no-faults', action='store_true',
                        help='the workload alone, no fault injected (a baseline)')
    parser.add_argument('--out', default='chaos-report.json', help='the JSON report')
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2 ** 31)
    return args


def replay_command(args):
    return ('python -m tests.chaos.run --seconds %g --seed %d --db %s --conductors %d '
            '--streams %d%s' % (args.seconds, args.seed, args.db, args.conductors,
                                args.streams, ' --no-faults' if args.no_faults else ''))


class FaultThread(threading.Thread):
    """Applies a fault schedule [(at seconds, name)] at its times until stopped."""

    def __init__(self, cluster, faults, schedule, rng, stop, log):
        super().__init__(name='chaos-faults', daemon=True)
        self.cluster, self.faults, self.schedule = cluster, faults, schedule
        self.rng, self.stop, self.log = rng, stop, log
        self.applied = []

    def run(self):
        start = time.monotonic()
        for at, name in self.schedule:
            if self.stop.wait(max(0.0, start + at - time.monotonic())):
                return
            fn = self.faults[name][0]
            began = time.monotonic() - start
            try:
                what = fn(self.cluster, self.rng, self.log)
                error = None
            except Exception as exc:        # noqa: BLE001 - recorded, the storm goes on
                what, error = None, repr(exc)
            self.applied.append({'at': round(began, 2), 'name': name, 'what': what,
                                 'error': error})
            self.log('fault @%.1fs %s: %s' % (began, name, what if error is None
                                              else 'FAILED TO APPLY: %s' % error))


def in_progress(db_url):
    """Names of the stacks (nested ones too) IN_PROGRESS in the database."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(sa.text(
                "SELECT name FROM stack WHERE status = 'IN_PROGRESS' "
                "AND deleted_at IS NULL"))]
    finally:
        engine.dispose()


def settle(db_url, bound, log):
    """Wait until nothing is IN_PROGRESS, or bound seconds; the names still busy."""
    end = time.monotonic() + bound
    while True:
        busy = in_progress(db_url)
        if not busy or time.monotonic() > end:
            break
        time.sleep(1.0)
    log('settle: %s' % ('nothing IN_PROGRESS' if not busy else
                        '%d still IN_PROGRESS after %.0f s: %s'
                        % (len(busy), bound, ', '.join(sorted(busy)[:10]))))
    return busy


def storm(seed, seconds, db='sqlite', conductors=3, streams=3, workdir=None, settle_for=SETTLE,
          faults_on=True, log=print):
    """Run one storm; returns the report dict (its 'ok' says whether every invariant held)."""
    from tests.chaos import cluster as cluster_mod
    from tests.chaos import faults as faults_mod
    from tests.chaos import invariants
    from tests.chaos import workload as workload_mod

    master = random.Random(seed)
    workload_rng = random.Random(master.getrandbits(64))
    fault_rng = random.Random(master.getrandbits(64))
    schedule = faults_mod.schedule(fault_rng, seconds / 60.0) if faults_on else []
    workdir = Path(workdir or tempfile.mkdtemp(prefix='chaos-%d-' % seed))
    log('workdir %s; %d fault(s) scheduled' % (workdir, len(schedule)))
    started = time.monotonic()
    with cluster_mod.Cluster(str(workdir), db=db, conductors=conductors, log=log) as cluster:
        workload = workload_mod.Workload(cluster, workload_rng, streams=streams, log=log,
                                         workdir=workdir, settle_timeout=settle_for)
        stop = threading.Event()
        injector = FaultThread(cluster, faults_mod.FAULTS, schedule, fault_rng, stop, log)
        streams_thread = threading.Thread(target=workload.run, args=(stop,),
                                          name='chaos-workload', daemon=True)
        streams_thread.start()
        injector.start()
        stop.wait(seconds)
        stop.set()
        log('storm over after %.0f s: stopping the workload' % (time.monotonic() - started))
        injector.join()
        # Every service back (ZooKeeper, the cloud, each conductor slot) before the end.
        cluster.heal()
        streams_thread.join()
        busy = settle(cluster.db_url, settle_for, log)
        workload.finish()
        busy_after = settle(cluster.db_url, settle_for, log)
        report = invariants.check(cluster.db_url, cluster.cloud, workload.operations,
                                  workload.run_stacks)
        recheck = keep_inputs(workdir, cluster, workload)
        counts = cluster.counts() if hasattr(cluster, 'counts') else {}
        tail = cluster.logs_tail(15) if not report.ok and hasattr(cluster, 'logs_tail') \
            else None
    return {
        'seed': seed, 'seconds': seconds, 'db': db, 'conductors': conductors,
        'streams': streams, 'workdir': str(workdir), 'ok': bool(report.ok),
        'elapsed': round(time.monotonic() - started, 1),
        'faults': injector.applied,
        'fault_counts': dict(collections.Counter(f['name'] for f in injector.applied)),
        'cluster_counts': counts,
        'operations_summary': workload.summary(),
        'in_progress_after_storm': busy, 'in_progress_at_end': busy_after,
        'invariants': report.to_dict(), 'counts': dict(report.counts),
        'problems': list(report.problems), 'operations': workload.operations,
        'logs_tail': tail, 'recheck': recheck,
    }


def keep_inputs(workdir, cluster, workload):
    """Write the invariants' inputs (the cloud's audit, the operations, the run's stacks)
    next to the run's database; the command that checks them again (None on PostgreSQL:
    its database is dropped with the cluster)."""
    files = {'audit.json': cluster.cloud.audit(), 'operations.json': workload.operations,
             'run_stacks.json': workload.run_stacks}
    for name, data in files.items():
        (workdir / name).write_text(json.dumps(data, indent=1, default=str))
    if not cluster.db_url.startswith('sqlite'):
        return None
    return 'python -m tests.chaos.invariants %s %s' % (
        cluster.db_url, ' '.join(str(workdir / name) for name in files))


def print_summary(result, log=print):
    log('')
    log('seed %d, %g s on %s, %d conductors, %d streams (%.0f s in all)'
        % (result['seed'], result['seconds'], result['db'], result['conductors'],
           result['streams'], result['elapsed']))
    log('faults applied: %s' % (', '.join('%s x%d' % kv for kv in
                                          sorted(result['fault_counts'].items())) or 'none'))
    if result['cluster_counts']:
        log('cluster: %s' % ', '.join('%s %s' % kv for kv in
                                      sorted(result['cluster_counts'].items())))
    log('operations:')
    for op, outcomes in sorted(result['operations_summary'].items()):
        log('  %-20s %s' % (op, ', '.join('%s %d' % kv for kv in sorted(outcomes.items()))))
    log('invariants: %s' % ', '.join('%s %d' % (k, result['counts'].get(k, 0)) for k in
                                     ('stuck', 'failed', 'duplicates', 'orphans', 'doubled')))
    for problem in result['problems'][:50]:
        log('  PROBLEM: %s' % problem)
    if result.get('recheck'):
        log('check again: %s' % result['recheck'])
    log('result: %s' % ('OK' if result['ok'] else 'INVARIANTS FAILED'))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print('chaos seed %d (replay: %s)' % (args.seed, replay_command(args)), flush=True)
    if args.db == 'postgresql':
        from tests.chaos import cluster as cluster_mod
        missing = cluster_mod.Cluster.postgresql_missing()
        if missing:
            print('cannot run on PostgreSQL: %s' % missing)
            return 2

    def log(line):
        print(line, flush=True)

    result = storm(args.seed, args.seconds, db=args.db, conductors=args.conductors,
                   streams=args.streams, workdir=args.workdir, settle_for=args.settle,
                   faults_on=not args.no_faults, log=log)
    print_summary(result, log)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    log('report written to %s (replay: %s)' % (args.out, replay_command(args)))
    return 0 if result['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
