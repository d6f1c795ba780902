"""Presenting benchmark results: console rows, ratios, results.json/.md and the plot."""

import json
import os

# OpenStack Heat 27.0.1 legacy engine on this machine, dag 1000 (/work/shared/facts/heat.md).
HEAT_DAG_1000 = {'create_s': 17.1, 'update_s': 37.3, 'delete_s': 9.8, 'peak_rss_mib': 465}
HISTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'history.md')


def print_row(row):
    """One line per case on the console."""
    if row.get('kind') in ('tripleo', 'tripleo-crash'):
        return _print_tripleo(row)
    if row.get('error'):
        print('%-22s %-5s %5d  ERROR %s' % (row['path'], row['shape'], row['n'], row['error']),
              flush=True)
        return
    if row.get('kind') == 'failover':
        print('%-22s %-5s %5d  failover: kill -9 after %.2fs, resumed after %s s, lost %.2fs '
              '(undisturbed %.2fs)' % (row['path'], row['shape'], row['n'],
                                       row['killed_after_s'], _num(row['resume_s']),
                                       row['lost_s'], row['undisturbed_s']), flush=True)
        return
    ops = ' '.join('%s %7.2fs %5.1f sql/r' % (op, row['%s_s' % op],
                                              row['%s_sql_per_resource' % op])
                   for op in ('create', 'update', 'delete') if '%s_s' % op in row)
    if not ops:
        ops = 'compile %6.2fs run %6.2fs' % (row['build_compile_s'], row['run_s'])
    extra = ''
    if row.get('kind') == 'latency':
        extra = ' ideal %.2fs x%.2f' % (row['ideal_s'], row.get('create_vs_ideal', 0))
    print('%-22s %-5s %5d  %s  %8.3f ms/r  %7.1f MiB%s' % (
        row['path'], row['shape'], row['n'], ops, row['ms_per_resource'],
        row['peak_rss_mib'], extra), flush=True)


def _print_tripleo(row):
    what = '%-22s %-5s' % (row['path'], row['env'])
    if row.get('error'):
        print('%s %s  ERROR %s' % (what, row['kind'], row['error']), flush=True)
    elif row['kind'] == 'tripleo':
        a = row['audit']
        print('%s %5d r  create %7.2fs %5.1f sql/r %5.2f calls/r  delete %7.2fs %5.1f sql/r '
              '%5.2f calls/r  %8.3f ms/r  %7.1f MiB  cloud: %d created, %d dup, %d left' % (
                  what, row['n'], row['create_s'], row['create_sql_per_resource'],
                  row['create_cloud_calls_per_resource'], row['delete_s'],
                  row['delete_sql_per_resource'], row['delete_cloud_calls_per_resource'],
                  row['ms_per_resource'], row['peak_rss_mib'], a['creations'],
                  a['duplicate_tokens'], a['live']),
              flush=True)
    else:
        a = row['audit_create']
        print('%s crash: kill -9 after %.2fs (%d objects), resumed in %.2fs, lost %.2fs '
              '(undisturbed %.2fs); cloud: %d created, %d dup, max %d per resource, %d left'
              % (what, row['killed_after_s'], row['objects_at_kill'], row['resume_s'],
                 row['lost_s'], row['undisturbed_s'], a['creations'], a['duplicate_tokens'],
                 a['max_creations_per_resource'], row['audit']['live']), flush=True)


def _num(value, fmt='%.2f'):
    return 'n/a' if value is None else fmt % value


def _index(rows):
    return {(r['path'], r['shape'], r['n']): r for r in rows
            if r.get('kind') == 'scale' and not r.get('error')}


