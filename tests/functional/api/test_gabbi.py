"""The API's own REST tests: the YAML files of gabbits/, run by gabbi in this process.

Each YAML file is a sequence of HTTP requests against the real WSGI application (the whole
pipeline: faults, versions, noauth, router, controllers) on a temporary SQLite database and
state dir, reached through gabbi's ``intercept`` (httpx's WSGI transport), with no socket.
Stacks take the legacy path, their operations running in the background as in
heat-taskflow-api. The files of DISTRIBUTED run a second time (test ids ``distributed_...``)
against an application whose stacks take the distributed path, their jobs run by an
in-process conductor on a zake job board.
The fixtures a file names (``fixtures:``) are the classes below: each creates, through the
API itself, the stacks the file reads, waits for them, and exports their ids as
``$ENVIRON['...']``.

Every gabbi test is one pytest test, in file order. A test runs its file's earlier tests
first when they have not run in this process (gabbi's prior tests), and a file's fixtures
start with its first test run here and stop when a test of another file runs, so the tests
also run under pytest-xdist. A test marked ``xfail: true`` that passes fails (strict).
"""

import json
import os
import pathlib
import shutil
import sys
import tempfile
import time
import unittest

import pytest
import webob
from gabbi import driver, fixture
from oslo_config import cfg
from oslo_policy import opts as policy_opts

from heat_taskflow.api import app as app_mod
from heat_taskflow.api import policies
from heat_taskflow.conductors import local
from heat_taskflow.conf import api as api_conf
from heat_taskflow.conf import cloud, opts

pytestmark = pytest.mark.functional

HERE = pathlib.Path(__file__).parent
GABBITS = HERE / 'gabbits'
EXAMPLES = HERE.parents[2] / 'examples'

# The body size limit the tests run with (a small one, so a 413 needs no large file).
MAX_BODY = 65536
# The project the fixtures' stacks live in (noauth: the URL's project is the caller's).
PROJECT = 'gabbi'

# The rules the project 'denied' is refused by the tests' policy file: every rule of Heat's
# API but stacks:index (which policy.yaml uses to show the file keeps the others) and the
# per-type resource_types:* rules.
KEPT = ('stacks:index',)


# Files run a second time on the distributed path (conductors on the in-process job board).
DISTRIBUTED = ('lifecycle', 'events', 'resources', 'signal')

# Per path (legacy, distributed): its application, service and state dir.
_STATE = {}


def _app():
    """The process's WSGI application (noauth) on the legacy path, built once."""
    return _build('legacy')


def _distributed_app():
    """The same on the distributed path ([DEFAULT] convergence_engine), a database of its
    own."""
    return _build('distributed')


def _build(path):
    """The WSGI application of a path, built once per process on a fresh state dir."""
    state = _STATE.setdefault(path, {})
    if 'app' not in state:
        state_dir = tempfile.mkdtemp(prefix='heat-taskflow-gabbi-%s-' % path)
        state['state_dir'] = state_dir
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        cloud.register_opts(conf)
        api_conf.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', state_dir)
        conf.set_override('connection', 'sqlite:///%s/heat-taskflow.sqlite' % state_dir,
                          group='database')
        conf.set_override('max_request_body_size', MAX_BODY, group='api')
        conf.set_override('convergence_engine', path == 'distributed')
        # Each path's in-process job board of its own.
        conf.set_override('url', 'zake://gabbi-%s' % path, group='jobboard')
        # On this conf only: oslo_policy.opts.set_defaults changes the defaults of the
        # process-wide option objects, which every later enforcer of the worker would read.
        for group, options in policy_opts.list_opts():
            conf.register_opts(options, group=group)
        conf.set_override('policy_file', _policy_file(state_dir), group='oslo_policy')
        # Legacy operations run in the background, as in heat-taskflow-api: requests
        # return at once and the tests poll.
        service = local.stack_service(conf, background=True)
        state['service'] = service
        state['app'] = app_mod.build_app(conf, service)
        # Seconds a "slow" update waits: long enough to see it in progress and cancel it.
        os.environ['GABBI_SLOW'] = '5'
        os.environ['GABBI_BIG_BODY'] = json.dumps({'stack_name': 'big',
                                                   'padding': 'x' * MAX_BODY})
    return state['app']


