"""A private ZooKeeper server, heat-taskflow-conductor processes and a simulated cloud for
the benchmark.

``zookeeper_missing()`` says why no server can be started here (``tools/ensure-zookeeper``
installs Debian's jar); ``ZooKeeper`` runs one standalone server on a free loopback port with
its data under a directory of the caller's and counts the requests it received (``srvr``);
``Conductors`` starts and stops ``heat-taskflow-conductor`` daemons, each with its own config
and health file, sharing one database and one job board path; ``SimCloud`` runs one
``heat-taskflow-simcloud`` on a free loopback port with its SQLite file in the caller's
directory and reads its creation audit.
"""

import atexit
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

JAR = os.environ.get('ZOOKEEPER_JAR', '/usr/share/java/zookeeper.jar')
SLF4J = '/usr/share/java/slf4j-simple.jar'
CONDUCTOR = os.path.join(os.path.dirname(sys.executable), 'heat-taskflow-conductor')
SIMCLOUD = os.path.join(os.path.dirname(sys.executable), 'heat-taskflow-simcloud')
SIMCLOUD_READY = re.compile(r'simcloud ready at (http://127\.0\.0\.1:\d+)')


def zookeeper_missing():
    """Why a ZooKeeper server and conductor daemons cannot be started here, or None."""
    if shutil.which('java') is None:
        return 'java is not installed (ZooKeeper needs a JRE; tools/ensure-zookeeper)'
    if not os.path.isfile(JAR):
        return '%s is missing (tools/ensure-zookeeper installs it)' % JAR
    if not os.path.exists(CONDUCTOR):
        return '%s is not installed (pip install -e .)' % CONDUCTOR
    return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _ask(port, word, timeout=2.0):
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
        sock.sendall(word.encode('ascii'))
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return b''.join(chunks).decode('utf-8', 'replace')
            chunks.append(chunk)


