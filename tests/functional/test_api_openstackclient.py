"""python-openstackclient against heat-taskflow-api, in subprocesses, exactly as a user types it:

    openstack --os-auth-type none --os-endpoint http://127.0.0.1:PORT/v1/PROJECT stack ...

One service (noauth, SQLite, legacy path) serves the whole module; every test uses stack names
of its own. Every command's exit code and output are asserted (``-f json``/``-f value``).
With ``--wait`` the client prints the stack's events on stdout before the result, so the
result is the JSON document that ends stdout (``trailing_json``) and the events before it
are asserted too: they are what ended the wait.
"""

import json
import re
import signal
import time

import pytest
from heatclient.common import template_format

from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

api_server_module = api.api_server_module

RANDOM_PASSWORD = 'examples/random_password.yaml'
NESTED = 'examples/nested_stack.yaml'
GROUP = 'examples/resource_group.yaml'
WAIT_CONDITION = 'examples/wait_condition.yaml'
BOUND = 120.0        # seconds: a guard against hangs, never a measurement

# What ``event_log_formatter`` prints for one event: time, id, [resource]: STATUS  reason
EVENT_LINE = re.compile(r'^\S+ \S+ (?P<id>\S+) \[(?P<name>[^\]]+)\]: (?P<status>[A-Z_]+)\s')

SLOW = """\
heat_template_version: 2018-08-31
description: One test resource whose create and update take as long as the parameter says.
parameters:
  wait:
    type: number
    default: 0
  value:
    type: string
    default: one
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: value}
      action_wait_secs:           # not delete: the clean-up is quick
        create: {get_param: wait}
        update: {get_param: wait}
outputs:
  value:
    value: {get_attr: [slow, output]}
"""


@pytest.fixture(scope='module')
def osc(api_server_module):
    return api.Openstack(api_server_module)


def trailing_json(result):
    """The JSON document that ends stdout (after the events --wait printed)."""
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        if line in ('{', '[', '[]', '{}') or (line[:1] in '{[' and line.rstrip()[-1:] in '}]'):
            try:
                return json.loads('\n'.join(lines[i:]))
            except ValueError:
                continue
    raise AssertionError('no JSON document ends stdout: %r' % result)


def events_printed(result):
    """(resource name, status) of every event line --wait printed on stdout."""
    out = []
    for line in result.stdout.splitlines():
        match = EVENT_LINE.match(line)
        if match:
            out.append((match.group('name'), match.group('status')))
    return out


def outputs_of(stack):
    return {o['output_key']: o['output_value'] for o in stack['outputs']}


