"""Every operator-lifecycle command through the real command line, on both paths.

One stack per path walks through create, show, outputs, check, mark-unhealthy, update
--existing --converge, an update cancelled in flight (with rollback), the refusals of resume
and cancel on a settled stack, events, failures and delete. The distributed path runs as in
production: a real ZooKeeper (the session's server, a board path of this test's own) and a
``heat-taskflow-conductor`` process; the command line only posts and reads. SQLite only:
the database-sensitive steps run on every backend in the engine unit tests.
"""

import signal
import subprocess
import time
import uuid

import pytest
import yaml

from tests.functional import cli as cli_mod

pytestmark = [pytest.mark.functional, pytest.mark.slow]

UPDATE_WAIT = 8.0      # seconds the cancelled update's resource takes: room for the cancel
                       # (each command line call takes a second or more on a loaded machine)


def template(value, slow_update=0):
    resources = {
        'first': {'type': 'OS::Heat::TestResource', 'properties': {'value': value}},
        'second': {'type': 'OS::Heat::TestResource',
                   'properties': {'value': {'get_attr': ['first', 'output']},
                                  'action_wait_secs': {'update': slow_update}}},
    }
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources,
                           'outputs': {'out': {'value': {'get_attr': ['second', 'output']}}}})


@pytest.fixture(params=['legacy', 'distributed'])
def path_cli(request, tmp_path, zookeeper):
    """(path, Cli) with a conductor process running for the distributed path."""
    path = request.param
    state = tmp_path / 'state'
    state.mkdir()
    text = '[DEFAULT]\nstate_dir = %s\n\n[database]\nconnection = sqlite:///%s\n' % (
        state, tmp_path / 'stacks.db')
    if path == 'distributed':
        text = text.replace('[DEFAULT]\n', '[DEFAULT]\nconvergence_engine = True\n')
        text += ('\n[jobboard]\nurl = zookeeper://%s/heat-taskflow-test/%s\n'
                 'session_timeout = 4\n\n[conductor]\nwait_timeout = 0.1\nhealth_file =\n'
                 % (zookeeper, uuid.uuid4().hex))
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text(text)
    cli = cli_mod.Cli(config, state)
    cli.manage('db', 'sync')
    conductor = None
    if path == 'distributed':
        log = open(tmp_path / 'conductor.log', 'wb')
        conductor = subprocess.Popen(
            [cli_mod.script('heat-taskflow-conductor'), '--config-file', str(config)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=cli.env)
    try:
        yield path, cli
    finally:
        if conductor is not None:
            conductor.send_signal(signal.SIGTERM)
            try:
                conductor.wait(30)
            except subprocess.TimeoutExpired:
                conductor.kill()
                conductor.wait()
            log.close()


def status(cli, name):
    return cli.value('stack', 'show', name, column='stack_status')


def wait_until(predicate, what, timeout=60):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, 'timed out waiting for ' + what
        time.sleep(0.2)


def test_lifecycle_commands_on_both_paths(path_cli, tmp_path):
    path, cli = path_cli
    name = 'life-%s' % path
    v1 = tmp_path / 'v1.yaml'
    v1.write_text(template('one'))

    created = cli.json('stack', 'create', name, '-t', v1, '--wait')
    assert created['stack_status'] == 'CREATE_COMPLETE', created
    assert created['path'] == path
    assert cli.value('stack', 'output', 'show', name, 'out', column='output_value') == 'one'

    # Nothing runs: resume and cancel refuse, naming the stack (exit 2).
    for command in ('resume', 'cancel'):
        refused = cli('stack', command, name, expect=2)
        assert name in refused.stderr, refused

    # Check, then an unhealthy resource replaced by update --existing --converge.
    assert cli.json('stack', 'check', name, '--wait')['stack_status'] == 'CHECK_COMPLETE'
    before = cli.value('stack', 'resource', 'show', name, 'first',
                       column='physical_resource_id')
    cli('stack', 'resource', 'mark-unhealthy', name, 'first', '--reason', 'broken disk')
    converged = cli.json('stack', 'update', name, '--existing', '--converge', '--wait')
    assert converged['stack_status'] == 'UPDATE_COMPLETE', converged
    after = cli.value('stack', 'resource', 'show', name, 'first',
                      column='physical_resource_id')
    assert after != before

    # An update cancelled while its slow resource runs goes back to the previous template.
    # On a machine so loaded that the cancel lands after the update ended, the update is
    # undone by a plain update back to v1 and tried again with a window twice as long.
    v2 = tmp_path / 'v2.yaml'
    for wait in (UPDATE_WAIT, 2 * UPDATE_WAIT, 4 * UPDATE_WAIT):
        v2.write_text(template('two', slow_update=wait))
        update = cli.popen('stack', 'update', name, '-t', v2, '--wait')
        wait_until(lambda: any(e['resource_status'] == 'UPDATE_IN_PROGRESS'
                               and e['resource_name'] == 'second'
                               for e in cli.json('stack', 'event', 'list', name)),
                   'the slow update to start')
        cancel = cli('stack', 'cancel', name, '--wait', '-f', 'json', expect=None)
        if cancel.returncode == 0:
            break
        assert 'no operation in progress' in cancel.stderr, cancel
        assert cli.finish(update, expect=None).returncode == 0
        reverted = cli.json('stack', 'update', name, '-t', v1, '--wait')
        assert reverted['stack_status'] == 'UPDATE_COMPLETE', reverted
    else:
        pytest.fail('the cancel never landed while the update ran')
    cancelled = cancel.json
    assert cancelled['stack_status'] == 'ROLLBACK_COMPLETE', cancelled
    assert 'cancelled' in cancelled['stack_status_reason']
    ended = cli.finish(update, expect=None)
    assert ended.returncode == 1, ended     # the update it started did not succeed
    assert cli.value('stack', 'output', 'show', name, 'out', column='output_value') == 'one'

    events = cli.json('stack', 'event', 'list', name)
    assert ('first', 'CHECK_FAILED', 'broken disk') in {
        (e['resource_name'], e['resource_status'], e['resource_status_reason'])
        for e in events}
    assert cli.json('stack', 'failures', 'list', name) == []

    cli('stack', 'delete', name, '--yes', '--wait')
    assert name not in cli.value('stack', 'list', column='Stack Name')
