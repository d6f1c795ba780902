"""The long fuzz campaign (``tox -e fuzz``): many hostile cases across processes.

    python -m tests.hostile.campaign --inputs 100000 --workers 2 --out fuzz-findings.json

Each lane is a process that draws cases with Hypothesis (seeded, generation only, no
example database) and runs each, and ``--mutants`` cheap line-level mutants of it, in its
own worker subprocess (tests/hostile/worker.py: the engine's validate and create on SQLite,
under an address-space limit, killed past the hang bound). One case in ``--cli-every``
also goes through the real command line. The campaign prints counts per outcome and
throughput, and writes every class of finding (the invariant broken, the exception and
where it was raised) with its count and smallest input to the JSON file.
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
import warnings

PROGRESS_EVERY = 60.0    # seconds between progress lines


def line_mutants(text, rng, count):
    """Cheap mutants of a rendered template: lines deleted, duplicated, swapped, re-indented,
    truncated or given an odd character."""
    lines = text.split('\n')
    out = []
    for _ in range(count):
        copy = list(lines)
        for _ in range(rng.randint(1, 3)):
            if not copy:
                break
            i = rng.randrange(len(copy))
            op = rng.randrange(7)
            if op == 0:
                del copy[i]
            elif op == 1:
                copy.insert(i, copy[i])
            elif op == 2:
                j = rng.randrange(len(copy))
                copy[i], copy[j] = copy[j], copy[i]
            elif op == 3:
                copy[i] = '  ' + copy[i]
            elif op == 4:
                copy[i] = copy[i][2:] if copy[i].startswith('  ') else copy[i]
            elif op == 5:
                at = rng.randint(0, len(copy[i]))
                copy[i] = copy[i][:at] + rng.choice(
                    ['&x ', '*x', '!!binary ', '{', ']', ': ', '#', '"', "'", '\t', '<<: ',
                     '!!set ', '- ', '? ', '|', '@', '%']) + copy[i][at:]
            else:
                copy = copy[:i]
        out.append('\n'.join(copy))
    return out


def _record(findings, key, case, verdict):
    entry = findings.get(key)
    size = len(json.dumps(case))
    if entry is None:
        findings[key] = entry = {'class': list(key), 'count': 0, 'size': None}
    entry['count'] += 1
    if entry['size'] is None or size < entry['size']:
        entry.update(size=size, input=case, verdict=verdict)


def _tally(index, state, started, outcomes, findings):
    return {'lane': index, 'done': state['done'], 'cli': state['cli'],
            'seconds': time.monotonic() - started, 'outcomes': outcomes,
            'findings': list(findings.values())}


def lane(index, inputs, seed, mutants, cli_every, queue, max_seconds, partial):
    """One process: draw and run ``inputs`` cases (or until max_seconds); put its tallies
    on the queue, and every minute in the file ``partial``."""
    warnings.simplefilter('ignore')
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.configuration import set_hypothesis_home_dir

    from tests.hostile import runner, strategies

    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), 'heat-taskflow-hypothesis'))
    rng = random.Random(seed * 1000 + index)
    pool = runner.Pool()
    outcomes, findings = {}, {}
    state = {'done': 0, 'last': time.monotonic(), 'cli': 0, 'stop': False}
    started = time.monotonic()

    def judge(case, cli=False):
        verdicts = [pool.run(case)]
        if cli:
            verdicts += runner.run_cli(case)
            state['cli'] += 1
        for i, verdict in enumerate(verdicts):
            tag = verdict['outcome'] if i == 0 else 'cli ' + verdict['outcome']
            outcomes[tag] = outcomes.get(tag, 0) + 1
            for key in runner.findings_of(verdict, runner.CLI_SLOW if i else runner.SLOW):
                if i:
                    key = ('command line ' + key[0],) + tuple(key[1:])
                _record(findings, key, case, verdict)
        state['done'] += 1
        now = time.monotonic()
        if max_seconds and now - started > max_seconds:
            state['stop'] = True
        if now - state['last'] > PROGRESS_EVERY:
            state['last'] = now
            with open(partial, 'w') as f:
                json.dump(_tally(index, state, started, outcomes, findings), f, default=str)
            print('lane %d: %d inputs, %.1f/s, %s' % (
                index, state['done'], state['done'] / (now - started),
                json.dumps(outcomes, sort_keys=True)), flush=True)

    per_draw = 1 + mutants
    draws = max(1, inputs // per_draw)

    @hseed(seed + index)
    @settings(max_examples=draws, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategies.cases())
    def run(case):
        if state['done'] >= inputs or state['stop']:
            return
        data = case.to_json()
        judge(data, cli=cli_every > 0 and state['done'] // cli_every
              > (state['done'] - 1) // cli_every)
        for text in line_mutants(data['template'], rng, mutants):
            if state['done'] >= inputs or state['stop']:
                return
            judge(dict(data, template=text))

    try:
        while state['done'] < inputs and not state['stop']:
            before = state['done']
            try:
                run()
            except Exception as err:     # the generator's own failure: a finding of ours
                _record(findings, ('generator error', type(err).__name__, str(err)[:200]),
                        {'seed': seed + index}, {'outcome': 'generator error'})
            if state['done'] == before:
                break
            seed += 7919
            run = hseed(seed + index)(run)
    finally:
        pool.close()
        queue.put(_tally(index, state, started, outcomes, findings))


def replay(path):
    """Run each finding's smallest input of a findings file again; print what it breaks now."""
    from tests.hostile import runner

    with open(path) as f:
        report = json.load(f)
    pool = runner.Pool()
    still = 0
    try:
        for entry in report['findings']:
            if entry['class'][0] == 'generator error':
                continue        # no case to run: the strategy itself failed
            cli = entry['class'][0].startswith('command line')
            verdicts = runner.run_cli(entry['input']) if cli else [pool.run(entry['input'])]
            now = sorted({k for v in verdicts for k in runner.findings_of(
                v, runner.CLI_SLOW if cli else runner.SLOW)})
            still += bool(now)
            print('%-60s now: %s' % (' | '.join(c for c in entry['class'] if c)[:60],
                                     '; '.join(' | '.join(k for k in key if k) for key in now)
                                     or 'fixed'))
    finally:
        pool.close()
    return 1 if still else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--inputs', type=int, default=100000)
    parser.add_argument('--workers', type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument('--seed', type=int, default=14)
    parser.add_argument('--mutants', type=int, default=3,
                        help='line-level mutants run per drawn case')
    parser.add_argument('--cli-every', type=int, default=2000,
                        help='one case in N also through the command line (0: never)')
    parser.add_argument('--max-seconds', type=float, default=0,
                        help='stop drawing after this long (0: run every input)')
    parser.add_argument('--out', default='fuzz-findings.json')
    parser.add_argument('--replay', metavar='FINDINGS',
                        help='run the inputs of a findings file again instead of a campaign')
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)

    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    share = [args.inputs // args.workers + (i < args.inputs % args.workers)
             for i in range(args.workers)]
    started = time.monotonic()
    lanes = [ctx.Process(target=lane, args=(i, n, args.seed, args.mutants, args.cli_every,
                                            queue, args.max_seconds,
                                            '%s.lane%d' % (args.out, i)))
             for i, n in enumerate(share)]
    for p in lanes:
        p.start()
    results = []
    while len(results) < len(lanes):
        try:
            results.append(queue.get(timeout=5))
        except Exception:
            if not any(p.is_alive() for p in lanes) and queue.empty():
                break       # a lane died without its tally: report the others
    print('%d of %d lanes reported' % (len(results), len(lanes)), flush=True)
    for p in lanes:
        p.join()
    seconds = time.monotonic() - started

    outcomes, merged = {}, {}
    for result in results:
        for k, v in result['outcomes'].items():
            outcomes[k] = outcomes.get(k, 0) + v
        for entry in result['findings']:
            key = tuple(entry['class'])
            if key not in merged:
                merged[key] = dict(entry)
                continue
            merged[key]['count'] += entry['count']
            if entry['size'] < merged[key]['size']:
                merged[key].update({k: entry[k] for k in ('size', 'input', 'verdict')})
    done = sum(r['done'] for r in results)
    report = {'inputs': done, 'cli_inputs': sum(r['cli'] for r in results),
              'workers': args.workers, 'seconds': round(seconds, 1),
              'inputs_per_second': round(done / seconds, 1), 'seed': args.seed,
              'outcomes': outcomes,
              'findings': sorted(merged.values(), key=lambda e: -e['count'])}
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1, default=str)
    print('%d inputs (%d through the command line) in %.0f s on %d workers: %.1f/s'
          % (done, report['cli_inputs'], seconds, args.workers, report['inputs_per_second']))
    print('outcomes: %s' % json.dumps(outcomes, sort_keys=True))
    print('%d classes of finding (details in %s):' % (len(merged), args.out))
    for entry in report['findings']:
        print('  %6d  %s' % (entry['count'], ' | '.join(str(c) for c in entry['class'] if c)))
    return 1 if merged else 0


if __name__ == '__main__':
    sys.exit(main())
