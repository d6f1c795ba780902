"""What the benchmark measures: one entry per path, each run in a fresh process per case.

A path entry says whether it can run here (``unavailable()`` returns the reason it cannot,
or None) and measures one case, returning a dict of figures. The stack paths (legacy, and
the distributed paths once they exist) share ``StackPath``: they differ only in the
configuration they set and what they start around the stack operations (conductors).
"""

import concurrent.futures
import contextlib
import importlib
import resource
import shutil
import tempfile
import time
import tracemalloc

from bench import shapes

MAX_WORKERS = 16      # [DEFAULT] max_concurrent_resource_actions default


def peak_rss_mib():
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _top_allocations(snapshot, limit=10):
    stats = snapshot.statistics('lineno')[:limit]
    return [{'where': '%s:%d' % (s.traceback[0].filename, s.traceback[0].lineno),
             'mib': round(s.size / 2 ** 20, 2), 'count': s.count} for s in stats]


class Path:
    """One way of running a stack's resource actions."""

    name = None
    description = None
    max_n = None          # largest N measured (None: every size asked for)

    def unavailable(self):
        """Why this path cannot be measured here, or None."""
        return None

    def measure(self, case):
        """Figures for one case (runs in the child process)."""
        raise NotImplementedError


class PlainTaskFlow(Path):
    """Baseline: TaskFlow's parallel engine on a graph flow of no-op tasks, in memory."""

    name = 'taskflow'
    max_n = 1000          # a 5000-node layered flow: ~47 s to compile, ~5 min in all
    description = ('plain TaskFlow: graph_flow of no-op tasks of the same shape, parallel '
                   'engine, caller-owned pool of %d threads, in-memory persistence'
                   % MAX_WORKERS)

    def measure(self, case):
        import taskflow.engines
        from taskflow import task
        from taskflow.patterns import graph_flow

        class NoOp(task.Task):
            def execute(self):
                return None

        reqs = shapes.requires(case['shape'], case['n'], case['width'])
        rss_before = peak_rss_mib()
        if case['tracemalloc']:
            tracemalloc.start()
        with concurrent.futures.ThreadPoolExecutor(MAX_WORKERS) as pool:
            t0 = time.perf_counter()
            flow = graph_flow.Flow('bench')
            tasks = {i: NoOp(name='r%d' % i) for i in reqs}
            flow.add(*tasks.values())
            for i, deps in reqs.items():
                for dep in deps:
                    flow.link(tasks[dep], tasks[i])
            engine = taskflow.engines.load(flow, engine='parallel', executor=pool)
            engine.compile()
            engine.prepare()
            engine.validate()
            t1 = time.perf_counter()
            engine.run()
            t2 = time.perf_counter()
        out = {'build_compile_s': t1 - t0, 'run_s': t2 - t1, 'total_s': t2 - t0,
               'peak_rss_mib': peak_rss_mib(), 'rss_before_mib': rss_before}
        if case['tracemalloc']:
            out['top_allocations'] = _top_allocations(tracemalloc.take_snapshot())
            tracemalloc.stop()
        return out


