"""Drive worker subprocesses: one case at a time each, bounded in time, judged by invariants.

The invariants every input must keep (issue #14):
- the outcome is accepted (or a stack that ran and FAILED for a stated reason), or a clean
  refusal (TemplateError / InvalidInput); never another exception;
- it ends within ``SLOW`` seconds (the worker is killed at ``HANG``: a hang);
- its peak memory grows by less than ``MEMORY_BOUND`` bytes;
- nothing is stored when it is refused;
- the hidden parameter's value appears in no output, message, event, log line or view.
"""

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SLOW = 5.0                       # seconds: "never past a few seconds"
HANG = 20.0                      # seconds: the worker is killed, the case is a hang
CLI_SLOW = 20.0                  # seconds for one command (its start-up alone takes 1-5 s)
MEMORY_BOUND = 300 * 1024 ** 2   # bytes of peak RSS growth: "a few hundred MB"
RECYCLE = 500                    # cases per worker before a fresh one (and database)
# A stack's status reason that carries a bare Python or database error instead of a message.
BARE = re.compile(r'Traceback|\b(?:Type|Key|Attribute|Index|Value|Name|Recursion|Zero'
                  r'Division|Overflow|Unicode\w*|Integrity|Statement|Operational|'
                  r'Programming|Interface)Error\b|sqlite3|\[SQL:|Background on this error')


def findings_of(verdict, slow=SLOW):
    """The invariant violations of one verdict, as class keys (tuples of strings)."""
    found = []
    outcome = verdict['outcome']
    if outcome in ('crash', 'memory', 'hang', 'died'):
        found.append((outcome, verdict.get('error') or '', verdict.get('where') or ''))
    if outcome == 'undeletable':
        found.append(('undeletable', '', ''))
    if outcome == 'failed' and BARE.search(verdict.get('message') or ''):
        found.append(('bare error in status reason', BARE.search(verdict['message']).group(0),
                      ''))
    if verdict.get('seconds', 0) > slow and outcome != 'hang':
        found.append(("slow", outcome, verdict.get("phase") or ""))
    if verdict.get('rss_growth', 0) > MEMORY_BOUND and outcome != 'memory':
        found.append(('memory', 'rss growth', verdict.get('phase') or ''))
    for table in verdict.get('stored', []):
        found.append(('stored when refused', table, ''))
    for where in verdict.get('leaks', []):
        found.append(('hidden value leaked', where, ''))
    return found


class Worker:
    """One worker subprocess (tests/hostile/worker.py) with its own state directory."""

    def __init__(self, memory_limit=None):
        self.state_dir = tempfile.mkdtemp(prefix='hostile-')
        env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=self.state_dir,
                   PYTHONDONTWRITEBYTECODE='1')
        if memory_limit:
            env['HOSTILE_MEMORY_LIMIT'] = str(memory_limit)
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.hostile.worker', self.state_dir], cwd=str(REPO),
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.done = 0
        ready = self._read(120)
        if ready is None or not ready.get('ready'):
            self.close()
            raise RuntimeError('hostile worker did not start')

    def _read(self, timeout):
        if not self.selector.select(timeout):
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {}

    def run(self, case, timeout=HANG):
        """The verdict on a case; 'hang' (the worker is then dead) past timeout seconds."""
        start = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps(case) + '\n')
            self.proc.stdin.flush()
            verdict = self._read(timeout)
        except (BrokenPipeError, OSError, ValueError):
            verdict = {}
        self.done += 1
        if verdict is None:
            self.close()
            return {'outcome': 'hang', 'seconds': round(time.monotonic() - start, 2),
                    'error': '', 'where': ''}
        if not verdict:
            code = self.proc.poll()
            self.close()
            return {'outcome': 'died', 'error': 'exit %s' % code, 'where': '',
                    'seconds': round(time.monotonic() - start, 2)}
        return verdict

    @property
    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.selector.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)


class Pool:
    """A worker reused across cases, replaced when it dies, hangs, balloons or ages."""

    def __init__(self, memory_limit=None):
        self.memory_limit = memory_limit
        self.worker = None

    def run(self, case, timeout=HANG):
        if self.worker is None or not self.worker.alive or self.worker.done >= RECYCLE:
            if self.worker is not None:
                self.worker.close()
            self.worker = Worker(self.memory_limit)
        verdict = self.worker.run(case, timeout)
        if verdict.get('rss_growth', 0) > MEMORY_BOUND and self.worker.alive:
            # Its peak RSS stays high: a fresh worker measures the next case.
            self.worker.close()
        return verdict

    def close(self):
        if self.worker is not None:
            self.worker.close()
            self.worker = None


def _script(name):
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def run_cli(case, timeout=HANG * 2):
    """A case through the real command line: ``template validate`` then ``stack create``.

    The template, environments and files-map entries are written to a private directory
    (the command line collects ``get_file`` and ``type:`` references from disk, relative to
    the template). Returns a list of verdicts, one per command: outcome ok (exit 0),
    refused (exit 2), failed (exit 1 with a FAILED stack and no traceback), crash (exit 1
    otherwise, or any other code), hang (killed at the timeout); leaks where the hidden
    value was printed.
    """
    from tests.hostile.worker import declared_hidden

    hidden = declared_hidden(case['template'])
    work = Path(tempfile.mkdtemp(prefix='hostile-cli-'))
    verdicts = []
    try:
        (work / 'template.yaml').write_text(case['template'], errors='surrogatepass')
        for name, text in (case.get('files') or {}).items():
            if '/' not in name and name not in ('template.yaml',):
                (work / name).write_text(text, errors='surrogatepass')
        args = ['-t', 'template.yaml']
        for i, (_, text) in enumerate(case.get('environments') or []):
            (work / ('env%d.yaml' % i)).write_text(text, errors='surrogatepass')
            args += ['-e', 'env%d.yaml' % i]
        for key, value in (case.get('parameters') or {}).items():
            args += ['--parameter', '%s=%s' % (key, value)]
        env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(work / 'state'),
                   PYTHONDONTWRITEBYTECODE='1')
        for command in (['template', 'validate'], ['stack', 'create', 'fuzz-cli']):
            start = time.monotonic()
            try:
                proc = subprocess.run([_script('heat-taskflow')] + command + args, cwd=work,
                                      env=env, capture_output=True, text=True,
                                      errors='replace', timeout=timeout,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                verdicts.append({'outcome': 'hang', 'command': ' '.join(command),
                                 'seconds': timeout, 'error': '', 'where': 'command line'})
                continue
            out = proc.stdout + proc.stderr
            traceback = 'Traceback (most recent call last)' in out
            if proc.returncode == 0 and not traceback:
                outcome = 'accepted'
            elif proc.returncode == 2 and not traceback:
                outcome = 'refused'
            elif proc.returncode == 1 and not traceback and ('FAILED' in out or 'ROLLBACK' in out):
                outcome = 'failed'
            else:
                outcome = 'crash'
            last = [line for line in proc.stderr.splitlines() if line.strip()][-1:] or ['']
            verdicts.append({
                'outcome': outcome, 'command': ' '.join(command),
                'error': 'exit %d' % proc.returncode if outcome == 'crash' else '',
                'where': 'command line: %s' % last[0][:200] if outcome == 'crash' else '',
                'message': last[0][:300], 'seconds': round(time.monotonic() - start, 2),
                'leaks': ['command line output'] if case['secret'] in out and hidden else []})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return verdicts
