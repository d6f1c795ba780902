"""Run hostile cases through the engine, one at a time, and judge each (a subprocess).

``python -m tests.hostile.worker STATE_DIR`` reads one JSON case per line on stdin and
writes one JSON verdict per line on stdout. It runs the library path the command line
uses: ``StackService.validate_template`` (``template validate``), then
``create_stack`` on the legacy path with SQLite in STATE_DIR (``stack create``), then the
views a user can read and ``delete_stack``. It runs under an address-space limit
(RLIMIT_AS), so runaway memory ends in MemoryError rather than the machine's swap; the
parent (runner.py) bounds the wall-clock time of each case by killing the worker.

A verdict: {outcome, phase, error, where, seconds, rss_growth, leaks, stored}.
outcome: accepted (validated and created), failed (created, the stack ended FAILED),
refused (TemplateError / InvalidInput at validate or create), crash (any other
exception), memory (MemoryError). ``leaks`` lists where the hidden value was seen;
``stored`` lists tables that changed although the input was refused.
"""

import io
import json
import logging
import os
import resource
import sys
import time
import traceback
import uuid

MEMORY_LIMIT = int(os.environ.get('HOSTILE_MEMORY_LIMIT', 2 * 1024 ** 3))
TABLES = ('raw_template', 'stack', 'resource', 'resource_data', 'event', 'stack_output')


