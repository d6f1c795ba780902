"""Benchmark heat-taskflow's paths against plain TaskFlow: wall time, memory, SQL statements.

    python -m bench.run [--large] [--paths legacy taskflow ...] [--sizes 100 500 1000]
                        [--shapes indep dag] [--tracemalloc] [--no-latency] [--no-failover]
                        [--no-zookeeper] [--no-tripleo | --only-tripleo]
                        [--tripleo-env small|large] [--no-tripleo-crash] [--out bench/results]

Every case (path, shape, N) runs in a fresh subprocess so that peak RSS is per case. Stack
paths create, update (a property of every resource changes) and delete a stack through the
StackService on a fresh SQLite file database; the ``taskflow`` path runs a graph of no-op
tasks of the same shape on TaskFlow's parallel engine in memory, as the baseline. A latency
case (500 resources, width 100, 0.2 s per create) compares the create's wall time with the
ideal (depth x 0.2 s). ``distributed-zookeeper`` starts a private ZooKeeper server and two
``heat-taskflow-conductor`` processes per case (skipped, with the reason, when java or the
ZooKeeper jar is missing: tools/ensure-zookeeper); the failover case kills the busier of the
two mid-create. The TripleO case (every stack path) creates and deletes
examples/tripleo/overcloud.yaml with environments/--tripleo-env (large: 265 nodes, 1,338
resources counting the nested stacks' ones) through the openstacksdk driver against a
private heat-taskflow-simcloud process (--port 0, build time 0, its SQLite file and the
clouds.yaml it writes in the case's directory), counts the cloud API calls of each operation
(/admin/calls) and reads the cloud's audit: creations, intent tokens used twice (must be 0),
objects left after the delete (must be 0).
The tripleo-crash case (legacy) runs ``heat-taskflow stack create --wait`` on the example,
kills it -9 once half the servers exist, runs ``stack resume --wait`` and reports the
seconds lost against an undisturbed create and the audit (one creation per template
resource). --only-tripleo runs just these. Writes results.json, results.md and
ms_per_resource.png to --out.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from bench import paths as paths_mod
from bench import report, shapes

SIZES = (100, 500, 1000)
LARGE_SIZES = (5000,)
OPS = ('create', 'update', 'delete')
# Run with as many concurrent actions as a level is wide: at the default 16 the floor is
# 500 x 0.2 s / 16 = 6.25 s, whatever the engine does.
LATENCY = {'shape': 'dag', 'n': 500, 'width': 100, 'create_wait': 0.2, 'concurrency': 100}
# Failover: two conductor processes on a real ZooKeeper (session timeout 4 s); the busier one
# is killed -9 once the first layer is complete; each action waits 0.5 s, so some are always
# in flight.
FAILOVER = {'path': 'distributed-zookeeper', 'shape': 'dag', 'n': 200, 'width': 50,
            'create_wait': 0.5, 'kind': 'failover', 'tracemalloc': False}
# The TripleO-like example against a private simcloud (build time 0: the engine's cost).
TRIPLEO = {'kind': 'tripleo', 'shape': 'tripleo', 'build_time': 0.0, 'tracemalloc': False}
TRIPLEO_CRASH = dict(TRIPLEO, kind='tripleo-crash', path='legacy')
CHILD_TIMEOUT = 3600


def run_child(case):
    """Measure one case in a fresh interpreter; returns the child's figures or an error."""
    cmd = [sys.executable, '-m', 'bench.run', '--child', json.dumps(case)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)
    elapsed = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {'error': 'exit %d: %s' % (proc.returncode, ' | '.join(tail)),
                'process_s': elapsed}
    out = json.loads(lines[-1])
    out['process_s'] = elapsed
    return out


def child_main(case_json):
    """Entry point of the child process: measure, print one JSON line."""
    case = json.loads(case_json)
    path = paths_mod.PATHS[case['path']]
    print(json.dumps(path.measure(case)), flush=True)


