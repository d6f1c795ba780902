"""The API's own REST tests: the YAML files of gabbits/, run by gabbi in this process.

Each YAML file is a sequence of HTTP requests against the real WSGI application (the whole
pipeline: faults, versions, noauth, router, controllers) on a temporary SQLite database and
state dir, reached through gabbi's ``intercept`` (httpx's WSGI transport), with no socket.
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

from heat_taskflow.api import app as app_mod
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

_STATE = {}


def _app():
    """The process's WSGI application (noauth), built once on a fresh state dir."""
    if 'app' not in _STATE:
        state_dir = tempfile.mkdtemp(prefix='heat-taskflow-gabbi-')
        _STATE['state_dir'] = state_dir
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        cloud.register_opts(conf)
        api_conf.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', state_dir)
        conf.set_override('connection', 'sqlite:///%s/heat-taskflow.sqlite' % state_dir,
                          group='database')
        conf.set_override('max_request_body_size', MAX_BODY, group='api')
        try:
            service = local.stack_service(conf, background=True)
            _STATE['background'] = True
        except TypeError:       # the engine runs legacy operations in the request yet
            service = local.stack_service(conf)
            _STATE['background'] = False
        _STATE['service'] = service
        _STATE['app'] = app_mod.build_app(conf, service)
        # Seconds a "slow" update waits: long enough to cancel it, when the request does
        # not wait for it.
        os.environ['GABBI_SLOW'] = '60' if _STATE['background'] else '0'
        os.environ['GABBI_BIG_BODY'] = json.dumps({'stack_name': 'big',
                                                   'padding': 'x' * MAX_BODY})
    return _STATE['app']


def _close():
    _STATE.pop('app', None)
    service = _STATE.pop('service', None)
    if service is not None:
        service.close()
    state_dir = _STATE.pop('state_dir', None)
    if state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)


# -- fixtures: stacks the files read -------------------------------------------------------

def call(method, path, body=None):
    """(status, JSON body or None) of one request to the application."""
    req = webob.Request.blank(path, method=method, base_url='http://gabbi.fixture')
    req.headers['Accept'] = 'application/json'
    if body is not None:
        req.content_type = 'application/json'
        req.body = json.dumps(body).encode('utf-8')
    resp = req.get_response(_app())
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
    for the state it should reach, exports its id as $ENVIRON[ENV]; deletes it after."""

    NAME = None
    TEMPLATE = None
    FILES = ()
    PARAMETERS = {}
    ENV = None
    SETTLES = True              # False: the stack stays IN_PROGRESS (a wait condition)
    EXPECT = 'CREATE_COMPLETE'

    def start_fixture(self):
        if not self.SETTLES and not _STATE.get('background'):
            # A create that does not settle would hold the request until it times out;
            # the file's tests that need this stack are marked xfail meanwhile.
            os.environ[self.ENV] = 'not-created'
            return
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

    def stop_fixture(self):
        if getattr(self, 'stack_id', None):
            path = '/v1/%s/stacks/%s/%s' % (PROJECT, self.NAME, self.stack_id)
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


def pytest_generate_tests(metafunc):
    if 'gabbi_case' in metafunc.fixturenames:
        if not CASES:
            top = driver.build_tests(str(GABBITS), unittest.TestLoader(), intercept=_app,
                                     fixture_module=_fixture_module(),
                                     test_loader_name='gabbi', safe_yaml=True)
            CASES.extend((suite, case) for suite in top for case in suite)
        metafunc.parametrize('gabbi_case', CASES,
                             ids=[case.__class__.__name__.replace('gabbi_', '', 1)
                                  for _, case in CASES])


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
        suite.start(_Result())
        _active.append(suite)
    case.run(_Result())
