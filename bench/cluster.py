"""A private ZooKeeper server and heat-taskflow-conductor processes for the benchmark.

``zookeeper_missing()`` says why no server can be started here (``tools/ensure-zookeeper``
installs Debian's jar); ``ZooKeeper`` runs one standalone server on a free loopback port with
its data under a directory of the caller's and counts the requests it received (``srvr``);
``Conductors`` starts and stops ``heat-taskflow-conductor`` daemons, each with its own config
and health file, sharing one database and one job board path.
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

JAR = os.environ.get('ZOOKEEPER_JAR', '/usr/share/java/zookeeper.jar')
SLF4J = '/usr/share/java/slf4j-simple.jar'
CONDUCTOR = os.path.join(os.path.dirname(sys.executable), 'heat-taskflow-conductor')


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
