"""A real, private ZooKeeper server for tests: Debian's jar run standalone on loopback.

``tools/ensure-zookeeper`` installs the jar (Debian's ``zookeeper`` package) when it is
missing; ``missing()`` says why a server cannot be started here, and ``ZooKeeperServer``
starts one on a free port with its data in a directory of the caller's, answers ``ruok`` and
serves clients before ``start()`` returns, and is stopped by ``stop()``, at interpreter exit,
or when the process that started it dies. ``restart()`` stops it and starts it again on the
same port over the same data directory (what an operator's restart does: the data survive).
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time

JAR = os.environ.get('ZOOKEEPER_JAR', '/usr/share/java/zookeeper.jar')
SLF4J = '/usr/share/java/slf4j-simple.jar'
MAIN = 'org.apache.zookeeper.server.ZooKeeperServerMain'
# envi: TaskFlow's job board checks the server version with it when it connects.
FOUR_LETTER_WORDS = 'ruok,srvr,stat,mntr,cons,envi'


class ZooKeeperError(Exception):
    """The server could not be started or did not answer."""


def missing():
    """Why a ZooKeeper server cannot be started here, or None when it can."""
    if shutil.which('java') is None:
        return 'java is not installed (ZooKeeper needs a JRE)'
    if not os.path.isfile(JAR):
        return ('%s is missing: tools/ensure-zookeeper installs Debian\'s zookeeper package '
                '(apt-get install zookeeper)' % JAR)
    return None


def stop_process(process, timeout=10.0):
    """Stop a server's process (SIGTERM, then SIGKILL after timeout s); None or one that has
    exited already is left as it is."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def file_tail(path, lines):
    """The last lines of a log file ('' when it cannot be read)."""
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def free_port(host='127.0.0.1'):
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def four_letter_word(host, port, word, timeout=2.0):
    """Send a four-letter command and return the whole answer as text."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(word.encode('ascii'))
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
    return b''.join(chunks).decode('utf-8', 'replace')


def _die_with_parent():
    """In the child: receive SIGKILL when the process that started us dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ZooKeeperServer:
    """One standalone ZooKeeper server on 127.0.0.1 with its data under ``workdir``.

    ``tick_ms``, ``min_session_ms`` and ``max_session_ms`` bound the session timeouts the
    server grants (a client asking for less gets the minimum, more gets the maximum).
    """

    host = '127.0.0.1'

    def __init__(self, workdir, tick_ms=200, min_session_ms=1000, max_session_ms=60000):
        self.workdir = os.fspath(workdir)
        self.tick_ms = tick_ms
        self.min_session_ms = min_session_ms
        self.max_session_ms = max_session_ms
        self.port = None
        self.process = None
        self._registered = False
        self.log_path = os.path.join(self.workdir, 'zookeeper.log')

    @property
    def address(self):
        """``host:port`` for clients."""
        return '%s:%d' % (self.host, self.port)

    def _write_config(self):
        data_dir = os.path.join(self.workdir, 'data')
        os.makedirs(data_dir, exist_ok=True)
        lines = [
            'tickTime=%d' % self.tick_ms,
            'minSessionTimeout=%d' % self.min_session_ms,
            'maxSessionTimeout=%d' % self.max_session_ms,
            'dataDir=%s' % data_dir,
            'clientPort=%d' % self.port,
            'clientPortAddress=%s' % self.host,
            'maxClientCnxns=0',
            '4lw.commands.whitelist=%s' % FOUR_LETTER_WORDS,
            # The admin server would listen on 8080, shared by every server on the machine.
            'admin.enableServer=false',
            'snapCount=1000000',
            'preAllocSize=1024',
            'forceSync=no',
        ]
        path = os.path.join(self.workdir, 'zoo.cfg')
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return path

    def start(self, timeout=30.0, attempts=3):
        """Start the server and wait until it answers ``ruok``; returns the address.

        The first start picks a free port; a start after ``stop()`` reuses the port (and the
        data directory) it had, so its clients reconnect to the same address."""
        reason = missing()
        if reason:
            raise ZooKeeperError(reason)
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True
        fixed = self.port is not None
        for _ in range(attempts):
            if not fixed:
                self.port = free_port(self.host)
            config = self._write_config()
            classpath = ':'.join([self.workdir, JAR, SLF4J])
            with open(self.log_path, 'ab') as log:
                self.process = subprocess.Popen(
                    ['java', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
                     '-Dzookeeper.admin.enableServer=false',
                     # Times in the log, to set it beside its clients' logs.
                     '-Dorg.slf4j.simpleLogger.showDateTime=true',
                     '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
                     '-cp', classpath, MAIN, config],
                    cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            if self._wait_ready(timeout):
                return self.address
            # Most likely the port was taken between free_port() and the bind: try another
            # (or, on a fixed port, the same one again once the old socket has gone).
            self.stop()
        raise ZooKeeperError('ZooKeeper did not answer ruok within %.0f s (%d attempts); '
                             'log %s ends:\n%s' % (timeout, attempts, self.log_path,
                                                   self.log_tail()))

    def restart(self, down_seconds=0.0, timeout=30.0):
        """Stop the server, stay down ``down_seconds``, start it again on the same port over
        the same data (the sessions and znodes it had survive, as with a real restart)."""
        self.stop()
        time.sleep(down_seconds)
        return self.start(timeout)

    @property
    def running(self):
        """Whether the server process is alive (it may still be loading its data)."""
        return self.process is not None and self.process.poll() is None

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self.is_ok() and self.is_serving():
                return True
            time.sleep(0.05)
        return False

    def is_ok(self):
        """Whether the server answers ``ruok`` with ``imok``."""
        try:
            return four_letter_word(self.host, self.port, 'ruok', timeout=1.0) == 'imok'
        except OSError:
            return False

    def is_serving(self):
        """Whether the server has loaded its database and serves clients (``srvr``)."""
        try:
            return 'Mode:' in four_letter_word(self.host, self.port, 'srvr', timeout=1.0)
        except OSError:
            return False

    def command(self, word):
        """The answer to a four-letter command (``srvr``, ``mntr``, ``cons``...)."""
        return four_letter_word(self.host, self.port, word)

    def stop(self, timeout=10.0):
        """Stop the server (SIGTERM, then SIGKILL); safe to call twice."""
        process, self.process = self.process, None
        stop_process(process, timeout)

    def log_tail(self, lines=20):
        """The last lines of the server's log."""
        return file_tail(self.log_path, lines)