class StackPath(Path):
    """A heat-taskflow path: create, update and delete a stack through the StackService on a
    fresh SQLite file database (the embedded default) in a temporary directory."""

    overrides = {}

    def close(self, service):
        """Release what the service holds (job boards, conductors)."""

    def conf_overrides(self):
        """Configuration this path sets: {(group or None, option): value}."""
        return dict(self.overrides)

    @contextlib.contextmanager
    def running(self, conf):
        """What the path needs running around the operations (nothing for legacy)."""
        yield

    def measure(self, case):
        from oslo_config import cfg

        from heat_taskflow.conf import opts
        from heat_taskflow.engine import service as service_mod

        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        try:
            conf = cfg.ConfigOpts()
            opts.register_opts(conf)
            conf([], default_config_files=[], default_config_dirs=[])
            conf.set_override('state_dir', tmp)
            conf.set_override('max_template_size', 64 * 2 ** 20)
            overrides = self.conf_overrides()
            if case.get('concurrency'):
                overrides[(None, 'max_concurrent_resource_actions')] = case['concurrency']
            for (group, option), value in overrides.items():
                conf.set_override(option, value, group=group)
            n, shape, width = case['n'], case['shape'], case['width']
            texts = {'create': shapes.template(shape, n, 1, width, case.get('create_wait')),
                     'update': shapes.template(shape, n, 2, width, case.get('create_wait'))}
            service = service_mod.StackService(conf)
            database = service.database
            rss_before = peak_rss_mib()
            out = {'ops': {}, 'rss_before_mib': rss_before}
            if case['tracemalloc']:
                tracemalloc.start()
            with self.running(conf):
                for op in case['ops']:
                    with database.count_statements() as counter:
                        t0, c0 = time.perf_counter(), time.process_time()
                        view = self._operation(service, op, texts)
                        wall = time.perf_counter() - t0
                        cpu = time.process_time() - c0
                    expected = '%s_COMPLETE' % op.upper()
                    status = view['stack_status'] if view else 'DELETE_COMPLETE'
                    if status != expected:
                        raise RuntimeError('%s ended %s: %s' % (
                            op, status, view.get('stack_status_reason')))
                    out['ops'][op] = {'s': wall, 'cpu_s': cpu, 'statements': counter.count}
            self.close(service)
            out['peak_rss_mib'] = peak_rss_mib()
            if case['tracemalloc']:
                out['top_allocations'] = _top_allocations(tracemalloc.take_snapshot())
                tracemalloc.stop()
            database.dispose()
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _operation(service, op, texts):
        name = 'bench'
        if op == 'create':
            view = service.create_stack(name, texts['create'], 'bench.yaml')
        elif op == 'update':
            view = service.update_stack(name, texts['update'], 'bench.yaml')
        else:
            view = service.delete_stack(name)
        if view and view['status'] == 'IN_PROGRESS':
            # A distributed path posts the work and returns: wait for the conductors.
            view = service.wait(name, poll=0.02)
        return view


class Legacy(StackPath):
    """The legacy path: TaskFlow's parallel engine in the calling process."""

    name = 'legacy'
    description = ('heat-taskflow legacy path through the StackService, SQLite file '
                   'database, %d concurrent resource actions' % MAX_WORKERS)


class Distributed(StackPath):
    """The distributed path: each resource action is a job conductors claim."""

    jobboard_url = None
    max_n = 1000

    def conf_overrides(self):
        return {(None, 'convergence_engine'): True, ('jobboard', 'url'): self.jobboard_url,
                ('conductor', 'wait_timeout'): 0.02, ('conductor', 'health_file'): ''}

    def unavailable(self):
        try:
            importlib.import_module('heat_taskflow.conductors.conductor')
        except ImportError as err:
            return 'not implemented yet (%s)' % err
        return None

    def close(self, service):
        service.close(poll=0.02)


class DistributedZake(Distributed):
    """The distributed path on an in-process fake ZooKeeper (zake): the StackService posts
    node jobs and runs a conductor itself (a zake board exists only in its process)."""

    name = 'distributed-zake'
    description = ('distributed path: zake job board, the StackService\'s own in-process '
                   'conductor, same SQLite file database')
    jobboard_url = 'zake://bench'


class DistributedZooKeeper(Distributed):
    """The distributed path on a real ZooKeeper with two heat-taskflow-conductor processes."""

    name = 'distributed-zookeeper'
    description = ('distributed path, real ZooKeeper, two heat-taskflow-conductor '
                   'processes')
    jobboard_url = 'zookeeper://127.0.0.1:2181'

    def unavailable(self):
        why = super().unavailable()
        return why or ('not in the harness yet: it needs a ZooKeeper server and two '
                       'heat-taskflow-conductor processes started and stopped per case')


PATHS = {p.name: p for p in (PlainTaskFlow(), Legacy(), DistributedZake(),
                             DistributedZooKeeper())}
