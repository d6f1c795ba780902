"""Run the real heat-taskflow command lines in subprocesses, as a user would.

The console scripts are the ones installed next to the running interpreter (the virtualenv's
bin directory); ``python -m`` cannot run a console script. Every call gets a private
HEAT_TASKFLOW_STATE_DIR so nothing touches the user's own state.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / 'examples'
BIN = Path(sys.executable).parent
TIMEOUT = 180        # seconds; only a guard against a hung command, never an assertion


def script(name):
    """The path of a console script of this project, next to sys.executable."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError('console script %s is not installed next to %s'
                           % (name, sys.executable))
    return found


def write_config(path, db_url, state_dir):
    """A configuration file naming the database and the state directory."""
    Path(path).write_text('[DEFAULT]\nstate_dir = %s\n\n[database]\nconnection = %s\n'
                          % (state_dir, db_url))
    return str(path)


class Result:
    """What a finished command left: exit code, stdout and stderr (text)."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return ('<%s exited %s\n--- stdout ---\n%s\n--- stderr ---\n%s>'
                % (' '.join(self.argv), self.returncode, self.stdout, self.stderr))

    @property
    def json(self):
        """stdout parsed as JSON (for -f json)."""
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError('stdout is not JSON (%s): %r' % (exc, self)) from None

    @property
    def value(self):
        """stdout of -f value, stripped."""
        return self.stdout.strip()

    @property
    def stderr_lines(self):
        return [line for line in self.stderr.splitlines() if line.strip()]


class Cli:
    """heat-taskflow and heat-taskflow-manage with one configuration file."""

    def __init__(self, config_file, state_dir, cwd=REPO):
        self.config_file = str(config_file)
        self.cwd = str(cwd)
        self.env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(state_dir),
                        PYTHONUNBUFFERED='1')

    def argv(self, program, args):
        return [script(program), '--config-file', self.config_file] + [str(a) for a in args]

    def _run(self, program, args, expect, stdin=None):
        argv = self.argv(program, args)
        proc = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                              check=False)
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
        if expect is not None:
            assert result.returncode == expect, result
        return result

    def __call__(self, *args, expect=0):
        """Run heat-taskflow ARGS; assert the exit code unless expect is None."""
        return self._run('heat-taskflow', args, expect)

    def manage(self, *args, expect=0):
        """Run heat-taskflow-manage ARGS."""
        return self._run('heat-taskflow-manage', args, expect)

    def json(self, *args, expect=0):
        """Run heat-taskflow ARGS -f json and return the parsed stdout."""
        return self(*args, '-f', 'json', expect=expect).json

    def value(self, *args, column, expect=0):
        """Run heat-taskflow ARGS -f value -c COLUMN and return the stripped stdout."""
        return self(*args, '-f', 'value', '-c', column, expect=expect).value

    def popen(self, *args):
        """Start heat-taskflow ARGS in the background (stdout/stderr piped, text)."""
        argv = self.argv('heat-taskflow', args)
        return argv, subprocess.Popen(argv, cwd=self.cwd, env=self.env, text=True,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)

    def finish(self, started, expect=0):
        """Wait for a popen() command and return its Result."""
        argv, proc = started
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        result = Result(argv, proc.returncode, stdout, stderr)
        if expect is not None:
            assert result.returncode == expect, result
        return result

    def retry(self, *args, until, deadline=TIMEOUT, pause=0.5):
        """Run heat-taskflow ARGS until ``until(result)`` holds; the last Result.

        For a command racing another process (a signal sent while a create starts).
        """
        end = time.monotonic() + deadline
        while True:
            result = self(*args, expect=None)
            if until(result) or time.monotonic() > end:
                return result
            time.sleep(pause)


def by_key(items, key):
    """{item[key]: item} for a list of dicts (rows of -f json)."""
    return {item[key]: item for item in items}


def outputs(stack):
    """{output_key: output_value} of a stack dict from stack show/create/update -f json."""
    return {o['output_key']: o['output_value'] for o in stack['outputs']}