def _policy_file(state_dir):
    """A policy file refusing the project 'denied' each rule but KEPT (the rule becomes
    'not project_id:denied and (its default)'): policy.yaml checks that each route asks
    for its own rule."""
    rules = {rule.name: 'not project_id:denied and (%s)' % rule.check_str
             for rule in policies.list_rules()
             if ':' in rule.name and rule.name not in KEPT
             and not rule.name.startswith('resource_types:')}
    path = pathlib.Path(state_dir) / 'policy.json'
    path.write_text(json.dumps(rules))
    return str(path)


def _close():
    for state in _STATE.values():
        state.pop('app', None)
        service = state.pop('service', None)
        if service is not None:
            service.close()
        state_dir = state.pop('state_dir', None)
        if state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
    _STATE.clear()


# -- fixtures: stacks the files read -------------------------------------------------------

def call(method, path, body=None):
    """(status, JSON body or None) of one request to the application."""
    req = webob.Request.blank(path, method=method, base_url='http://gabbi.fixture')
    req.headers['Accept'] = 'application/json'
    if body is not None:
        req.content_type = 'application/json'
        req.body = json.dumps(body).encode('utf-8')
    resp = req.get_response(_build(os.environ.get('GABBI_PATH', 'legacy')))
    data = json.loads(resp.body) if resp.body and resp.content_type == 'application/json' \
        else None
    return resp.status_int, data


def wait_settled(name, stack_id, timeout=60.0):
    """The stack once it is no longer IN_PROGRESS (AssertionError after timeout s)."""
    deadline = time.monotonic() + timeout
    while True:
        status, data = call('GET', '/v1/%s/stacks/%s/%s' % (PROJECT, name, stack_id))
        assert status == 200, (status, data)
        if not data['stack']['stack_status'].endswith('_IN_PROGRESS'):
            return data['stack']
        assert time.monotonic() < deadline, 'stack %s still %s' % (
            name, data['stack']['stack_status'])
        time.sleep(0.1)


class StackFixture(fixture.GabbiFixture):
    """Creates a stack from examples/ on the legacy path before the file's tests, waits
    for the state it should reach (or, when it does not settle, for its resource READY),
    exports its id as $ENVIRON[ENV]; deletes it after."""

    NAME = None
    TEMPLATE = None
    FILES = ()
    PARAMETERS = {}
    ENV = None
    SETTLES = True              # False: the stack stays IN_PROGRESS (a wait condition)
    READY = None                # when it does not settle: the resource to wait for
    EXPECT = 'CREATE_COMPLETE'

    def start_fixture(self):
        files = {f: (EXAMPLES / f).read_text() for f in self.FILES}
        status, data = call('POST', '/v1/%s/stacks' % PROJECT, {
            'stack_name': self.NAME, 'template': (EXAMPLES / self.TEMPLATE).read_text(),
            'files': files, 'parameters': dict(self.PARAMETERS), 'timeout_mins': 5})
        assert status == 201, (status, data)
        self.stack_id = data['stack']['id']
        os.environ[self.ENV] = self.stack_id
        if self.SETTLES:
            stack = wait_settled(self.NAME, self.stack_id)
            assert stack['stack_status'] == self.EXPECT, stack
        else:
            self.wait_ready()

    def wait_ready(self, timeout=60.0):
        """Until the resource READY of a stack that does not settle is CREATE_COMPLETE."""
        path = '/v1/%s/stacks/%s/%s/resources/%s' % (PROJECT, self.NAME, self.stack_id,
                                                     self.READY)
        deadline = time.monotonic() + timeout
        while True:
            status, data = call('GET', path)
            if status == 200 and data['resource']['resource_status'] == 'CREATE_COMPLETE':
                return
            assert time.monotonic() < deadline, (status, data)
            time.sleep(0.05)

    def stop_fixture(self):
        if getattr(self, 'stack_id', None):
            path = '/v1/%s/stacks/%s/%s' % (PROJECT, self.NAME, self.stack_id)
            status, data = call('DELETE', path)
            if status == 409:       # still in progress (a wait condition nobody signalled)
                status, data = call('POST', path + '/actions',
                                    {'cancel_without_rollback': None})
                assert status == 200, (status, data)
                wait_settled(self.NAME, self.stack_id)
                status, data = call('DELETE', path)
            assert status in (204, 404), (status, data)
            deadline = time.monotonic() + 60
            while call('GET', path)[0] != 404:        # gone: the name is free again
                assert time.monotonic() < deadline, 'stack %s not deleted' % self.NAME
                time.sleep(0.1)


