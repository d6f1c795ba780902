"""What the benchmark measures: one entry per path, each run in a fresh process per case.

A path entry says whether it can run here (``unavailable()`` returns the reason it cannot,
or None) and measures one case, returning a dict of figures. The stack paths (legacy, and
the distributed paths) share ``StackPath``: they differ only in the configuration they set
and what they start around the stack operations (a ZooKeeper server and conductor
processes, bench/cluster.py). ``distributed-zookeeper`` also measures the failover case.

Every stack path also measures the ``tripleo`` case: examples/tripleo/overcloud.yaml with one
of its environments, created and deleted against a private ``heat-taskflow-simcloud``
process; ``legacy`` also measures ``tripleo-crash``: the command line's create killed -9
half way, then ``stack resume``.
"""

import collections
import concurrent.futures
import contextlib
import importlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc

from bench import shapes

MAX_WORKERS = 16      # [DEFAULT] max_concurrent_resource_actions default
MAX_TEMPLATE_SIZE = 64 * 2 ** 20
TRIPLEO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'examples', 'tripleo')
HEAT = os.path.join(os.path.dirname(sys.executable), 'heat-taskflow')
HEAT_MANAGE = os.path.join(os.path.dirname(sys.executable), 'heat-taskflow-manage')


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

        from heat_taskflow.conductors import local
        from heat_taskflow.conf import cloud as cloud_opts
        from heat_taskflow.conf import opts

        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        cloud_opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', tmp)
        conf.set_override('max_template_size', MAX_TEMPLATE_SIZE)
        overrides = self.conf_overrides()
        if case.get('concurrency'):
            overrides[(None, 'max_concurrent_resource_actions')] = case['concurrency']
        overrides.update(extra)
        for (group, option), value in overrides.items():
            conf.set_override(option, value, group=group)
            if group == 'cloud':
                # The OpenStack plugins read [cloud] from the process's global CONF
                # (resources/cloud.connection()), not from the service's.
                from heat_taskflow.conf import CONF
                CONF.set_override(option, value, group=group)
        return local.stack_service(conf)

    def measure(self, case):
        if case.get('kind') == 'failover':
            return self.measure_failover(case)
        if case.get('kind') == 'tripleo':
            return self.measure_tripleo(case)
        if case.get('kind') == 'tripleo-crash':
            return self.measure_tripleo_crash(case)
        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        try:
            with self.environment(tmp, case) as extra:
                return self._measure(tmp, case, extra)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def measure_failover(self, case):
        raise NotImplementedError('%s has no failover case' % self.name)

    def measure_tripleo_crash(self, case):
        raise NotImplementedError('%s has no tripleo-crash case' % self.name)

    def extra_figures(self):
        """Figures of the processes the path started, read before they stop."""
        return {}

    def measure_tripleo(self, case):
        """Create and delete the TripleO-like example against a private simcloud process;
        count every resource (nested stacks' included) and read the cloud's audit."""
        from bench import cluster

        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        cloud = cluster.SimCloud(tmp, build_time=case.get('build_time', 0.0))
        try:
            cloud.start()
            case = dict(case, cloud_config=cloud.config())
            with self.environment(tmp, case) as extra:
                extra = {**extra, **cloud.overrides()}
                return self._measure_tripleo(tmp, case, extra, cloud)
        finally:
            cloud.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    def _measure_tripleo(self, tmp, case, extra, cloud):
        text, filename, files, envs = tripleo_source(case['env'])
        service = self._service(tmp, case, extra)
        database = service.database
        out = {'ops': {}, 'rss_before_mib': peak_rss_mib()}
        counters = self.counters()
        name = 'overcloud'
        for op in ('create', 'delete'):
            before = {k: f() for k, f in counters.items()}
            cloud_cpu, calls = cloud.cpu_s(), cloud.calls()
            with database.count_statements() as counter:
                t0, c0 = time.perf_counter(), time.process_time()
                if op == 'create':
                    view = service.create_stack(name, text, filename, files, envs)
                else:
                    view = service.delete_stack(name)
                if view and view['status'] == 'IN_PROGRESS':
                    view = service.wait(name, poll=0.05, timeout=CHILD_BOUND)
                wall = time.perf_counter() - t0
                cpu = time.process_time() - c0
            _expect(view, '%s_COMPLETE' % op.upper())
            out['ops'][op] = {'s': wall, 'cpu_s': cpu, 'statements': counter.count,
                              'simcloud_cpu_s': cloud.cpu_s() - cloud_cpu,
                              'cloud_calls': call_figures(calls, cloud.calls())}
            for k, f in counters.items():
                out['ops'][op][k] = f() - before[k]
            if op == 'create':
                out['resources'], out['stacks'] = count_resources(database, view['id'])
                out['audit_create'] = audit_figures(cloud.made())
        out['audit'] = audit_figures(cloud.made())
        out.update(self.extra_figures())
        out['simcloud_peak_rss_mib'] = cloud.peak_rss_mib()
        self.close(service)
        out['peak_rss_mib'] = peak_rss_mib()
        database.dispose()
        return out

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
    heartbeat_interval = 1.0    # resume takes over a stack whose heartbeat is 3 x older

    def measure_tripleo_crash(self, case):
        """The command line creates the example twice against one simcloud: undisturbed
        (then deleted), then killed -9 once half the nodes' servers exist and finished by
        ``stack resume --wait``. Reports the seconds lost and the audit of the second create
        (every template resource made its objects exactly once, no token used twice)."""
        import json
        import signal

        from bench import cluster

        tmp = tempfile.mkdtemp(prefix='heat-taskflow-bench-')
        cloud = cluster.SimCloud(tmp, build_time=case.get('build_time', 0.0))
        try:
            cloud.start()
            config = os.path.join(tmp, 'heat-taskflow.conf')
            with open(config, 'w') as f:
                f.write('[DEFAULT]\nstate_dir = %s\nlegacy_heartbeat_interval = %s\n'
                        '[database]\nconnection = sqlite:///%s/heat.sqlite\n%s'
                        % (tmp, self.heartbeat_interval, tmp, cloud.config()))
            cli = _Cli(tmp, config)
            cli.run(HEAT_MANAGE, 'db', 'sync')
            template, environment = tripleo_files(case['env'])
            create = ('stack', 'create', '--wait', '-t', template, '-e', environment)

            undisturbed, rss = cli.timed(*create, 'base')
            cli.timed('stack', 'delete', '--wait', 'base')
            mark = len(cloud.audit()['creations'])
            servers_before = len(cloud.audit('servers')['creations'])
            half = tripleo_nodes(case['env']) // 2

            t0 = time.perf_counter()
            proc = cli.start(*create, 'overcloud')
            deadline = t0 + CHILD_BOUND
            while len(cloud.audit('servers')['creations']) - servers_before < half:
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError('the create ended (%s) before half its servers existed'
                                       % proc.returncode)
                time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            killed_at = time.perf_counter()
            proc.wait()
            at_kill = len(cloud.audit()['creations']) - mark
            status = json.loads(cli.run('stack', 'show', 'overcloud', '-f', 'json'))
            if status['stack_status'] != 'CREATE_IN_PROGRESS':
                raise RuntimeError('killed stack is %s' % status['stack_status'])
            # Refused until the dead process's heartbeat is old enough: retry, bounded.
            attempts = 0
            while True:
                attempts += 1
                r0 = time.perf_counter()
                result = cli.call('stack', 'resume', '--wait', 'overcloud')
                if result.returncode == 0:
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError('resume kept failing: %s' % result.stderr[-500:])
                time.sleep(0.5)
            resumed_at = time.perf_counter()
            status = json.loads(cli.run('stack', 'show', 'overcloud', '-f', 'json'))
            _expect(status, 'CREATE_COMPLETE')
            after_create = audit_figures(cloud.audit()['creations'][mark:])
            cli.timed('stack', 'delete', '--wait', 'overcloud')
            after_delete = audit_figures(cloud.audit()['creations'][mark:])
            total = resumed_at - t0
            return {'undisturbed_s': undisturbed, 'undisturbed_peak_rss_mib': rss,
                    'killed_after_s': killed_at - t0, 'objects_at_kill': at_kill,
                    'resume_attempts': attempts, 'resume_s': resumed_at - r0,
                    'kill_to_complete_s': resumed_at - killed_at, 'disturbed_s': total,
                    'lost_s': total - undisturbed, 'heartbeat_interval_s':
                    self.heartbeat_interval, 'audit_create': after_create,
                    'audit': after_delete, 'driver_peak_rss_mib': peak_rss_mib()}
        finally:
            cloud.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class _Cli:
    """heat-taskflow command lines on one config file and state directory."""

    def __init__(self, tmp, config):
        self.config = config
        self.env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=tmp)
        self.log = os.path.join(tmp, 'cli.log')

    def _argv(self, args):
        if args[0] in (HEAT, HEAT_MANAGE):
            return [args[0], '--config-file', self.config, *args[1:]]
        return [HEAT, '--config-file', self.config, *args]

    def call(self, *args):
        return subprocess.run(self._argv(args), env=self.env, capture_output=True, text=True,
                              timeout=CHILD_BOUND)

    def run(self, *args):
        result = self.call(*args)
        if result.returncode != 0:
            raise RuntimeError('%s: exit %d: %s' % (' '.join(args), result.returncode,
                                                    result.stderr[-1000:]))
        return result.stdout

    def start(self, *args):
        with open(self.log, 'ab') as log:
            return subprocess.Popen(self._argv(args), env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)

    def timed(self, *args):
        """(wall seconds, peak RSS MiB) of one command line that must succeed."""
        t0 = time.perf_counter()
        proc = self.start(*args)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError('%s: exit %d (see %s)' % (' '.join(args), proc.returncode,
                                                         self.log))
        return wall, usage.ru_maxrss / 1024.0


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
        service.close()