def summarise(case, figures):
    """A flat result row for a case: seconds, ms per resource, statements per resource."""
    row = dict(case)
    row.update({k: v for k, v in figures.items() if k != 'ops'})
    n = case['n']
    if 'ops' in figures:
        total = 0.0
        for op, fig in figures['ops'].items():
            row['%s_s' % op] = round(fig['s'], 3)
            row['%s_sql_per_resource' % op] = round(fig['statements'] / n, 2)
            if 'zk_ops' in fig:
                row['%s_zk_ops_per_resource' % op] = round(fig['zk_ops'] / n, 2)
            total += fig['s']
        row['total_s'] = round(total, 3)
        row['ms_per_resource'] = round(1000 * total / n, 3)
        if 'create' in figures['ops']:
            row['create_ms_per_resource'] = round(1000 * figures['ops']['create']['s'] / n, 3)
    elif 'total_s' in figures:
        row['ms_per_resource'] = round(1000 * figures['total_s'] / n, 3)
        row['create_ms_per_resource'] = row['ms_per_resource']
    for key in ('peak_rss_mib', 'rss_before_mib', 'total_s', 'run_s', 'build_compile_s',
                'process_s'):
        if isinstance(row.get(key), float):
            row[key] = round(row[key], 3)
    return row


def summarise_tripleo(case, figures):
    """A result row of the TripleO case: per operation seconds, SQL per resource; ms per
    resource over every resource of the stack and its nested stacks."""
    row = dict(case)
    row.update({k: v for k, v in figures.items() if k != 'ops'})
    n = figures.get('resources')
    if n:
        row['n'] = n
        total = 0.0
        for op, fig in figures['ops'].items():
            row['%s_s' % op] = round(fig['s'], 3)
            row['%s_cpu_s' % op] = round(fig['cpu_s'], 3)
            row['%s_simcloud_cpu_s' % op] = round(fig['simcloud_cpu_s'], 3)
            row['%s_cloud_calls' % op] = fig['cloud_calls']
            row['%s_cloud_calls_per_resource' % op] = round(fig['cloud_calls']['total'] / n, 2)
            row['%s_ms_per_resource' % op] = round(1000 * fig['s'] / n, 3)
            row['%s_sql_per_resource' % op] = round(fig['statements'] / n, 2)
            if 'zk_ops' in fig:
                row['%s_zk_ops_per_resource' % op] = round(fig['zk_ops'] / n, 2)
            total += fig['s']
        row['total_s'] = round(total, 3)
        row['ms_per_resource'] = round(1000 * total / n, 3)
    for key, value in list(row.items()):
        if isinstance(value, float):
            row[key] = round(value, 3)
    return row