def wait_status(osc, name, final, timeout=BOUND):
    """Poll ``stack show -f value -c stack_status`` until it leaves IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while True:
        status = osc.value('stack', 'show', name, column='stack_status')
        if not status.endswith('IN_PROGRESS') or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == final, (status, osc.server.log_tail())
    return status


def test_random_password_lifecycle(osc, tmp_path):
    name = 'pw'
    created = osc('stack', 'create', '--wait', '--poll', '1', '-t', RANDOM_PASSWORD,
                  '--parameter', 'length=12', name, '-f', 'json')
    stack = trailing_json(created)
    assert stack['stack_name'] == name
    assert stack['stack_status'] == 'CREATE_COMPLETE', created
    stack_id = stack['id']
    # The events that ended the wait: each resource's and the stack's own.
    # (the client names a resource STACK.RESOURCE once it saw the stack's own event)
    printed = events_printed(created)
    for resource in ('password', 'greeting', 'marker'):
        assert ('%s.%s' % (name, resource), 'CREATE_COMPLETE') in printed, created
    assert printed[-1] == (name, 'CREATE_COMPLETE'), created

    shown = osc.json('stack', 'show', name)
    assert shown['id'] == stack_id
    assert shown['stack_status'] == 'CREATE_COMPLETE'
    assert shown['description'].startswith('A generated password')
    assert shown['parameters']['length'] == '12'
    assert shown['parameters']['owner'] == 'operator'
    outputs = outputs_of(shown)
    assert len(outputs['password']) == 12 and outputs['password'].isalnum()
    assert outputs['greeting'] == 'Hello operator, your password has 12 characters'
    assert outputs['marker_output'] == outputs['greeting']
    assert osc.json('stack', 'show', stack_id)['stack_name'] == name      # by id too

    listed = osc.json('stack', 'list')
    mine = [s for s in listed if s['Stack Name'] == name]
    assert len(mine) == 1 and mine[0]['ID'] == stack_id
    assert mine[0]['Stack Status'] == 'CREATE_COMPLETE'

    output_list = osc.json('stack', 'output', 'list', name)
    assert {o['output_key'] for o in output_list} == {'password', 'greeting', 'marker_output'}
    assert {o['output_key']: o['description'] for o in output_list}['greeting'] == \
        'a message built from the parameters'
    greeting = osc.json('stack', 'output', 'show', name, 'greeting')
    assert greeting['output_key'] == 'greeting'
    assert greeting['output_value'] == outputs['greeting']
    everything = osc.json('stack', 'output', 'show', name, '--all')
    assert set(everything) == {'password', 'greeting', 'marker_output'}

    resources = {r['resource_name']: r for r in osc.json('stack', 'resource', 'list', name)}
    assert set(resources) == {'password', 'greeting', 'marker'}
    assert resources['password']['resource_type'] == 'OS::Heat::RandomString'
    assert resources['greeting']['resource_type'] == 'OS::Heat::Value'
    assert resources['marker']['resource_type'] == 'OS::Heat::TestResource'
    assert {r['resource_status'] for r in resources.values()} == {'CREATE_COMPLETE'}
    assert all(r['physical_resource_id'] for r in resources.values())
    marker = osc.json('stack', 'resource', 'show', name, 'marker')
    assert marker['resource_name'] == 'marker'
    assert marker['resource_status'] == 'CREATE_COMPLETE'
    assert marker['physical_resource_id'] == resources['marker']['physical_resource_id']
    assert marker['attributes']['output'] == outputs['greeting']

    events = osc.json('stack', 'event', 'list', name)
    assert all(e['id'] for e in events)
    by_resource = {}
    for event in events:
        by_resource.setdefault(event['resource_name'], []).append(event['resource_status'])
    for resource in ('password', 'greeting', 'marker'):
        assert by_resource[resource] == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE'], events
    assert by_resource[name] == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE'], events
    assert events[-1]['physical_resource_id'] == stack_id
    only_marker = osc.json('stack', 'event', 'list', name, '--resource', 'marker')
    assert [e['resource_status'] for e in only_marker] == ['CREATE_IN_PROGRESS',
                                                            'CREATE_COMPLETE']

    template = osc.json('stack', 'template', 'show', name)
    # As the client parsed and sent it (the version a string, not a YAML date).
    assert template == template_format.parse((api.REPO / RANDOM_PASSWORD).read_text())

    # Update --existing: the template and the other parameters are kept.
    updated = osc('stack', 'update', '--existing', '--wait', '--parameter', 'length=20',
                  name, '-f', 'json')
    assert trailing_json(updated)['stack_status'] == 'UPDATE_COMPLETE', updated
    assert events_printed(updated)[-1] == (name, 'UPDATE_COMPLETE'), updated
    # The marker of --wait is exclusive: nothing of the create is printed again.
    assert (name, 'CREATE_COMPLETE') not in events_printed(updated), updated
    shown = osc.json('stack', 'show', name)
    assert shown['stack_status'] == 'UPDATE_COMPLETE'
    assert shown['parameters']['length'] == '20'
    assert shown['parameters']['owner'] == 'operator'
    assert shown['updated_time']
    outputs = outputs_of(shown)
    assert len(outputs['password']) == 20
    assert outputs['greeting'] == 'Hello operator, your password has 20 characters'
    assert osc.json('stack', 'template', 'show', name) == template

    checked = osc('stack', 'check', '--wait', name, '-f', 'json')
    rows = trailing_json(checked)
    assert [(r['Stack Name'], r['Stack Status']) for r in rows] == [(name, 'CHECK_COMPLETE')]
    assert osc.value('stack', 'show', name, column='stack_status') == 'CHECK_COMPLETE'
    statuses = [e['resource_status'] for e in
                osc.json('stack', 'event', 'list', name, '--resource', 'marker')]
    assert statuses[-2:] == ['CHECK_IN_PROGRESS', 'CHECK_COMPLETE']

    # --wait ends when the stack's lookup is a 404 (its last events may not be printed)
    osc('stack', 'delete', '--wait', '--yes', name)
    gone = osc('stack', 'show', name, expect=1)
    assert 'Stack not found: %s' % name in gone.stderr + gone.stdout, gone
    assert name not in [s['Stack Name'] for s in osc.json('stack', 'list')]


def test_nested_example_update_with_files(osc):
    """The template resource (tier.yaml) travels in ``files`` as the client reads it."""
    name = 'web'
    created = osc('stack', 'create', '--wait', '--poll', '1', '-t', NESTED,
                  '--parameter', 'prefix=web', name, '-f', 'json')
    assert trailing_json(created)['stack_status'] == 'CREATE_COMPLETE', created
    outputs = outputs_of(osc.json('stack', 'show', name))
    assert outputs['endpoint'].startswith('https://web-tier.example.test/?key=')
    assert outputs['consumer'] == outputs['endpoint']
    nested = osc.json('stack', 'resource', 'list', '--nested-depth', '1', name)
    names = {(r['resource_name'], r['stack_name']) for r in nested}
    assert ('tier', name) in names and ('consumer', name) in names
    inner = {n for n, s in names if s != name}
    assert inner == {'secret', 'endpoint'}, nested

    updated = osc('stack', 'update', '--existing', '--wait', '--parameter', 'prefix=db', name,
                  '-f', 'json')
    assert trailing_json(updated)['stack_status'] == 'UPDATE_COMPLETE', updated
    outputs = outputs_of(osc.json('stack', 'show', name))
    assert outputs['endpoint'].startswith('https://db-tier.example.test/?key=')
    osc('stack', 'delete', '--wait', '--yes', name)
    assert name not in [s['Stack Name'] for s in osc.json('stack', 'list')]


def test_resource_group_grows_and_wait_condition_gets_its_signal(osc):
    created = osc('stack', 'create', '--wait', '--poll', '1', '-t', GROUP,
                  '--parameter', 'count=2', 'group', '-f', 'json')
    assert trailing_json(created)['stack_status'] == 'CREATE_COMPLETE', created
    value = osc.json('stack', 'output', 'show', 'group', 'values')['output_value']
    assert value == ['member-0', 'member-1']
    osc('stack', 'update', '--existing', '--wait', '--parameter', 'count=4', 'group')
    value = osc.json('stack', 'output', 'show', 'group', 'values')['output_value']
    assert value == ['member-0', 'member-1', 'member-2', 'member-3']

    started = osc.popen('stack', 'create', '--wait', '--poll', '1', '-t', WAIT_CONDITION,
                        'wc', '-f', 'json')
    deadline = time.monotonic() + BOUND
    while True:           # the handle exists once its resource is CREATE_COMPLETE
        listed = osc('stack', 'resource', 'list', 'wc', '-f', 'json', expect=None)
        if listed.returncode == 0 and any(
                r['resource_name'] == 'handle' and r['resource_status'] == 'CREATE_COMPLETE'
                for r in listed.json):
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.5)
    assert osc.value('stack', 'show', 'wc', column='stack_status') == 'CREATE_IN_PROGRESS'
    osc('stack', 'resource', 'signal', 'wc', 'handle',
        '--data', '{"status": "SUCCESS", "data": "ready"}')
    created = osc.finish(started)
    assert trailing_json(created)['stack_status'] == 'CREATE_COMPLETE', created
    data = osc.json('stack', 'output', 'show', 'wc', 'data')['output_value']
    assert 'ready' in json.dumps(data)
    osc('stack', 'delete', '--wait', '--yes', 'group', 'wc')
    names = [s['Stack Name'] for s in osc.json('stack', 'list')]
    assert 'group' not in names and 'wc' not in names


def test_cancel_update_rolls_back_and_cancel_create_without_rollback(tmp_path):
    """On a service of its own, stopped with room for gunicorn's graceful timeout (30 s):
    test_sigterm_after_a_cancelled_create holds the 10 s bound."""
    server = api.running(tmp_path / 'api')
    try:
        _cancel_scenario(api.Openstack(server), tmp_path)
    finally:
        server.stop(timeout=45)


def test_sigterm_after_a_cancelled_create(tmp_path):
    template = tmp_path / 'slow.yaml'
    template.write_text(SLOW)
    server = api.running(tmp_path / 'api')
    try:
        osc = api.Openstack(server)
        osc('stack', 'create', '-t', template, '--parameter', 'wait=60', 'slow')
        osc('stack', 'cancel', '--no-rollback', 'slow')
        wait_status(osc, 'slow', 'CREATE_FAILED')
        server.stop()                     # within 10 s, exit 0
    finally:
        if server.running():
            server.stop(timeout=45)


def _cancel_scenario(osc, tmp_path):
    template = tmp_path / 'slow.yaml'
    template.write_text(SLOW)
    osc('stack', 'create', '--wait', '--poll', '1', '-t', template, 'slow')
    # An update that takes a while: cancel it, the stack rolls back to the first value.
    updated = osc('stack', 'update', '--existing', '--parameter', 'wait=20',
                  '--parameter', 'value=two', 'slow', '-f', 'json')
    assert trailing_json(updated)['stack_status'] == 'UPDATE_IN_PROGRESS', updated
    cancelled = osc('stack', 'cancel', 'slow', '-f', 'json')
    assert [r['Stack Name'] for r in trailing_json(cancelled)] == ['slow']
    wait_status(osc, 'slow', 'ROLLBACK_COMPLETE')
    assert osc.json('stack', 'output', 'show', 'slow', 'value')['output_value'] == 'one'
    statuses = [e['resource_status'] for e in osc.json('stack', 'event', 'list', 'slow')
                if e['resource_name'] == 'slow']
    assert statuses[-1] == 'ROLLBACK_COMPLETE', statuses

    # A stack that is not in progress cannot be cancelled (the client's own check).
    refused = osc('stack', 'cancel', 'slow', expect=1)
    assert 'not in cancelable state' in refused.stderr, refused

    # A create cancelled without rollback fails at once; --wait ends on CREATE_FAILED.
    osc('stack', 'create', '-t', template, '--parameter', 'wait=60', 'slow2')
    assert osc.value('stack', 'show', 'slow2', column='stack_status') == 'CREATE_IN_PROGRESS'
    t0 = time.monotonic()
    cancelled = osc('stack', 'cancel', '--no-rollback', '--wait', 'slow2', expect=1)
    assert time.monotonic() - t0 < 50, 'the cancel waited for the resource to finish'
    assert 'CREATE_FAILED' in cancelled.stdout + cancelled.stderr, cancelled
    assert osc.value('stack', 'show', 'slow2', column='stack_status') == 'CREATE_FAILED'
    osc('stack', 'delete', '--wait', '--yes', 'slow', 'slow2')


def test_errors_are_heat_messages(osc, tmp_path):
    missing = osc('stack', 'show', 'no-such-stack', expect=1)
    assert 'Stack not found: no-such-stack' in missing.stderr + missing.stdout, missing

    bad = tmp_path / 'bad.yaml'
    bad.write_text('heat_template_version: 2018-08-31\nresources:\n  thing:\n'
                   '    type: OS::No::Such\n')
    refused = osc('orchestration', 'template', 'validate', '-t', bad, expect=1)
    assert 'OS::No::Such' in refused.stderr, refused
    assert refused.stderr.strip().startswith('ERROR: '), refused

    dangling = tmp_path / 'dangling.yaml'
    dangling.write_text('heat_template_version: 2018-08-31\nresources:\n  a:\n'
                        '    type: OS::Heat::None\n    depends_on: [ghost]\n')
    refused = osc('orchestration', 'template', 'validate', '-t', dangling, expect=1)
    assert 'ghost' in refused.stderr, refused

    good = osc.json('orchestration', 'template', 'validate', '-t', RANDOM_PASSWORD)
    assert good['Description'].startswith('A generated password')
    assert set(good['Parameters']) == {'length', 'owner'}
    assert good['Parameters']['length']['Default'] == 24

    created = osc('stack', 'create', '-t', bad, 'never', expect=1)
    assert 'OS::No::Such' in created.stderr, created
    assert 'never' not in [s['Stack Name'] for s in osc.json('stack', 'list')]

    osc('stack', 'create', '--wait', '--poll', '1', '-t', RANDOM_PASSWORD, 'twice')
    again = osc('stack', 'create', '-t', RANDOM_PASSWORD, 'twice', expect=1)
    assert 'ERROR: ' in again.stderr and 'twice' in again.stderr, again
    assert 'already exists' in again.stderr, again
    osc('stack', 'delete', '--wait', '--yes', 'twice')


def test_orchestration_service_commands(osc):
    versions = osc.json('orchestration', 'template', 'version', 'list')
    by_version = {v['Version']: v for v in versions}
    assert 'heat_template_version.2018-08-31' in by_version, versions
    assert by_version['heat_template_version.2018-08-31']['Type'] == 'hot'
    assert len(versions) >= 2
    aliases = [a for v in versions for a in (v.get('Aliases') or [])]
    assert any(a.endswith('rocky') for a in aliases), versions

    types = [t['Resource Type'] for t in osc.json('orchestration', 'resource', 'type', 'list')]
    for name in ('OS::Heat::None', 'OS::Heat::TestResource', 'OS::Heat::RandomString',
                 'OS::Heat::ResourceGroup', 'OS::Heat::WaitCondition'):
        assert name in types, types
    schema = osc.json('orchestration', 'resource', 'type', 'show', 'OS::Heat::RandomString')
    assert schema['resource_type'] == 'OS::Heat::RandomString'
    assert 'length' in schema['properties']

    info = osc.json('orchestration', 'build', 'info')
    assert set(info) >= {'api', 'engine'}, info
    assert info['api'].get('revision') and info['engine'].get('revision'), info


def test_ctrl_c_stops_the_service_after_a_signalled_wait_condition(tmp_path):
    """README: the service stops cleanly on Ctrl-C, which a terminal sends to the whole
    foreground process group (gunicorn's master and its workers at once)."""
    server = api.running(tmp_path / 'api')
    try:
        osc = api.Openstack(server)
        osc('stack', 'create', '-t', WAIT_CONDITION, 'wc')
        deadline = time.monotonic() + BOUND
        while osc.value('stack', 'resource', 'show', 'wc', 'handle',
                        column='resource_status') != 'CREATE_COMPLETE':
            assert time.monotonic() < deadline, server
            time.sleep(0.3)
        osc('stack', 'resource', 'signal', 'wc', 'handle', '--data', '{"status": "SUCCESS"}')
        wait_status(osc, 'wc', 'CREATE_COMPLETE')
        t0 = time.monotonic()
        server.stop(sig=signal.SIGINT, group=True)
        print('stopped by Ctrl-C in %.1f s' % (time.monotonic() - t0))
    finally:
        if server.running():
            server.kill()