class DistributedZake(Distributed):
    """The distributed path on an in-process fake ZooKeeper (zake): the StackService posts
    node jobs and runs a conductor itself (a zake board exists only in its process:
    conductors/local.py)."""

    name = 'distributed-zake'
    description = ('distributed path: zake job board, the StackService\'s own in-process '
                   'conductor, same SQLite file database')
    jobboard_url = 'zake://bench'

    def close(self, service):
        # A LocalStackService: waits for its stacks to settle, looking every 0.02 s.
        service.close(poll=0.02)


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

    def extra_figures(self):
        from bench import cluster
        return {'conductor_peak_rss_mib': [cluster.process_peak_rss_mib(p.pid)
                                           for p in self.daemons.alive()]}

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
        config += case.get('cloud_config', '')
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


def tripleo_files(env):
    """(template path, environment path) of the TripleO-like example."""
    return (os.path.join(TRIPLEO, 'overcloud.yaml'),
            os.path.join(TRIPLEO, 'environments', '%s.yaml' % env))


def tripleo_source(env):
    """(text, filename, files, environments) as the command line reads them."""
    from heat_taskflow.cmd import template_files

    template, environment = tripleo_files(env)
    return template_files.load(template, [environment])


def tripleo_nodes(env):
    """Number of nodes (servers) an environment of the example deploys."""
    import yaml

    with open(tripleo_files(env)[1]) as f:
        values = yaml.safe_load(f)['parameter_defaults']
    return sum(values[k] for k in ('ControllerCount', 'ComputeCount', 'CephStorageCount'))


