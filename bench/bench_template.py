"""Benchmark the template library: parse + validate + dependencies() on large templates.

Shapes: ``independent`` (N unrelated resources) and ``layered`` (layers of width 50,
each resource reading get_attr and get_resource of two resources in the layer before).
Prints a table and writes bench/results/template.json.

    python bench/bench_template.py [--sizes 1000 5000] [--repeat 3]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from heat_taskflow.template import StackDefinition, StackIdentity, Template  # noqa: E402

WIDTH = 50
HEADER = """\
heat_template_version: 2018-08-31
parameters:
  prefix: {type: string, default: bench}
  size: {type: number, default: 3, constraints: [{range: {min: 1, max: 10}}]}
resources:
"""


def independent(n):
    """Template text with ``n`` resources that refer to nothing but parameters."""
    lines = [HEADER]
    for i in range(n):
        lines.append(
            '  r%d:\n'
            '    type: OS::Heat::None\n'
            '    properties:\n'
            '      name: {get_param: prefix}\n'
            '      size: {get_param: size}\n'
            '      index: %d\n' % (i, i))
    return ''.join(lines)


def layered(n):
    """Template text with ``n`` resources in layers of WIDTH, each reading two of the last."""
    lines = [HEADER]
    for i in range(n):
        layer, col = divmod(i, WIDTH)
        lines.append('  r%d:\n    type: OS::Heat::None\n    properties:\n'
                     '      name: {get_param: prefix}\n' % i)
        if layer:
            a = (layer - 1) * WIDTH + col
            b = (layer - 1) * WIDTH + (col + 1) % WIDTH
            lines.append('      left: {get_attr: [r%d, value]}\n'
                         '      right: {get_resource: r%d}\n' % (a, b))
    lines.append('outputs:\n  last: {value: {get_attr: [r%d, value]}}\n' % (n - 1))
    return ''.join(lines)


def run_once(text):
    """Seconds for parse, validate and dependencies(), and the number of edges."""
    t0 = time.perf_counter()
    tpl = Template.parse(text, filename='bench.yaml', max_size=len(text) + 1)
    t1 = time.perf_counter()
    defn = StackDefinition(tpl, identity=StackIdentity('bench', 'id', 'project'))
    defn.validate()
    t2 = time.perf_counter()
    deps = defn.dependencies()
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), sum(len(d) for d in deps.values())


def peak_memory(text):
    """Peak traced allocation (bytes) during one parse + validate + dependencies()."""
    tracemalloc.start()
    try:
        run_once(text)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def main(argv=None):
    """Run the benchmark, print a table and write the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[1000, 5000])
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--output', default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), 'results', 'template.json'))
    args = ap.parse_args(argv)

    rows = []
    for shape, make in (('independent', independent), ('layered', layered)):
        for n in args.sizes:
            text = make(n)
            runs = []
            edges = 0
            for _ in range(args.repeat):
                timings, edges = run_once(text)
                runs.append(timings)
            best = min(runs, key=sum)
            total = sum(best)
            rows.append({
                'shape': shape, 'resources': n, 'text_bytes': len(text.encode()),
                'edges': edges,
                'parse_ms': round(best[0] * 1000, 2),
                'validate_ms': round(best[1] * 1000, 2),
                'dependencies_ms': round(best[2] * 1000, 2),
                'total_ms': round(total * 1000, 2),
                'median_total_ms': round(statistics.median(sum(r) for r in runs) * 1000, 2),
                'ms_per_resource': round(total * 1000 / n, 4),
                'peak_memory_mib': round(peak_memory(text) / 2 ** 20, 2),
            })

    cols = ('shape', 'resources', 'edges', 'parse_ms', 'validate_ms', 'dependencies_ms',
            'total_ms', 'ms_per_resource', 'peak_memory_mib')
    print(' '.join('%16s' % c for c in cols))
    for row in rows:
        print(' '.join('%16s' % row[c] for c in cols))

    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w') as f:
        json.dump({'python': platform.python_version(), 'machine': platform.machine(),
                   'repeat': args.repeat, 'results': rows}, f, indent=2)
        f.write('\n')
    print('wrote %s' % args.output)


if __name__ == '__main__':
    main()