def _die_with_parent():
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ZooKeeper:
    """One standalone server on 127.0.0.1 (a short tick, so short session timeouts)."""

    def __init__(self, workdir, tick_ms=200, min_session_ms=1000, max_session_ms=60000):
        self.workdir = workdir
        self.tick_ms, self.min_session_ms = tick_ms, min_session_ms
        self.max_session_ms = max_session_ms
        self.port = None
        self.process = None

    @property
    def address(self):
        return '127.0.0.1:%d' % self.port

    def start(self, timeout=30.0):
        why = zookeeper_missing()
        if why:
            raise RuntimeError(why)
        self.port = _free_port()
        data = os.path.join(self.workdir, 'zk-data')
        os.makedirs(data, exist_ok=True)
        config = os.path.join(self.workdir, 'zoo.cfg')
        with open(config, 'w') as f:
            f.write('\n'.join([
                'tickTime=%d' % self.tick_ms, 'minSessionTimeout=%d' % self.min_session_ms,
                'maxSessionTimeout=%d' % self.max_session_ms, 'dataDir=%s' % data,
                'clientPort=%d' % self.port, 'clientPortAddress=127.0.0.1',
                'maxClientCnxns=0', '4lw.commands.whitelist=ruok,srvr,stat,mntr,envi',
                'admin.enableServer=false', 'forceSync=no', 'preAllocSize=1024']) + '\n')
        log = open(os.path.join(self.workdir, 'zookeeper.log'), 'ab')
        atexit.register(self.stop)
        self.process = subprocess.Popen(
            ['java', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
             '-cp', ':'.join([self.workdir, JAR, SLF4J]),
             'org.apache.zookeeper.server.ZooKeeperServerMain', config],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError):
                if 'Mode:' in _ask(self.port, 'srvr', 1.0):
                    return self.address
            time.sleep(0.05)
        self.stop()
        raise RuntimeError('ZooKeeper did not start (see %s/zookeeper.log)' % self.workdir)

    def received(self):
        """Requests (packets) the server has received since it started."""
        match = re.search(r'^Received: (\d+)', _ask(self.port, 'srvr'), re.M)
        return int(match.group(1)) if match else 0

    def stop(self):
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Conductors:
    """``heat-taskflow-conductor`` daemons on one configuration (each its own health file)."""

    def __init__(self, workdir, config_text, health_interval=0.2):
        self.workdir = workdir
        self.config_text = config_text
        self.health_interval = health_interval
        self.procs = []

    def start(self, count):
        for _ in range(count):
            i = len(self.procs)
            config = os.path.join(self.workdir, 'conductor-%d.conf' % i)
            health = os.path.join(self.workdir, 'conductor-%d.json' % i)
            with open(config, 'w') as f:
                f.write(self.config_text + '\n[conductor]\nhealth_file = %s\n'
                        'health_interval = %s\nwait_timeout = 0.02\n'
                        % (health, self.health_interval))
            log = open(os.path.join(self.workdir, 'conductor-%d.log' % i), 'ab')
            proc = subprocess.Popen([CONDUCTOR, '--config-file', config],
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            log.close()
            proc.health_file = health
            self.procs.append(proc)
        return self.procs

    def alive(self):
        return [p for p in self.procs if p.poll() is None]

    @staticmethod
    def held(proc):
        """The jobs a conductor said it held at its last health refresh ([] if unknown)."""
        try:
            with open(proc.health_file) as f:
                return json.load(f).get('jobs') or []
        except (OSError, ValueError):
            return []

    def wait_ready(self, timeout=30.0):
        """Wait until every conductor has written its health file once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(os.path.exists(p.health_file) for p in self.procs):
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.05)
        raise RuntimeError('conductors did not start; logs in %s' % self.workdir)

    def stop(self):
        for proc in self.alive():
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def process_cpu_s(pid):
    """User + system CPU seconds a live process has used so far (0.0 if unknown)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def process_peak_rss_mib(pid):
    """Peak resident set size (VmHWM) of a live process, or None."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class SimCloud:
    """One ``heat-taskflow-simcloud`` process on 127.0.0.1 (``--port 0``), its database and
    the ``clouds.yaml`` it writes (entry ``simcloud``) in ``workdir``; servers and volumes
    stay ``build_time`` seconds in their build status."""

    def __init__(self, workdir, build_time=0.0):
        self.workdir = workdir
        self.build_time = build_time
        self.clouds_file = os.path.join(workdir, 'clouds.yaml')
        self.url = None
        self.seeded = 0
        self.process = None

    def start(self, timeout=30.0):
        log = open(os.path.join(self.workdir, 'simcloud.log'), 'ab')
        atexit.register(self.stop)
        self.process = subprocess.Popen(
            [SIMCLOUD, '--port', '0', '--db', os.path.join(self.workdir, 'simcloud.sqlite'),
             '--build-time', str(self.build_time), '--clouds-yaml', self.clouds_file],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
            preexec_fn=_die_with_parent)
        log.close()
        # The first line says where it listens (or it died: readline returns '').
        reader = _Reader(self.process.stdout)
        line = reader.readline(timeout)
        match = SIMCLOUD_READY.match(line or '')
        if not match:
            self.stop()
            raise RuntimeError('simcloud did not start (%r; see %s/simcloud.log)'
                               % (line, self.workdir))
        self.url = match.group(1)
        # What the cloud starts with (its external network, default security groups).
        self.seeded = len(self.audit()['creations'])
        return self.url

    def get(self, path, timeout=60.0):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.loads(response.read())

    def audit(self, kind=None):
        """The creation audit: {'creations': [...oldest first], 'summary': {...}}."""
        return self.get('/admin/audit' + ('?kind=%s' % kind if kind else ''))

    def made(self):
        """The creations since the cloud started, oldest first (not its seeded objects)."""
        return self.audit()['creations'][self.seeded:]

    def calls(self):
        """{operation: number of calls} the simulator answered since it started."""
        return self.get('/admin/calls')

    def config(self):
        """The [cloud] section of a heat-taskflow configuration naming this cloud."""
        return '[cloud]\ncloud = simcloud\nclouds_file = %s\n' % self.clouds_file

    def overrides(self):
        """The same as {(group, option): value}."""
        return {('cloud', 'cloud'): 'simcloud', ('cloud', 'clouds_file'): self.clouds_file}

    def cpu_s(self):
        return process_cpu_s(self.process.pid) if self.process else 0.0

    def peak_rss_mib(self):
        return process_peak_rss_mib(self.process.pid) if self.process else None

    def stop(self):
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Reader:
    """readline() with a timeout on a pipe (a thread reads it)."""

    def __init__(self, stream):
        import queue
        import threading
        self._lines = queue.Queue()

        def pump():
            for line in stream:
                self._lines.put(line)
            self._lines.put('')

        threading.Thread(target=pump, daemon=True).start()

    def readline(self, timeout):
        import queue
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
