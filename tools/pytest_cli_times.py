"""A pytest plugin that records every heat-taskflow / heat-taskflow-manage command line the
functional tests run (tests/functional/cli.py's Cli) and how long each took, then prints
the commands per test file and their summed seconds at the end of the session.

Each command line is a new Python process whose imports cost well over a second of CPU, so
on CI's two cores the number of such calls, not the engine's work, sets the suite's time.

    PYTHONPATH=tools .venv/bin/pytest -p pytest_cli_times -q -n 2 tests/functional/...

With xdist each worker writes ``$CLI_TIMES_DIR/cli-times-<worker>.tsv`` (default /tmp);
the controller reads and summarises them.
"""

import collections
import glob
import os
import time

DIR = os.environ.get('CLI_TIMES_DIR', '/tmp')
WORKER = os.environ.get('PYTEST_XDIST_WORKER')


def _path(worker):
    return os.path.join(DIR, 'cli-times-%s.tsv' % worker)


def pytest_configure(config):
    if WORKER is None:
        for old in glob.glob(_path('*')):
            os.unlink(old)
    from tests.functional import cli as cli_mod

    run = cli_mod.Cli._run

    def _run(self, program, args, expect, stdin=None):
        started = time.monotonic()
        try:
            return run(self, program, args, expect, stdin)
        finally:
            test = os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]
            with open(_path(WORKER or 'main'), 'a') as out:
                out.write('%.3f\t%s\t%s %s\n' % (time.monotonic() - started, test, program,
                                                 ' '.join(map(str, args[:3]))))

    cli_mod.Cli._run = _run


def pytest_terminal_summary(terminalreporter):
    if WORKER is not None:
        return
    calls, seconds = collections.Counter(), collections.Counter()
    for path in glob.glob(_path('*')):
        with open(path) as lines:
            for line in lines:
                took, test, _ = line.rstrip('\n').split('\t', 2)
                module = test.split('::')[0]
                calls[module] += 1
                seconds[module] += float(took)
    if not calls:
        return
    terminalreporter.write_sep('=', 'command lines run by the tests (Cli)')
    for module, total in seconds.most_common():
        terminalreporter.write_line('%8.1f s %5d calls  %s' % (total, calls[module], module))
    terminalreporter.write_line('%8.1f s %5d calls  in all' % (sum(seconds.values()),
                                                             sum(calls.values())))