def machine():
    """The machine the figures were measured on."""
    from importlib import metadata
    mem = None
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    mem = round(int(line.split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    versions = {}
    for dist in ('heat-taskflow', 'taskflow', 'SQLAlchemy', 'networkx', 'oslo.config', 'zake',
                 'kazoo', 'matplotlib'):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {'cores': os.cpu_count(), 'memory_gib': mem, 'python': platform.python_version(),
            'platform': platform.platform(), 'packages': versions}


def main(argv=None):
    """Run the benchmark and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--large', action='store_true', help='also N = 5000')
    ap.add_argument('--paths', nargs='+', default=list(paths_mod.PATHS),
                    choices=list(paths_mod.PATHS))
    ap.add_argument('--sizes', type=int, nargs='+')
    ap.add_argument('--shapes', nargs='+', default=list(shapes.SHAPES), choices=shapes.SHAPES)
    ap.add_argument('--no-latency', action='store_true', help='skip the latency case')
    ap.add_argument('--no-failover', action='store_true', help='skip the failover case')
    ap.add_argument('--no-zookeeper', action='store_true',
                    help='skip the real-ZooKeeper path and the failover case (they are '
                         'skipped anyway, with the reason, when no server can be started)')
    ap.add_argument('--no-tripleo', action='store_true',
                    help='skip the TripleO example cases (tripleo, tripleo-crash)')
    ap.add_argument('--only-tripleo', action='store_true',
                    help='run only the TripleO example cases (no scale, latency, failover)')
    ap.add_argument('--tripleo-env', choices=('small', 'large'), default='large',
                    help='environment of examples/tripleo to deploy (default: %(default)s)')
    ap.add_argument('--no-tripleo-crash', action='store_true',
                    help='skip the legacy kill -9 / resume variant of the TripleO case')
    ap.add_argument('--tracemalloc', action='store_true',
                    help='record top allocations (slows every case down)')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  'results'))
    ap.add_argument('--child', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child)

    if args.no_tripleo and args.only_tripleo:
        ap.error('--no-tripleo and --only-tripleo exclude each other')
    sizes = list(args.sizes or SIZES + (LARGE_SIZES if args.large else ()))
    if args.only_tripleo:
        sizes, args.no_latency, args.no_failover = [], True, True
    rows, skipped, skipped_sizes = [], {}, {}
    for name in args.paths:
        why = paths_mod.PATHS[name].unavailable()
        if name == 'distributed-zookeeper' and args.no_zookeeper:
            why = 'skipped (--no-zookeeper)'
        if why:
            skipped[name] = why
            print('%-22s not measured: %s' % (name, why), flush=True)
    active = [p for p in args.paths if p not in skipped]
    for shape in args.shapes:
        for n in sizes:
            for name in active:
                max_n = paths_mod.PATHS[name].max_n
                if max_n is not None and n > max_n:
                    skipped_sizes.setdefault(name, []).append(n)
                    continue
                case = {'path': name, 'shape': shape, 'n': n, 'width': shapes.WIDTH,
                        'tracemalloc': args.tracemalloc, 'ops': list(OPS), 'kind': 'scale'}
                figures = run_child(case)
                row = summarise(case, figures)
                rows.append(row)
                report.print_row(row)
    if not args.no_latency:
        for name in active:
            if name == 'taskflow':
                continue
            case = dict(LATENCY, path=name, tracemalloc=False, ops=['create', 'delete'],
                        kind='latency')
            row = summarise(case, run_child(case))
            row['ideal_s'] = round(shapes.depth('dag', LATENCY['n'], LATENCY['width'])
                                   * LATENCY['create_wait'], 3)
            if 'create_s' in row:
                row['create_vs_ideal'] = round(row['create_s'] / row['ideal_s'], 3)
            rows.append(row)
            report.print_row(row)
    failover_why = skipped.get(FAILOVER['path'])
    if FAILOVER['path'] not in args.paths:
        failover_why = 'skipped (%s not among --paths)' % FAILOVER['path']
    elif args.only_tripleo:
        failover_why = 'skipped (--only-tripleo)'
    elif args.no_failover:
        failover_why = 'skipped (--no-failover)'
    if failover_why is None:
        row = dict(FAILOVER, **run_child(FAILOVER))
        rows.append(row)
        report.print_row(row)
    tripleo_why = 'skipped (--no-tripleo)' if args.no_tripleo else None
    if tripleo_why is None:
        for name in active:
            if name == 'taskflow':
                continue
            case = dict(TRIPLEO, path=name, env=args.tripleo_env)
            row = summarise_tripleo(case, run_child(case))
            rows.append(row)
            report.print_row(row)
    crash_why = tripleo_why
    if crash_why is None:
        if 'legacy' not in active:
            crash_why = 'skipped (legacy not among --paths)'
        elif args.no_tripleo_crash:
            crash_why = 'skipped (--no-tripleo-crash)'
    if crash_why is None:
        case = dict(TRIPLEO_CRASH, env=args.tripleo_env)
        row = dict(case, **run_child(case))
        for key, value in list(row.items()):
            if isinstance(value, float):
                row[key] = round(value, 3)
        rows.append(row)
        report.print_row(row)
    results = {'machine': machine(), 'when': time.strftime('%Y-%m-%d %H:%M:%S %Z'),
               'argv': sys.argv[1:], 'paths': {
                   name: {'description': paths_mod.PATHS[name].description,
                          'not_measured': skipped.get(name),
                          'sizes_not_measured': sorted(set(skipped_sizes.get(name, [])))}
                   for name in args.paths},
               'failover_not_measured': failover_why,
               'tripleo_not_measured': tripleo_why, 'tripleo_crash_not_measured': crash_why,
               'results': rows, 'ratios': report.ratios(rows)}
    report.write(args.out, results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