class PasswordStack(StackFixture):
    """examples/random_password.yaml as stack 'pw' ($ENVIRON['PW_ID'])."""

    NAME, TEMPLATE, ENV = 'pw', 'random_password.yaml', 'PW_ID'


class NestedStack(StackFixture):
    """examples/nested_stack.yaml (a template resource, tier.yaml) as stack 'nest'."""

    NAME, TEMPLATE, FILES, ENV = 'nest', 'nested_stack.yaml', ('tier.yaml',), 'NEST_ID'


class WaitingStack(StackFixture):
    """examples/wait_condition.yaml as 'waiter': CREATE_IN_PROGRESS until its handle is
    signalled ($ENVIRON['WAIT_ID'])."""

    NAME, TEMPLATE, ENV = 'waiter', 'wait_condition.yaml', 'WAIT_ID'
    PARAMETERS = {'timeout': 120}
    SETTLES = False
    READY = 'handle'            # signalled once it exists


class OtherWaitingStack(WaitingStack):
    """A second wait condition stack, 'waiter2' ($ENVIRON['WAIT2_ID'])."""

    NAME, ENV = 'waiter2', 'WAIT2_ID'


# -- collection ----------------------------------------------------------------------------

class _Result(unittest.TestResult):
    """A unittest result that turns outcomes into pytest's (a strict xfail)."""

    def addFailure(self, test, err):
        raise err[1]

    def addError(self, test, err):
        raise err[1]

    def addSkip(self, test, reason):
        pytest.skip(reason)

    def addExpectedFailure(self, test, err):
        pytest.xfail(str(err[1]).splitlines()[0] if str(err[1]) else 'expected failure')

    def addUnexpectedSuccess(self, test):
        pytest.fail('marked xfail in its YAML file but passed: remove the mark')


def _fixture_module():
    return sys.modules[__name__]


CASES = []


def _path_of(case):
    """The path a test runs on: its suite's test_loader_name is the test's module."""
    return type(case).__module__


def pytest_generate_tests(metafunc):
    if 'gabbi_case' in metafunc.fixturenames:
        if not CASES:
            loader = unittest.TestLoader()
            legacy = driver.build_tests(str(GABBITS), loader, intercept=_app,
                                        fixture_module=_fixture_module(),
                                        test_loader_name='legacy', safe_yaml=True)
            CASES.extend((suite, case) for suite in legacy for case in suite)
            distributed = driver.build_tests(str(GABBITS), loader, intercept=_distributed_app,
                                             fixture_module=_fixture_module(),
                                             test_loader_name='distributed', safe_yaml=True)
            prefixes = tuple('%s_' % name for name in DISTRIBUTED)
            CASES.extend((suite, case) for suite in distributed for case in suite
                         if type(case).__name__.startswith(prefixes))
        # legacy: the file's name and the test's; distributed: prefixed so.
        metafunc.parametrize('gabbi_case', CASES,
                             ids=[('distributed_' if _path_of(case) == 'distributed' else '')
                                  + type(case).__name__ for _, case in CASES])


@pytest.fixture(scope='session')
def _active():
    """The suite whose fixtures run now (one at a time: files share stack names); stopped
    when a test of another file runs, and at the end of the session."""
    active = []
    yield active
    try:
        for suite in active:
            suite.stop()
    finally:
        _close()


def test_gabbi(gabbi_case, _active):
    suite, case = gabbi_case
    if suite not in _active:
        while _active:
            _active.pop().stop()
        # The path of the file whose fixtures run now ($ENVIRON['GABBI_PATH'] in the files).
        os.environ['GABBI_PATH'] = _path_of(case)
        suite.start(_Result())
        _active.append(suite)
    case.run(_Result())