def _rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _reset_peak():
    """Reset the kernel's high-water mark of this process's RSS (VmHWM), where allowed."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _peak():
    """Peak RSS since the last reset (VmHWM), else since the process started."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Capture(logging.Handler):
    """Every log record, formatted with its traceback, kept for the leak search."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.setFormatter(logging.Formatter('%(name)s %(levelname)s %(message)s'))

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception as e:      # a record that cannot be formatted is itself news
            self.lines.append('unformattable log record: %r' % (e,))


def _where(err):
    """file:line:function of the innermost frame of the project (or the last frame)."""
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if 'heat_taskflow' in f.filename] or frames
    if not own:
        return ''
    f = own[-1]
    return '%s:%d:%s' % (f.filename.split('heat_taskflow/')[-1], f.lineno, f.name)


def declared_hidden(text):
    """Whether a template declares ``secret`` hidden (True when it cannot be told): a
    mutation may have made it visible, and then showing it is no leak."""
    from heat_taskflow.template import Template
    try:
        raw = Template.parse(text, filename='template.yaml').raw
        hidden = raw['parameters']['secret'].get('hidden', False)
    except Exception:
        return True
    return str(hidden).lower() in ('true', 'yes', 'on', '1', 't', 'y')


class Judge:
    """A StackService on a private SQLite database, and the oracle of one case."""

    def __init__(self, state_dir):
        from oslo_config import cfg

        from heat_taskflow.conf import opts
        from heat_taskflow.engine import exceptions as engine_exc
        from heat_taskflow.engine import legacy
        from heat_taskflow.engine import service as service_mod
        from heat_taskflow.persistence import database as database_mod
        from heat_taskflow.template.errors import TemplateError

        self.refusals = (TemplateError, engine_exc.InvalidInput)
        self.failed = engine_exc.OperationFailed
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', state_dir)
        self.database = database_mod.Database('sqlite:///%s/hostile.sqlite' % state_dir)
        self.database.sync()
        self.executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
        self.service = service_mod.StackService(conf, database=self.database,
                                                executors=self.executors)
        # Load every resource plugin now, not in the first case's time.
        try:
            self.service.validate_template(
                'heat_template_version: 2018-08-31\nresources: {r: {type: OS::Heat::None}}\n',
                'warm.yaml')
        except Exception:
            pass
        self.capture = _Capture()
        root = logging.getLogger()
        root.addHandler(self.capture)
        root.setLevel(logging.WARNING)
        for name in ('heat_taskflow', 'taskflow'):
            logging.getLogger(name).setLevel(logging.DEBUG)

    def counts(self):
        with self.database.engine.connect() as connection:
            return {t: connection.exec_driver_sql('SELECT COUNT(*) FROM %s' % t).scalar()
                    for t in TABLES}

    def run(self, case):
        """The verdict on one case (a dict of strategies.Case fields)."""
        self.capture.lines = []
        seen = []           # (where, text) of everything a user or operator could read
        verdict = {'outcome': None, 'phase': None, 'error': None, 'where': None,
                   'message': None, 'stored': [], 'leaks': []}
        envs = [tuple(e) for e in case.get('environments', [])]
        args = (case['template'], 'template.yaml', case.get('files') or {}, envs,
                case.get('parameters') or {})
        _reset_peak()
        rss_before = _rss()
        start = time.monotonic()
        name = case.get('name', 'fuzz-%s' % uuid.uuid4().hex[:12])
        try:
            verdict['phase'] = 'validate'
            try:
                seen.append(('validate result', self.service.validate_template(*args)))
            except self.refusals as err:
                seen.append(('validate error', str(err)))
            before = self.counts()
            verdict['phase'] = 'create'
            try:
                view = self.service.create_stack(name, *args)
            except self.refusals as err:
                verdict['outcome'] = 'refused'
                verdict['message'] = str(err)[:500]
                seen.append(('create error', str(err)))
                after = self.counts()
                verdict['stored'] = [t for t in TABLES if after[t] != before[t]]
            else:
                seen.append(('stack view', view))
                verdict['outcome'] = ('failed' if view['stack_status'].endswith('FAILED')
                                      else 'accepted')
                verdict['message'] = (view.get('stack_status_reason') or '')[:500]
                verdict['phase'] = 'read'
                seen.append(('stack show', self.service.get_stack(name)))
                seen.append(('resources', self.service.list_resources(
                    name, nested_depth=5, with_detail=True)))
                for r in self.service.list_resources(name):
                    seen.append(('resource show', self.service.show_resource(
                        name, r['resource_name'])))
                seen.append(('events', self.service.list_events(name, nested_depth=5)))
                seen.append(('environment', self.service.get_environment(name)))
                seen.append(('template', self.service.get_template(name)))
                for out in self.service.list_outputs(name):
                    seen.append(('output show', self.service.show_output(
                        name, out['output_key'])))
                seen.append(('failures', self.service.list_failures(name)))
                verdict['phase'] = 'delete'
                deleted = self.service.delete_stack(name)
                seen.append(('delete view', deleted))
                seen.append(('events', self.service.list_events(deleted['id'],
                                                                nested_depth=5)))
                if deleted['stack_status'] != 'DELETE_COMPLETE':
                    verdict['outcome'] = 'undeletable'
                    verdict['message'] = deleted.get('stack_status_reason')
        except MemoryError as err:
            verdict['outcome'] = 'memory'
            verdict['error'] = 'MemoryError'
            verdict['where'] = _where(err)
        except RecursionError as err:
            verdict['outcome'] = 'crash'
            verdict['error'] = 'RecursionError'
            verdict['where'] = _where(err)
        except Exception as err:
            verdict['outcome'] = 'crash'
            verdict['error'] = type(err).__name__
            verdict['where'] = _where(err)
            verdict['message'] = str(err)[:500]
            seen.append(('crash message', str(err)))
        verdict['seconds'] = round(time.monotonic() - start, 4)
        verdict['rss_growth'] = max(0, max(_peak(), _rss()) - rss_before)
        seen.extend(('log', line) for line in self.capture.lines)
        secret = case['secret']
        if not declared_hidden(case['template']):
            seen = []       # a mutation made the parameter visible: showing it is no leak
        for where, value in seen:
            value = _without_exports(value)
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if secret in text:
                verdict['leaks'].append(where)
                if where == 'log' and verdict.get('leak_sample') is None:
                    verdict['leak_sample'] = text[:300]
        verdict['leaks'] = sorted(set(verdict['leaks']))
        return verdict


# What a template's author exports on purpose is shown as Heat shows it, hidden parameter
# or not (docs/hostile-input.md, "What is not redacted"): output values, and the attributes
# and metadata of resources. A hidden value anywhere else in a view is a leak.
_EXPORTED_KEYS = frozenset(('output_value', 'attributes', 'metadata'))


def _without_exports(value):
    """A view with every exported value (output values, resource attributes) left out."""
    if isinstance(value, dict):
        return {k: _without_exports(v) for k, v in value.items() if k not in _EXPORTED_KEYS}
    if isinstance(value, list):
        return [_without_exports(v) for v in value]
    return value


def main():
    state_dir = sys.argv[1]
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    # The protocol owns the real stdout; anything the engine prints goes to stderr.
    out = io.TextIOWrapper(os.fdopen(os.dup(1), 'wb'), encoding='utf-8', line_buffering=True)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    judge = Judge(state_dir)
    out.write(json.dumps({'ready': True}) + '\n')
    for line in sys.stdin:
        verdict = judge.run(json.loads(line))
        out.write(json.dumps(verdict, default=str) + '\n')


if __name__ == '__main__':
    main()
