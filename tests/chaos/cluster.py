"""The services of one chaos run, as real processes, and the faults they can be dealt.

``Cluster(workdir, ...)`` starts, on loopback and under ``workdir``: a private ZooKeeper
(tests/functional/zookeeper.py), the simulated cloud (tests/simcloud.py) losing the answer of
about ``cloud_lost_rate`` of its create calls, the database (a SQLite file, or a fresh
PostgreSQL database ``chaos_<random>``), the configuration file every process reads
(``config_file``: the distributed path for new stacks), and ``conductors`` conductor
daemons, each with its own health file and log. Its methods are the faults' levers:
``kill_conductor`` (kill -9, replacement started at once), ``stop_zookeeper`` /
``start_zookeeper`` / ``restart_zookeeper`` (same port, same data), ``restart_cloud`` (same
port, same database); ``cli`` runs the ``heat-taskflow`` command line against it.

Nothing outlives it: ``stop()`` (on leaving the ``with`` block, even on an error) stops every
process it started and drops its PostgreSQL database; every process is also started with
``PR_SET_PDEATHSIG`` from long-lived threads of the cluster's, so a test process killed
outright takes them with it. The processes are started from the cluster's own threads
(``_spawn``) because the kernel sends the signal when the *thread* that forked the child
ends: a fault run from a short-lived thread must not leave a conductor tied to it.

A ``monitor`` thread replaces, within a second, a conductor that exited by itself (not one
killed here: ``kill_conductor`` replaces its victim at once). Such an exit is an engine
finding, not a fault of the run: it is counted (``crashes``), logged with the conductor's
last log lines, and kept in ``crash_reports``.
"""

import concurrent.futures
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests import simcloud as simcloud_base
from tests.functional import cli as cli_mod
from tests.functional import simcloud as simcloud_mod
from tests.functional import zookeeper as zk_mod

POSTGRESQL_URL = os.environ.get('HEAT_TASKFLOW_TEST_POSTGRESQL',
                                'postgresql+psycopg2://postgres@127.0.0.1:5432/test')
BOARD_PATH = '/heat-taskflow-chaos'
STOP_TIMEOUT = 10.0       # seconds a conductor gets to stop on SIGTERM before SIGKILL
READY_TIMEOUT = 60.0      # seconds for a start-up to be seen (imports on a busy machine)
# [cloud] retries of an operator who expects the cloud to restart now and then: about 11 s
# of retries (0.1 s doubling up to 2 s, 8 times), where SimCloud.config()'s 0.01 s start
# gives 0.3 s and the engine's defaults (5 retries) 3.1 s. A cloud restart asked for 1-2 s
# is down 4-8 s on a loaded 2-core machine (the simulator's start-up): the run measures the
# engine against outages its configuration can ride out. extra_config may say otherwise.
CLOUD_RETRIES = {'retries': 8, 'retry_delay': 0.1, 'retry_max_delay': 2.0}
SPAWNERS = 4              # threads starting processes (ZooKeeper and the cloud at once)


def create_operations():
    """Every ``KIND.create`` operation the simulated cloud knows (the ones whose answers a
    lost-response fault drops)."""
    import importlib

    from heat_taskflow.simcloud import api, kinds

    for module in api.SERVICE_MODULES:
        importlib.import_module('heat_taskflow.simcloud.' + module)
    return sorted('%s.create' % kind for kind in kinds.KINDS)


def _admin_engine(url):
    import sqlalchemy as sa

    return sa.create_engine(url, isolation_level='AUTOCOMMIT', poolclass=sa.pool.NullPool,
                            connect_args={'connect_timeout': 3})


class ClusterError(Exception):
    """The cluster could not be started (its conductors did not come up...)."""


class ServiceUnavailable(ClusterError):
    """A service the cluster needs cannot run here: ZooKeeper, the cloud or PostgreSQL did
    not start (a caller may skip with this reason, as for ``missing()``)."""


