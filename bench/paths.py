"""What the benchmark measures: one entry per path, each run in a fresh process per case.

A path entry says whether it can run here (``unavailable()`` returns the reason it cannot,
or None) and measures one case, returning a dict of figures. The stack paths (legacy, and
the distributed paths) share ``StackPath``: they differ only in the configuration they set
and what they start around the stack operations (a ZooKeeper server and conductor
processes, bench/cluster.py). ``distributed-zookeeper`` also measures the failover case.
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
MAX_TEMPLATE_SIZE = 64 * 2 ** 20


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
    def environment(self, tmp, case):
        """Start what the path needs around the operations (servers, conductor processes)
        and yield the configuration overrides that point the StackService at them."""
        yield {}

    def counters(self):
        """Extra counters read before and after each operation: {name: callable}."""
        return {}

    def _service(self, tmp, case, extra):
        from oslo_config import cfg

        from heat_taskflow.conf import opts
        from heat_taskflow.engine import service as service_mod

        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', tmp)
        conf.set_override('max_template_size', MAX_TEMPLATE_SIZE)
        overrides = self.conf_overrides()
        if case.get('concurrency'):
            overrides[(None, 'max_concurrent_resource_actions')] = case['concurrency']
        overrides.update(extra)
        for (group, option), value in overrides.items():
            conf.set_override(option, value, group=group)
        return service_mod.StackService(conf)

    def measure(self, case):
        if case.get('kind') == 'failover':
            return self.measure_failover(case)
        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        try:
            with self.environment(tmp, case) as extra:
                return self._measure(tmp, case, extra)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def measure_failover(self, case):
        raise NotImplementedError('%s has no failover case' % self.name)

    def _measure(self, tmp, case, extra):
        n, shape, width = case['n'], case['shape'], case['width']
        texts = {'create': shapes.template(shape, n, 1, width, case.get('create_wait')),
                 'update': shapes.template(shape, n, 2, width, case.get('create_wait'))}
        service = self._service(tmp, case, extra)
        database = service.database
        rss_before = peak_rss_mib()
        out = {'ops': {}, 'rss_before_mib': rss_before}
        if case['tracemalloc']:
            tracemalloc.start()
        counters = self.counters()
        for op in case['ops']:
            before = {k: f() for k, f in counters.items()}
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
            for k, f in counters.items():
                out['ops'][op][k] = f() - before[k]
        self.close(service)
        out['peak_rss_mib'] = peak_rss_mib()
        if case['tracemalloc']:
            out['top_allocations'] = _top_allocations(tracemalloc.take_snapshot())
            tracemalloc.stop()
        database.dispose()
        return out

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
    """The distributed path on a real ZooKeeper with two heat-taskflow-conductor processes:
    a private server and the daemons are started per case (bench/cluster.py); the measuring
    process only posts jobs and polls the database, as the command line does."""

    name = 'distributed-zookeeper'
    description = ('distributed path: a private ZooKeeper server, two heat-taskflow-conductor '
                   'processes (8 jobs each), same SQLite file database; SQL/r counts only '
                   'the measuring process (the conductors\' statements run in theirs); ZK '
                   'ops = requests the server received from every client (srvr)')
    conductors = 2
    session_timeout = 4.0

    def unavailable(self):
        from bench import cluster
        return super().unavailable() or cluster.zookeeper_missing()

    def counters(self):
        return {'zk_ops': self._server.received}

    @contextlib.contextmanager
    def environment(self, tmp, case):
        from bench import cluster
        from heat_taskflow.persistence import database as database_mod

        server = cluster.ZooKeeper(tmp)
        address = server.start()
        db_url = 'sqlite:///%s/heat-taskflow.sqlite' % tmp
        database = database_mod.Database(db_url)
        try:
            database.sync()     # before the daemons start, so none of them races to create it
        finally:
            database.dispose()
        url = 'zookeeper://%s/heat-taskflow-bench' % address
        jobs = max(1, (case.get('concurrency') or MAX_WORKERS) // self.conductors)
        config = ('[DEFAULT]\nstate_dir = %s\nconvergence_engine = True\n'
                  'max_template_size = %d\n[database]\nconnection = %s\n'
                  '[jobboard]\nurl = %s\nsession_timeout = %s\n'
                  '[conductor]\njobs = %d\n'
                  % (tmp, MAX_TEMPLATE_SIZE, db_url, url, self.session_timeout, jobs))
        daemons = cluster.Conductors(tmp, config)
        self._server, self.daemons = server, daemons
        try:
            daemons.start(self.conductors)
            daemons.wait_ready()
            yield {('database', 'connection'): db_url, ('jobboard', 'url'): url,
                   ('jobboard', 'session_timeout'): self.session_timeout}
        finally:
            daemons.stop()
            server.stop()

    def measure_failover(self, case):
        """Create a layered stack twice: undisturbed, then kill -9 the conductor holding
        the most resource actions once the first layer is complete. Reports the seconds
        from the kill until a survivor re-runs one of the killed conductor's actions
        (its IN_PROGRESS event) and the seconds the create took longer than undisturbed."""
        import signal

        from heat_taskflow.persistence import api as db

        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        try:
            with self.environment(tmp, case) as extra:
                service = self._service(tmp, case, extra)
                text = shapes.template(case['shape'], case['n'], 1, case['width'],
                                       case.get('create_wait'))
                t0 = time.perf_counter()
                view = service.create_stack('base', text, 'bench.yaml')
                view = service.wait('base', poll=0.02, timeout=CHILD_BOUND)
                undisturbed = time.perf_counter() - t0
                _expect(view, 'CREATE_COMPLETE')
                service.delete_stack('base')
                service.wait('base', poll=0.02, timeout=CHILD_BOUND)

                t0 = time.perf_counter()
                view = service.create_stack('failover', text, 'bench.yaml')
                stack_id = view['id']
                victim, held, killed_at, since = self._kill_busiest(
                    service, stack_id, case['width'], signal.SIGKILL)
                resumed_at = None
                while time.perf_counter() - killed_at < CHILD_BOUND:
                    for event in db.event_list(service.database, stack_id, since_id=since):
                        since = event.id
                        if resumed_at is None and event.resource_name in held:
                            resumed_at = time.perf_counter()
                    if resumed_at is not None:
                        break
                    time.sleep(0.02)
                view = service.wait('failover', poll=0.02, timeout=CHILD_BOUND)
                disturbed = time.perf_counter() - t0
                _expect(view, 'CREATE_COMPLETE')
                self.close(service)
                service.database.dispose()
                return {'undisturbed_s': undisturbed, 'disturbed_s': disturbed,
                        'lost_s': disturbed - undisturbed,
                        'killed_after_s': killed_at - t0, 'victim_held': sorted(held),
                        'resume_s': None if resumed_at is None else resumed_at - killed_at,
                        'session_timeout_s': self.session_timeout,
                        'victim_pid': victim.pid, 'peak_rss_mib': peak_rss_mib()}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _kill_busiest(self, service, stack_id, after, sig):
        """Once ``after`` resources are complete, kill the conductor that holds the most
        resource actions still in progress. Returns (victim, their resource names, time,
        the newest event id at the kill)."""
        import os

        from heat_taskflow.persistence import api as db

        deadline = time.perf_counter() + CHILD_BOUND
        while time.perf_counter() < deadline:
            rows = db.resource_list(service.database, stack_id)
            done = sum(1 for r in rows if r.status == 'COMPLETE')
            running = {r.name for r in rows if r.status == 'IN_PROGRESS'}
            if done >= after and running:
                held = {}
                for proc in self.daemons.alive():
                    names = {job['node'].split(':')[1] for job in self.daemons.held(proc)
                             if job.get('node', '').startswith('converge:')}
                    held[proc] = names & running
                victim = max(held, key=lambda p: len(held[p]))
                if held[victim]:
                    events = db.event_list(service.database, stack_id)
                    since = events[-1].id if events else None
                    os.kill(victim.pid, sig)
                    killed_at = time.perf_counter()
                    victim.wait()
                    return victim, held[victim], killed_at, since
            time.sleep(0.02)
        raise RuntimeError('never saw a conductor holding an action in progress')


def _expect(view, status):
    got = view['stack_status'] if view else 'DELETE_COMPLETE'
    if got != status:
        raise RuntimeError('ended %s, expected %s: %s' % (
            got, status, (view or {}).get('stack_status_reason')))


CHILD_BOUND = 600.0    # seconds: a guard against a hung case, not a measurement


PATHS = {p.name: p for p in (PlainTaskFlow(), Legacy(), DistributedZake(),
                             DistributedZooKeeper())}