def count_resources(database, stack_id):
    """(resources, stacks) of a stack and every stack nested in it, at any depth: every
    current resource row (a group, each member OS::Heat::Stack and each resource of the
    member's stack count one each)."""
    from heat_taskflow.persistence import api as db

    resources, stacks, todo = 0, 0, [stack_id]
    while todo:
        sid = todo.pop()
        stacks += 1
        resources += sum(1 for r in db.resource_list(database, sid) if r.replaced_by is None)
        todo.extend(child.id for child in db.stack_list(database, None, owner_id=sid))
    return resources, stacks


def audit_figures(creations):
    """What the simcloud audit says about a list of creations: how many, how many intent
    tokens were used twice (a duplicate), how many objects are still live, how many template
    resources made objects (one token each) and the most objects one of them made."""
    per_token = collections.Counter(c['token'] for c in creations
                                    if (c['token'] or '').startswith('htf-'))
    return {'creations': len(creations),
            'live': sum(1 for c in creations if c['deleted_at'] is None),
            'duplicate_tokens': sum(1 for n in per_token.values() if n > 1),
            'resources_with_objects': len(per_token),
            'max_creations_per_resource': max(per_token.values(), default=0),
            'by_kind': dict(collections.Counter(c['kind'] for c in creations))}


def call_figures(before, after):
    """The cloud API calls between two reads of /admin/calls: the total and per operation."""
    per_op = {op: n - before.get(op, 0) for op, n in after.items() if n > before.get(op, 0)}
    return {'total': sum(per_op.values()), 'by_op': dict(sorted(per_op.items()))}


PATHS = {p.name: p for p in (PlainTaskFlow(), Legacy(), DistributedZake(),
                             DistributedZooKeeper())}