class Cluster:
    """One run's services; see the module docstring. Thread-safe: faults, the monitor and
    the workload's command lines may act on it from different threads."""

    def __init__(self, workdir, db='sqlite', conductors=3, session_timeout=5.0,
                 cloud_lost_rate=0.02, cloud_build_time=0.05, log=print, jobs=8, seed=None,
                 monitor=True, extra_config=None):
        if db not in ('sqlite', 'postgresql'):
            raise ValueError('db must be sqlite or postgresql, not %r' % (db,))
        self.workdir = Path(workdir).resolve()
        self.db = db
        self.size = conductors
        self.session_timeout = session_timeout
        self.cloud_lost_rate = cloud_lost_rate
        self.cloud_build_time = cloud_build_time
        self.log = log
        self.jobs = jobs
        self.seed = seed
        self.monitor = monitor
        # {section: {option: value}} appended to the configuration (tuning of the run).
        self.extra_config = extra_config or {}

        self.state_dir = self.workdir / 'state'
        self.config_file = str(self.workdir / 'heat-taskflow.conf')
        self.db_url = None
        self.zk = None
        self.cloud = None
        self._cloud_process = None
        self._cloud_log = None
        self._pg_name = None

        self.kills = 0
        self.zk_restarts = 0
        self.cloud_restarts = 0
        self.zk_down_seconds = 0.0
        self.cloud_down_seconds = 0.0
        self.replacements = 0
        self.crashes = 0
        self.crash_reports = []

        self._slots = 0                  # conductors ever started (names their files)
        self._conductors = []            # every conductor Popen ever started
        self._killed = set()             # pids killed (or stopped) on purpose
        self._popens = []                # cli_popen processes, stopped with the cluster
        self._lock = threading.RLock()
        self._zk_lock = threading.Lock()     # one ZooKeeper stop/start at a time
        self._cloud_lock = threading.Lock()
        # Held for a whole restart, down time included (by the caller, or for it by the
        # thread of a background restart: plain locks, released by that thread).
        self._zk_restart = threading.Lock()
        self._cloud_restart = threading.Lock()
        self._kills_paused_until = 0.0
        self._stopping = threading.Event()
        self._background = []
        self._spawner = None
        self._monitor = None
        self._started = False
        self.env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(self.state_dir),
                        PYTHONUNBUFFERED='1', OS_DEFAULT__ENABLE_TEST_RESOURCE_TYPES='true')

    # -- availability ---------------------------------------------------------------------

    @staticmethod
    def postgresql_missing():
        """Why a PostgreSQL cluster cannot run here (no driver, no server), or None."""
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:
            return 'psycopg2 is not installed: %s' % exc
        import sqlalchemy as sa
        try:
            engine = _admin_engine(POSTGRESQL_URL)
            try:
                with engine.connect() as connection:
                    connection.exec_driver_sql('SELECT 1')
            finally:
                engine.dispose()
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, 'orig', None) or exc).strip().splitlines()[0]
            return 'PostgreSQL not reachable at %s: %s' % (
                sa.engine.make_url(POSTGRESQL_URL).render_as_string(), reason)
        return None

    @staticmethod
    def missing():
        """Why a cluster cannot run here at all (no ZooKeeper, no conductor), or None."""
        reason = zk_mod.missing()
        if reason:
            return 'no ZooKeeper server: %s' % reason
        for name in ('heat-taskflow', 'heat-taskflow-conductor', 'heat-taskflow-simcloud'):
            try:
                cli_mod.script(name)
            except RuntimeError as exc:
                return str(exc)
        return None

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self):
        """Start the cluster (unless started already); stopped on leaving the block."""
        try:
            if not self._started:
                self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        """Start every service; returns self once each conductor has written its health
        file. On an error what was started is left for ``stop()`` (``with`` does it)."""
        if self._started:
            raise ClusterError('the cluster was started already')
        self._started = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)        # it holds the database and clouds.yaml's passwords
        self.state_dir.mkdir(exist_ok=True)
        # Its threads live until stop() (idle pool threads never end).
        self._spawner = concurrent.futures.ThreadPoolExecutor(
            max_workers=SPAWNERS, thread_name_prefix='chaos-spawner')
        began = time.monotonic()
        self.zk = zk_mod.ZooKeeperServer(self.workdir / 'zookeeper')
        (self.workdir / 'zookeeper').mkdir(exist_ok=True)
        zk_started = self._spawner.submit(self.zk.start)     # seconds of JVM start-up...
        cloud_url = self._spawner.submit(self._start_cloud_process)
        try:
            self._start_database()                           # ...meanwhile
            self._sync_schema()
        finally:
            # Both settled before anything else, even on an error: stop() must find
            # every process that was started.
            concurrent.futures.wait([zk_started, cloud_url])
        for what, future in (('ZooKeeper', zk_started), ('the simulated cloud', cloud_url)):
            try:
                future.result()
            except (zk_mod.ZooKeeperError, AssertionError, OSError) as exc:
                raise ServiceUnavailable('%s did not start: %s' % (what, exc)) from exc
        self._connect_cloud(cloud_url.result())
        self._write_config()
        for _ in range(self.size):
            self._start_conductor()
        self.wait_conductors_ready()
        if self.monitor:
            self._monitor = threading.Thread(target=self._monitor_loop, daemon=True,
                                             name='chaos-monitor')
            self._monitor.start()
        self._note('cluster up in %.1f s: zookeeper %s, cloud %s, %s database, %d conductors'
                   % (time.monotonic() - began, self.zk.address, self.cloud.url, self.db,
                      self.size))
        return self

    def stop(self):
        """Stop everything this cluster started (safe to call twice, and after a failed
        start): command lines, conductors, the cloud, ZooKeeper; drop the PostgreSQL
        database. Errors are collected and the first re-raised once all is stopped."""
        self._stopping.set()
        errors = []

        def attempt(what, fn, *args):
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported after everything stopped
                errors.append(exc)
                self._note('stop: %s failed: %s' % (what, exc))

        if self._monitor is not None:
            attempt('monitor', self._monitor.join, 5)
        for thread in list(self._background):
            attempt('background fault', thread.join, 30)
        attempt('command lines', self._stop_processes, self._popens, 2.0)
        attempt('conductors', self._stop_processes, self._conductors, STOP_TIMEOUT)
        if self._cloud_process is not None:
            attempt('cloud', self._cloud_process.stop)
        if self._cloud_log is not None:
            attempt('cloud log', self._cloud_log.close)
        if self.zk is not None:
            attempt('zookeeper', self.zk.stop)
        if self._spawner is not None:
            attempt('spawner', self._spawner.shutdown)
        if self._pg_name is not None:
            attempt('database', self._drop_database)
        if errors:
            raise errors[0]

    def _stop_processes(self, processes, timeout):
        with self._lock:
            live = [p for p in processes if p.poll() is None]
            self._killed.update(p.pid for p in live)
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._note('pid %d did not stop on SIGTERM within %.0f s: SIGKILL'
                           % (proc.pid, timeout))
                proc.kill()
                proc.wait()
        for proc in processes:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    def pids(self):
        """Every process of this cluster still running (conductors, command lines started
        with cli_popen, the cloud, ZooKeeper)."""
        procs = list(self._conductors) + list(self._popens)
        if self._cloud_process is not None and self._cloud_process.proc is not None:
            procs.append(self._cloud_process.proc)
        if self.zk is not None and self.zk.process is not None:
            procs.append(self.zk.process)
        return {p.pid for p in procs if p.poll() is None}

    def _spawn(self, fn, *args):
        """Run fn(*args) in the cluster's spawner thread (see the module docstring)."""
        return self._spawner.submit(fn, *args).result()

    def _note(self, message):
        line = '[%s] cluster: %s' % (time.strftime('%H:%M:%S'), message)
        with self._lock, contextlib.suppress(OSError):
            with open(self.workdir / 'cluster.log', 'a') as out:
                out.write(line + '\n')
        self.log(line)

    # -- database -------------------------------------------------------------------------

    def _start_database(self):
        if self.db == 'sqlite':
            self.db_url = 'sqlite:///%s' % (self.workdir / 'heat-taskflow.sqlite')
            return
        import sqlalchemy as sa

        reason = self.postgresql_missing()
        if reason:
            raise ServiceUnavailable(reason)
        name = 'chaos_%s' % uuid.uuid4().hex[:16]
        engine = _admin_engine(POSTGRESQL_URL)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql('CREATE DATABASE %s' % name)
        finally:
            engine.dispose()
        self._pg_name = name
        self.db_url = sa.engine.make_url(POSTGRESQL_URL).set(database=name).render_as_string(
            hide_password=False)

    def _drop_database(self):
        name, self._pg_name = self._pg_name, None
        engine = _admin_engine(POSTGRESQL_URL)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
        finally:
            engine.dispose()

    def _sync_schema(self):
        """The schema in place before any process starts (they would race to make it)."""
        from heat_taskflow.persistence import database

        db = database.Database(self.db_url)
        try:
            db.sync()
        finally:
            db.dispose()

    # -- configuration --------------------------------------------------------------------

    def _write_config(self):
        cloud = dict(line.split(' = ', 1) for line in self.cloud.config().splitlines()[1:]
                     if ' = ' in line)
        cloud.update(CLOUD_RETRIES)
        sections = {
            'DEFAULT': {'state_dir': self.state_dir, 'convergence_engine': 'True',
                        'enable_test_resource_types': 'True'},
            'database': {'connection': self.db_url},
            # A process started while ZooKeeper is down waits for it (not a crash).
            'jobboard': {'url': 'zookeeper://%s%s' % (self.zk.address, BOARD_PATH),
                         'session_timeout': self.session_timeout, 'connect_timeout': 60},
            # max_attempts: the limit on claims of a job whose conductor died while running
            # it, set for this storm's failure rate as an operator would for theirs. A
            # conductor is killed every ~3.5 s (of 3: each lives ~10 s), and a job that
            # legitimately runs through a ZooKeeper or cloud outage (10-16 s here) outlives
            # several conductors; the default 3 is for a cluster whose conductors die
            # rarely. Board failures and waits for child stacks never count (docs/chaos.md).
            'conductor': {'jobs': self.jobs, 'wait_timeout': 0.1, 'health_interval': 0.2,
                          'watchdog_interval': 1, 'health_file': '', 'max_attempts': 20},
            'cloud': cloud,
        }
        for section, options in self.extra_config.items():
            sections.setdefault(section, {}).update(options)
        Path(self.config_file).write_text(''.join(
            '[%s]\n%s\n' % (section, ''.join('%s = %s\n' % item for item in options.items()))
            for section, options in sections.items()))

    # -- the cloud ------------------------------------------------------------------------

    def _start_cloud_process(self):
        where = self.workdir / 'cloud'
        where.mkdir(exist_ok=True)
        extra = ['--build-time', self.cloud_build_time]
        if self.seed is not None:
            extra += ['--seed', self.seed]
        self._cloud_log = open(where / 'simcloud.log', 'ab')
        self._cloud_process = simcloud_base.Process(
            where, *extra, command=(cli_mod.script('heat-taskflow-simcloud'),),
            stderr=self._cloud_log, preexec_fn=zk_mod._die_with_parent)
        return self._cloud_process.start()

    def _connect_cloud(self, url):
        self.cloud = simcloud_mod.SimCloud(url, self._cloud_process.clouds_file)
        if self.cloud_lost_rate:
            # Kept in the cloud's database: they outlive its restarts.
            self.cloud.faults(**{op: {'failure_rate': self.cloud_lost_rate,
                                      'failure_mode': 'after'}
                                 for op in create_operations()})

    def restart_cloud(self, down_seconds=1.0, wait=True):
        """Stop the cloud (SIGTERM), stay down ``down_seconds``, start it again on its port
        over its database (its objects, audit and faults survive); returns the seconds it
        was really down (its start-up included). ``wait=False`` does it in a background
        thread and returns the thread at once, or None when a cloud restart is still under
        way (the fault is skipped, not queued)."""
        if not wait:
            return self._in_background('cloud restart', self._cloud_restart,
                                       self._restart_cloud, down_seconds)
        with self._cloud_restart:
            return self._restart_cloud(down_seconds)

    def _restart_cloud(self, down_seconds):
        if self._stopping.is_set():
            return 0.0
        began = time.monotonic()
        self._note('cloud down for %.1f s' % down_seconds)
        with self._cloud_lock:
            self._cloud_process.stop()
        stopped = time.monotonic()
        self._stopping.wait(down_seconds)
        if self._stopping.is_set():
            return 0.0
        starting = time.monotonic()
        with self._cloud_lock:
            self._spawn(self._cloud_process.start)
        return self._restarted('cloud', 'cloud back after %.1f s down', down_seconds,
                               began, stopped, starting)

    # -- ZooKeeper ------------------------------------------------------------------------

    def stop_zookeeper(self):
        """Stop ZooKeeper (SIGTERM); its data directory stays."""
        with self._zk_lock:
            self._note('zookeeper down')
            self.zk.stop()

    def start_zookeeper(self):
        """Start ZooKeeper again on its port over its data; returns once it serves."""
        with self._zk_lock:
            if self._stopping.is_set() or self.zk.running:
                return
            self._spawn(self.zk.start)
            self._note('zookeeper back')

    def restart_zookeeper(self, down_seconds=1.0, wait=True, pause_kills=None):
        """Stop ZooKeeper, stay down ``down_seconds``, start it again (same port, same
        data: the job board survives); returns the seconds it was really down (start-up
        included). ``pause_kills`` (seconds): ``kills_paused()`` holds from now until that
        long after ZooKeeper is back. ``wait=False`` does it in a background thread and
        returns the thread, or None when a ZooKeeper restart is still under way (skipped)."""
        if not wait:
            return self._in_background('zookeeper restart', self._zk_restart,
                                       self._restart_zookeeper, down_seconds, pause_kills)
        with self._zk_restart:
            return self._restart_zookeeper(down_seconds, pause_kills)

    def _restart_zookeeper(self, down_seconds, pause_kills):
        if self._stopping.is_set():
            return 0.0
        if pause_kills is not None:
            self._kills_paused_until = float('inf')
        began = time.monotonic()
        try:
            self.stop_zookeeper()
            stopped = time.monotonic()
            self._stopping.wait(down_seconds)
            starting = time.monotonic()
            self.start_zookeeper()
        finally:
            if pause_kills is not None:
                self._kills_paused_until = time.monotonic() + pause_kills
        return self._restarted('zk', 'zookeeper was down %.1f s', down_seconds, began,
                               stopped, starting)

    def _restarted(self, counter, what, down_seconds, began, stopped, starting):
        """Count a service's restart that began, stopped and started at these monotonic
        times (``counter``: the prefix of its ``*_restarts`` and ``*_down_seconds``), note
        it (``what`` % the real down time), and return the real down time."""
        end = time.monotonic()
        down = end - began
        with self._lock:
            setattr(self, counter + '_restarts', getattr(self, counter + '_restarts') + 1)
            setattr(self, counter + '_down_seconds',
                    getattr(self, counter + '_down_seconds') + down)
        self._note((what + ' (asked %.1f s; stopping took %.1f s, starting %.1f s)')
                   % (down, down_seconds, stopped - began, end - starting))
        return down

    def kills_paused(self):
        """Whether a ZooKeeper outage asked for no kills (``pause_kills``) is under way."""
        return time.monotonic() < self._kills_paused_until

    def _in_background(self, what, busy, fn, *args):
        """Run fn(*args) in a thread holding the lock ``busy``; None if it is held."""
        if not busy.acquire(blocking=False):
            self._note('%s skipped: the previous one is still under way' % what)
            return None

        def run():
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - a fault's failure is the run's finding
                self._note('%s failed: %s' % (what, exc))
            finally:
                busy.release()

        thread = threading.Thread(target=run, daemon=True, name='chaos-' + what)
        with self._lock:
            self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()
        return thread

    def wait_faults(self, timeout=120.0):
        """Wait for the faults done in the background (``wait=False``) to end; whether they
        all did."""
        deadline = time.monotonic() + timeout
        for thread in list(self._background):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._background)

    def heal(self, timeout=120.0):
        """After the faults: background faults ended, ZooKeeper and the cloud up, every
        conductor slot filled and ready. Returns self."""
        self.wait_faults(timeout)
        self.start_zookeeper()
        with self._cloud_lock:
            if self._cloud_process.proc is None:
                self._spawn(self._cloud_process.start)
        self.replace_dead()
        self.wait_conductors_ready(timeout)
        return self

    # -- conductors -----------------------------------------------------------------------

    @property
    def conductors(self):
        """The conductor processes alive now (oldest first); each has ``slot``, ``health``
        (its health file) and ``log_path``."""
        with self._lock:
            return [p for p in self._conductors if p.poll() is None]

    def _start_conductor(self):
        with self._lock:
            slot = self._slots
            self._slots += 1
        own = self.workdir / ('conductor-%d.conf' % slot)
        health = self.workdir / ('conductor-%d.json' % slot)
        log_path = self.workdir / ('conductor-%d.log' % slot)
        own.write_text('[conductor]\nhealth_file = %s\n' % health)
        argv = [cli_mod.script('heat-taskflow-conductor'), '--config-file', self.config_file,
                '--config-file', str(own)]
        with open(log_path, 'ab') as log:
            proc = self._spawn(lambda: subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env, cwd=str(self.workdir), preexec_fn=zk_mod._die_with_parent))
        proc.slot, proc.health, proc.log_path = slot, health, log_path
        with self._lock:
            self._conductors.append(proc)
        return proc

    def wait_conductors_ready(self, timeout=READY_TIMEOUT):
        """Wait until every live conductor has written its health file with its pid."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = [p for p in self.conductors if not self._ready(p)]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise ClusterError('conductors %s wrote no health file within %.0f s:\n%s'
                                   % ([p.pid for p in waiting], timeout, self.logs_tail(30)))
            time.sleep(0.1)

    @staticmethod
    def _ready(proc):
        try:
            return ('"pid": %d,' % proc.pid) in proc.health.read_text()
        except OSError:
            return False

    def replace_dead(self):
        """Start a conductor for every slot whose conductor has exited (up to
        ``conductors`` live ones); the ones that exited without being killed here are
        counted as crashes and logged. Returns the new Popens."""
        started = []
        with self._lock:
            if self._stopping.is_set():
                return started
            for proc in self._conductors:
                if proc.poll() is not None and not getattr(proc, 'reaped', False):
                    proc.reaped = True
                    if proc.pid not in self._killed:
                        self._crashed(proc)
            missing = self.size - len(self.conductors)
            for _ in range(missing):
                proc = self._start_conductor()
                self.replacements += 1
                started.append(proc)
        for proc in started:
            self._note('conductor %d started (pid %d)' % (proc.slot, proc.pid))
        return started

    def _crashed(self, proc):
        self.crashes += 1
        tail = zk_mod.file_tail(proc.log_path, 15)
        self.crash_reports.append({'pid': proc.pid, 'slot': proc.slot,
                                   'returncode': proc.returncode, 'log_tail': tail})
        self._note('conductor %d (pid %d) exited by itself with %s; its log ends:\n%s'
                   % (proc.slot, proc.pid, proc.returncode, tail))

    def kill_conductor(self, rng):
        """kill -9 a conductor chosen with ``rng`` (a random.Random) among the live ones,
        start its replacement at once; the pid killed (None when none was alive)."""
        with self._lock:
            live = self.conductors
            if not live or self._stopping.is_set():
                return None
            victim = rng.choice(live)
            self._killed.add(victim.pid)
            with contextlib.suppress(ProcessLookupError):     # it died a moment ago
                os.kill(victim.pid, signal.SIGKILL)
            self.kills += 1
        victim.wait()
        self._note('kill -9 conductor %d (pid %d)' % (victim.slot, victim.pid))
        self.replace_dead()
        return victim.pid

    def _monitor_loop(self):
        while not self._stopping.wait(1.0):
            try:
                self.replace_dead()
            except Exception as exc:  # noqa: BLE001 - the monitor must keep watching
                self._note('monitor: %s' % exc)

    # -- command line ---------------------------------------------------------------------

    def argv(self, *args):
        return [cli_mod.script('heat-taskflow'), '--config-file', self.config_file,
                *[str(a) for a in args]]

    def cli(self, *args, timeout=300):
        """Run ``heat-taskflow --config-file CONFIG ARGS``; its CompletedProcess (text,
        output captured). A command still running after ``timeout`` s is killed and
        subprocess.TimeoutExpired raised."""
        return subprocess.run(self.argv(*args), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=self.env, cwd=str(self.workdir),
                              timeout=timeout, check=False)

    def cli_popen(self, *args, **popen_kw):
        """Start ``heat-taskflow --config-file CONFIG ARGS``; its Popen (text, stdout and
        stderr piped unless popen_kw says otherwise). Stopped with the cluster."""
        kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True, env=self.env, cwd=str(self.workdir),
                  preexec_fn=zk_mod._die_with_parent)
        kw.update(popen_kw)
        proc = self._spawn(lambda: subprocess.Popen(self.argv(*args), **kw))
        with self._lock:
            self._popens = [p for p in self._popens if p.poll() is None] + [proc]
        return proc

    # -- reports --------------------------------------------------------------------------

    def counts(self):
        """The counters of the faults dealt so far."""
        with self._lock:
            return {'kills': self.kills, 'zk_restarts': self.zk_restarts,
                    'cloud_restarts': self.cloud_restarts,
                    'replacements': self.replacements, 'crashes': self.crashes,
                    'zk_down_seconds': round(self.zk_down_seconds, 1),
                    'cloud_down_seconds': round(self.cloud_down_seconds, 1)}

    def logs_tail(self, n=20):
        """The last ``n`` lines of every log of the run (the cluster's own, each
        conductor's, ZooKeeper's, the cloud's), for a failure message."""
        parts = [('cluster', self.workdir / 'cluster.log')]
        for proc in list(self._conductors):
            state = 'alive' if proc.poll() is None else 'exit %s' % proc.returncode
            parts.append(('conductor %d pid %d (%s)' % (proc.slot, proc.pid, state),
                          proc.log_path))
        if self.zk is not None:
            parts.append(('zookeeper', self.zk.log_path))
        parts.append(('cloud', self.workdir / 'cloud' / 'simcloud.log'))
        return '\n'.join('--- %s ---\n%s' % (name, zk_mod.file_tail(path, n))
                         for name, path in parts)


def main(argv=None):
    """``python -m tests.chaos.cluster WORKDIR``: start a cluster and keep it up until ^C
    (to poke at it by hand with ``heat-taskflow --config-file WORKDIR/heat-taskflow.conf``)."""
    workdir = (argv or sys.argv[1:] or ['chaos-cluster'])[0]
    with Cluster(workdir) as cluster:
        print('config: %s' % cluster.config_file, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == '__main__':
    main()