def ratios(rows):
    """Side-by-side ratios per (shape, N): legacy / plain TaskFlow, distributed / legacy."""
    idx = _index(rows)
    out = []
    for (path, shape, n), row in sorted(idx.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if path == 'legacy':
            base = idx.get(('taskflow', shape, n))
            if base:
                out.append({'shape': shape, 'n': n, 'ratio': 'legacy / taskflow',
                            'create': round(row['create_s'] / base['total_s'], 2),
                            'peak_rss': round(row['peak_rss_mib'] / base['peak_rss_mib'], 2)})
        elif path.startswith('distributed'):
            base = idx.get(('legacy', shape, n))
            if base:
                out.append({'shape': shape, 'n': n, 'ratio': '%s / legacy' % path,
                            'create': round(row['create_s'] / base['create_s'], 2),
                            'total': round(row['total_s'] / base['total_s'], 2),
                            'peak_rss': round(row['peak_rss_mib'] / base['peak_rss_mib'], 2)})
    return out


def targets(rows):
    """The issue's targets for the legacy path, each with the measured figure and verdict."""
    idx = _index(rows)
    out = []
    dag = idx.get(('legacy', 'dag', 1000))
    if dag:
        heat_total = sum(HEAT_DAG_1000[k] for k in ('create_s', 'update_s', 'delete_s'))
        out.append(('dag 1000 total time <= Heat legacy / 10 (%.2f s)' % (heat_total / 10),
                    '%.2f s (Heat / %.1f)' % (dag['total_s'], heat_total / dag['total_s']),
                    dag['total_s'] <= heat_total / 10))
        limit = HEAT_DAG_1000['peak_rss_mib'] / 5
        out.append(('dag 1000 peak RSS <= Heat legacy / 5 (%.0f MiB)' % limit,
                    '%.0f MiB (Heat / %.1f)' % (dag['peak_rss_mib'],
                                                HEAT_DAG_1000['peak_rss_mib']
                                                / dag['peak_rss_mib']),
                    dag['peak_rss_mib'] <= limit))
    for shape in ('indep', 'dag'):
        small, large = idx.get(('legacy', shape, 500)), idx.get(('legacy', shape, 5000))
        if small and large:
            ratio = large['ms_per_resource'] / small['ms_per_resource']
            out.append(('%s ms/resource at 5000 <= 1.3 x at 500' % shape,
                        '%.3f / %.3f = %.2f x' % (large['ms_per_resource'],
                                                  small['ms_per_resource'], ratio),
                        ratio <= 1.3))
    for shape in ('dag', 'indep'):
        zk, legacy = idx.get(('distributed-zookeeper', shape, 1000)), idx.get(
            ('legacy', shape, 1000))
        if zk and legacy:
            ratio = zk['total_s'] / legacy['total_s']
            out.append(('%s 1000: distributed (real ZooKeeper, 2 conductors) total <= 1.5 x '
                        'legacy' % shape, '%.2f s / %.2f s = %.2f x' % (
                            zk['total_s'], legacy['total_s'], ratio), ratio <= 1.5))
    for row in rows:
        if row.get('kind') == 'failover' and not row.get('error'):
            limit = row['session_timeout_s'] + 1
            out.append(('failover: work resumes <= session timeout + 1 s (%.1f s)' % limit,
                        '%s s (%.2f s lost)' % (_num(row['resume_s']), row['lost_s']),
                        row['resume_s'] is not None and row['resume_s'] <= limit))
    for row in rows:
        if row.get('kind') == 'latency' and row['path'] == 'legacy' and 'create_s' in row:
            out.append(('latency case create <= 1.2 x ideal (%.2f s)' % (1.2 * row['ideal_s']),
                        '%.2f s = %.2f x ideal' % (row['create_s'], row['create_vs_ideal']),
                        row['create_vs_ideal'] <= 1.2))
    return out


def markdown(results):
    """results.md: the machine, the figures, the ratios, the targets, what is not measured."""
    m = results['machine']
    lines = ['# heat-taskflow benchmark results', '',
             'Measured %s with `python -m bench.run %s`.' % (results['when'],
                                                           ' '.join(results['argv'])),
             '',
             '**Machine:** %s cores, %s GiB memory, Python %s, %s.' % (
                 m['cores'], m['memory_gib'], m['python'], m['platform']),
             '**Packages:** %s.' % ', '.join('%s %s' % (k, v) for k, v in m['packages'].items()
                                             if v),
             '',
             'Every case runs in a fresh process (peak RSS is per case). Stack paths create, '
             'update (every resource\'s `value` changes) and delete one stack of '
             'OS::Heat::TestResource (zero latency) through the StackService on a fresh SQLite '
             'file database. `indep`: N independent resources; `dag`: layers of 50, each '
             'resource reading two of the layer before (get_attr). ms/resource = '
             '(create + update + delete) / N. SQL/r = statements per resource '
             '(Database.count_statements).', '', '## Paths', '']
    for name, info in results['paths'].items():
        state = ('not measured: %s' % info['not_measured']) if info['not_measured'] else ''
        lines.append('- `%s`: %s%s' % (name, info['description'], '. **' + state + '**'
                                       if state else ''))
    lines += ['', '## Scale', '',
              '| path | shape | N | create s | update s | delete s | total s | ms/resource '
              '| SQL/r create | SQL/r update | SQL/r delete | ZK ops/r c/u/d | peak RSS MiB |',
              '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
              '| ---: | ---: |']
    for r in results['results']:
        if r.get('kind') != 'scale':
            continue
        if r.get('error'):
            lines.append('| %s | %s | %d | error: %s |' % (r['path'], r['shape'], r['n'],
                                                          r['error']))
            continue
        if r['path'] == 'taskflow':
            lines.append('| taskflow | %s | %d | %.2f (compile %.2f) | | | %.2f | %.3f | | | '
                         '| | %.0f |' % (r['shape'], r['n'], r['total_s'], r['build_compile_s'],
                                       r['total_s'], r['ms_per_resource'], r['peak_rss_mib']))
            continue
        zk = ''
        if 'create_zk_ops_per_resource' in r:
            zk = ' / '.join('%.1f' % r.get('%s_zk_ops_per_resource' % op, 0)
                            for op in ('create', 'update', 'delete'))
        lines.append('| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %.3f | %.1f | %.1f | %.1f '
                     '| %s | %.0f |' % (r['path'], r['shape'], r['n'], r['create_s'],
                                        r['update_s'], r['delete_s'], r['total_s'],
                                        r['ms_per_resource'], r['create_sql_per_resource'],
                                        r['update_sql_per_resource'],
                                        r['delete_sql_per_resource'], zk, r['peak_rss_mib']))
    if results['ratios']:
        lines += ['', '## Ratios (measured side by side in this run)', '',
                  '| shape | N | ratio | create | total | peak RSS |',
                  '| --- | ---: | --- | ---: | ---: | ---: |']
        for r in results['ratios']:
            lines.append('| %s | %d | %s | %.2f | %s | %.2f |' % (
                r['shape'], r['n'], r['ratio'], r['create'],
                '%.2f' % r['total'] if 'total' in r else '', r['peak_rss']))
    latency = [r for r in results['results'] if r.get('kind') == 'latency']
    if latency:
        lines += ['', '## Latency (500 resources, width 100, 0.2 s per create, 100 concurrent '
                  'actions)', '',
                  '| path | create s | ideal s (depth x 0.2) | x ideal |',
                  '| --- | ---: | ---: | ---: |']
        for r in latency:
            if r.get('error'):
                lines.append('| %s | error: %s | | |' % (r['path'], r['error']))
            else:
                lines.append('| %s | %.2f | %.2f | %.2f |' % (r['path'], r['create_s'],
                                                            r['ideal_s'],
                                                            r['create_vs_ideal']))
    failover = [r for r in results['results'] if r.get('kind') == 'failover']
    if failover:
        lines += ['', '## Failover (distributed-zookeeper, two conductor processes)', '',
                  'dag of %d resources (width 50), 0.5 s per create, ZooKeeper session '
                  'timeout %s s. The same create runs undisturbed first; then, once the first '
                  'layer is complete, the conductor holding the most actions in progress is '
                  'killed -9. "Resumed" = seconds from the kill until a surviving conductor '
                  're-ran one of those actions (its IN_PROGRESS event); "lost" = the create\'s '
                  'wall time minus the undisturbed one.' % (
                      failover[0]['n'], failover[0].get('session_timeout_s', '?')), '',
                  '| undisturbed create s | killed after s | actions in flight on it '
                  '| resumed after s | create with kill s | lost s |',
                  '| ---: | ---: | ---: | ---: | ---: | ---: |']
        for r in failover:
            if r.get('error'):
                lines.append('| error: %s | | | | | |' % r['error'])
            else:
                lines.append('| %.2f | %.2f | %d | %s | %.2f | %.2f |' % (
                    r['undisturbed_s'], r['killed_after_s'], len(r['victim_held']),
                    _num(r['resume_s']), r['disturbed_s'], r['lost_s']))
    lines += _tripleo_markdown(results)
    checks = targets(results['results'])
    if checks:
        lines += ['', '## Targets (issue "Benchmarks and scale")', '',
                  '| target | measured | met |', '| --- | --- | --- |']
        for what, measured, met in checks:
            lines.append('| %s | %s | %s |' % (what, measured, 'yes' if met else '**no**'))
    allocs = [r for r in results['results'] if r.get('top_allocations')]
    if allocs:
        lines += ['', '## Top allocations (tracemalloc, at the end of each case)', '']
        for r in allocs:
            lines.append('- %s %s %d: %s' % (r['path'], r['shape'], r['n'], '; '.join(
                '%s %.1f MiB' % (a['where'], a['mib']) for a in r['top_allocations'][:5])))
    missing = [(n, i['not_measured']) for n, i in results['paths'].items() if i['not_measured']]
    lines += ['', '## Not yet measured', '']
    heading = len(lines)
    if missing:
        for name, why in missing:
            lines.append('- `%s`: %s.' % (name, why))
    if results.get('failover_not_measured'):
        lines.append('- failover (kill -9 the busier of two conductor processes mid-create): '
                     '%s.' % results['failover_not_measured'])
    for key, what in (('tripleo_not_measured', 'TripleO example'),
                      ('tripleo_crash_not_measured', 'TripleO example, kill -9 and resume')):
        if results.get(key):
            lines.append('- %s: %s.' % (what, results[key]))
    for name, info in results['paths'].items():
        if info.get('sizes_not_measured'):
            lines.append('- `%s` at N = %s (too slow for the default run; see bench/paths.py '
                         'max_n).' % (name, ', '.join(map(str, info['sizes_not_measured']))))
    if len(lines) == heading:
        lines.append('- nothing: every path was measured.')
    if os.path.exists(HISTORY):
        with open(HISTORY) as f:
            lines += ['', f.read().rstrip()]
    return '\n'.join(lines) + '\n'


def _tripleo_markdown(results):
    rows = [r for r in results['results'] if r.get('kind') == 'tripleo']
    crash = [r for r in results['results'] if r.get('kind') == 'tripleo-crash']
    if not rows and not crash:
        return []
    env = (rows or crash)[0]['env']
    lines = ['', '## TripleO example', '',
             '`examples/tripleo/overcloud.yaml` with `environments/%s.yaml`, created then '
             'deleted through the StackService against a private `heat-taskflow-simcloud` '
             'process (build time %s s, SQLite). Resources = every current resource row of the '
             'stack and of every stack nested in it (each group, each member OS::Heat::Stack '
             'and each resource of the member\'s stack count one). ms/r = seconds / '
             'resources. SQL/r counts the measuring process only (on distributed-zookeeper the '
             'conductors\' statements run in theirs, and peak RSS is the measuring process; '
             'the conductors\' is in results.json). Calls/r = the cloud API operations the '
             'simulator answered (Nova, Neutron, Cinder and Glance calls on their objects, '
             'from /admin/calls, per operation in results.json; not Keystone\'s token '
             'requests or version discovery) / resources. Cloud: objects created since the '
             'simulator started (Neutron\'s own router ports and default rules included), '
             'intent tokens used twice, objects left after the delete.'
             % (env, (rows or crash)[0].get('build_time', 0)), '',
             '| path | resources (stacks) | create s | delete s | create ms/r | delete ms/r '
             '| SQL/r create | SQL/r delete | calls/r create | calls/r delete '
             '| simcloud CPU s c/d | peak RSS MiB '
             '| cloud created | duplicate tokens | left after delete |',
             '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
             '| ---: | ---: | ---: | ---: |']
    for r in rows:
        if r.get('error'):
            lines.append('| %s | error: %s |' % (r['path'], r['error']))
            continue
        a = r['audit']
        lines.append('| %s | %d (%d) | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %.2f '
                     '| %.1f / %.1f | %.0f | %d | %d | %d |' % (
                         r['path'], r['n'], r['stacks'], r['create_s'], r['delete_s'],
                         r['create_ms_per_resource'], r['delete_ms_per_resource'],
                         r['create_sql_per_resource'], r['delete_sql_per_resource'],
                         r['create_cloud_calls_per_resource'],
                         r['delete_cloud_calls_per_resource'],
                         r['create_simcloud_cpu_s'], r['delete_simcloud_cpu_s'],
                         r['peak_rss_mib'], a['creations'], a['duplicate_tokens'], a['live']))
    if crash:
        lines += ['', '### Kill -9 and resume (legacy, command line)', '',
                  '`heat-taskflow stack create --wait` of the same example, killed -9 once half '
                  'the servers exist, then `heat-taskflow stack resume --wait` (retried until '
                  'the dead process\'s heartbeat, every %s s, is 3 intervals old). "Lost" = '
                  'the create with the kill (start to the resume\'s end) minus an undisturbed '
                  'command-line create on the same cloud. Audit of the killed create: one '
                  'creation per template resource is "max per resource" = 1.'
                  % crash[0].get('heartbeat_interval_s', '?'), '',
                  '| undisturbed create s | killed after s | objects at kill | resume s '
                  '| create with kill s | lost s | cloud created | duplicate tokens '
                  '| max per resource | left after delete |',
                  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
        for r in crash:
            if r.get('error'):
                lines.append('| error: %s | | | | | | | | | |' % r['error'])
                continue
            a = r['audit_create']
            lines.append('| %.2f | %.2f | %d | %.2f | %.2f | %.2f | %d | %d | %d | %d |' % (
                r['undisturbed_s'], r['killed_after_s'], r['objects_at_kill'], r['resume_s'],
                r['disturbed_s'], r['lost_s'], a['creations'], a['duplicate_tokens'],
                a['max_creations_per_resource'], r['audit']['live']))
    return lines


def plot(results, filename):
    """ms per resource against N, one line per path and shape."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    series = {}
    for r in results['results']:
        if r.get('kind') == 'scale' and not r.get('error'):
            series.setdefault((r['path'], r['shape']), []).append((r['n'], r['ms_per_resource']))
    fig, ax = plt.subplots(figsize=(8, 5))
    for (path, shape), points in sorted(series.items()):
        points.sort()
        label = '%s %s%s' % (path, shape, ' (no-op tasks, one run)' if path == 'taskflow'
                             else ' (create+update+delete)')
        ax.plot([p[0] for p in points], [p[1] for p in points], marker='o',
                linestyle='--' if shape == 'indep' else '-', label=label)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('resources (N)')
    ax.set_ylabel('ms per resource')
    ax.set_title('heat-taskflow: ms per resource against N')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(filename, dpi=100)
    plt.close(fig)


def write(out_dir, results):
    """Write results.json, results.md and ms_per_resource.png into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write('\n')
    with open(os.path.join(out_dir, 'results.md'), 'w') as f:
        f.write(markdown(results))
    try:
        plot(results, os.path.join(out_dir, 'ms_per_resource.png'))
    except ImportError as err:
        print('no plot (%s): pip install matplotlib, or the bench extra' % err)
    print('wrote %s' % out_dir)
