"""The legacy path through the real command line: heat-taskflow and heat-taskflow-manage run
as subprocesses, on SQLite, PostgreSQL and MariaDB (one private database per backend and
pytest-xdist worker, from the ``db_url`` fixture).

Every test creates stacks under its own names, so tests are independent of each other and of
the order (and worker) they run in; a check that "nothing was stored" looks for its own names.
Each command costs about a second of interpreter start-up, so each test groups many checks.
Engine behaviour in detail is tested in-process (tests/unit/engine); here the point is what a
user sees: exit codes, -f json / -f value output and the messages on stderr.
"""

import re
import string
import textwrap

import pytest
import yaml

from tests.functional import cli as cli_mod
from tests.functional.cli import by_key, outputs

pytestmark = pytest.mark.functional

RANDOM_PASSWORD = 'examples/random_password.yaml'
RESOURCE_GROUP = 'examples/resource_group.yaml'
NESTED_STACK = 'examples/nested_stack.yaml'
WAIT_CONDITION = 'examples/wait_condition.yaml'

# "TIME [resource]: STATUS  reason  (done/total)", as --wait prints events on stderr
EVENT_LINE = re.compile(r'^(?P<time>\S+) \[(?P<resource>[^\]]+)\]: (?P<status>[A-Z_]+)\b')


@pytest.fixture(scope='module')
def setup(db_url, tmp_path_factory):
    """The module's configuration, and what `db version` / `db sync` said on the fresh
    database (checked by test_manage_db_sync_and_version)."""
    base = tmp_path_factory.mktemp('cli')
    state_dir = base / 'state'
    state_dir.mkdir()
    config = cli_mod.write_config(base / 'heat-taskflow.conf', db_url, state_dir)
    cli = cli_mod.Cli(config, state_dir)
    fresh = cli.manage('db', 'version', expect=None)
    synced = cli.manage('db', 'sync', expect=None)
    # The stack commands would sync on their own; a failed sync is reported by the test.
    return cli, base, fresh, synced


@pytest.fixture
def cli(setup):
    return setup[0]


@pytest.fixture
def sqlite_cli(cli, db_url):
    """The cli, for tests whose subject does not depend on the database (template handling,
    examples' resource types, exit codes, and the update and rollback output): they run on
    SQLite only. The database-sensitive paths are driven on every backend by the lifecycle
    tests here (the random password example, the wait condition signalled from another
    process) and by the engine unit tests (updates, rollbacks, their events); each CLI call
    costs over a second of imports, and the whole suite must stay within its time budget."""
    if not db_url.startswith('sqlite'):
        pytest.skip('backend-independent; run on SQLite only to keep the suite in budget')
    return cli


@pytest.fixture
def tmp_templates(setup, request):
    """A directory for this test's own templates; write(name, text) returns the path."""
    directory = setup[1] / request.node.name.replace('[', '-').replace(']', '')
    directory.mkdir(exist_ok=True)

    def write(name, text):
        path = directory / name
        path.write_text(textwrap.dedent(text).lstrip())
        return str(path)

    write.directory = directory
    return write


def events_of(result):
    """(resource, status) of each event line --wait printed on stderr."""
    found = []
    for line in result.stderr_lines:
        match = EVENT_LINE.match(line)
        if match:
            found.append((match['resource'], match['status']))
    return found


def assert_waited(result, name, status):
    """--wait printed events, and the last stderr line is the final status line."""
    assert events_of(result), result
    last = result.stderr_lines[-1]
    assert last == 'Stack %s %s' % (name, status) or last.startswith(
        'Stack %s %s: ' % (name, status)), result


def stack_names(cli):
    return {row['Stack Name'] for row in cli.json('stack', 'list')}


def resources(cli, name, depth=0):
    """`stack resource list` rows: {resource_name: row}, or with depth
    {(stack_name, resource_name): row}."""
    rows = cli.json('stack', 'resource', 'list', name, '--nested-depth', depth)
    return {(r['stack_name'], r['resource_name']) if depth else r['resource_name']: r
            for r in rows}


def column(rows, key):
    """{row key: row[key]} for the dict resources() returns."""
    return {k: row[key] for k, row in rows.items()}


# -- heat-taskflow-manage -------------------------------------------------------------


def test_manage_db_sync_and_version(setup):
    cli, _, fresh, synced = setup
    assert fresh.returncode == 0, fresh
    assert fresh.value == 'None', fresh
    assert synced.returncode == 0, synced
    match = re.fullmatch(r'database at revision (\S+)', synced.value)
    assert match, synced
    revision = match[1]
    assert revision != 'None'
    assert cli.manage('db', 'version').value == revision
    # Syncing again is harmless and reports the same revision.
    assert cli.manage('db', 'sync').value == 'database at revision %s' % revision


# -- the examples ---------------------------------------------------------------------


def test_random_password_example_lifecycle(cli):
    name = 'rp'
    created = cli('stack', 'create', name, '-t', RANDOM_PASSWORD, '--wait', '-f', 'json')
    stack = created.json
    assert stack['stack_name'] == name
    assert stack['stack_status'] == 'CREATE_COMPLETE'
    assert stack['path'] == 'legacy'
    assert stack['description'].startswith('A generated password')
    assert stack['parameters'] == {'length': 24, 'owner': 'operator'}
    assert_waited(created, name, 'CREATE_COMPLETE')
    completes = [r for r, s in events_of(created) if s == 'CREATE_COMPLETE']
    assert sorted(completes) == ['greeting', 'marker', 'password']
    assert completes[-1] == 'marker'            # depends_on both others
    values = outputs(stack)
    assert values['greeting'] == 'Hello operator, your password has 24 characters'
    assert values['marker_output'] == values['greeting']
    password = values['password']
    assert len(password) == 24
    assert set(password) <= set(string.ascii_letters + string.digits)

    shown = cli.json('stack', 'show', name)
    assert shown['id'] == stack['id']
    assert shown['stack_status'] == 'CREATE_COMPLETE'
    assert outputs(shown) == values
    listed = by_key(cli.json('stack', 'list'), 'Stack Name')
    assert listed[name]['ID'] == stack['id']
    assert listed[name]['Stack Status'] == 'CREATE_COMPLETE'

    output_list = by_key(cli.json('stack', 'output', 'list', name), 'output_key')
    assert set(output_list) == {'password', 'greeting', 'marker_output'}
    assert output_list['password']['description'] == 'the generated password'
    one = cli.json('stack', 'output', 'show', name, 'password')
    assert one == {'output_key': 'password', 'output_value': password,
                   'description': 'the generated password', 'output_error': None}
    every = cli.json('stack', 'output', 'show', name, '--all')
    assert {k: v['output_value'] for k, v in every.items()} == values

    rows = resources(cli, name)
    assert {k: (v['resource_type'], v['resource_status']) for k, v in rows.items()} == {
        'password': ('OS::Heat::RandomString', 'CREATE_COMPLETE'),
        'greeting': ('OS::Heat::Value', 'CREATE_COMPLETE'),
        'marker': ('OS::Heat::TestResource', 'CREATE_COMPLETE')}
    marker = cli.json('stack', 'resource', 'show', name, 'marker')
    assert marker['attributes'] == {'output': values['greeting']}
    assert marker['physical_resource_id'] == rows['marker']['physical_resource_id']

    events = cli.json('stack', 'event', 'list', name)
    for resource in ('password', 'greeting', 'marker'):
        assert [e['resource_status'] for e in events if e['resource_name'] == resource] == [
            'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    # And the stack's own events, first and last (what ends a client's --wait).
    assert [(e['resource_name'], e['resource_status']) for e in events
            if e['resource_name'] == name] == [(name, 'CREATE_IN_PROGRESS'),
                                               (name, 'CREATE_COMPLETE')]
    assert (events[0]['resource_name'], events[-1]['resource_name']) == (name, name)
    assert len({e['id'] for e in events}) == len(events) == 6 + 2

    template = cli.json('stack', 'template', 'show', name)
    with open(cli_mod.REPO / RANDOM_PASSWORD) as f:
        original = yaml.safe_load(f)
    assert template['heat_template_version'] == '2018-08-31'
    assert template['resources'] == original['resources']
    assert template['outputs'] == original['outputs']

    # --existing with only a parameter: the password is kept, the greeting follows.
    updated = cli.json('stack', 'update', name, '--existing', '--parameter', 'owner=alice')
    assert updated['stack_status'] == 'UPDATE_COMPLETE'
    assert updated['parameters'] == {'length': 24, 'owner': 'alice'}
    assert outputs(updated) == dict(
        values, greeting='Hello alice, your password has 24 characters',
        marker_output='Hello alice, your password has 24 characters')

    deleted = cli('stack', 'delete', name, '--wait')
    assert deleted.stdout == ''
    assert_waited(deleted, name, 'DELETE_COMPLETE')
    assert sorted(r for r, s in events_of(deleted) if s == 'DELETE_COMPLETE') == [
        'greeting', 'marker', 'password']
    gone = cli('stack', 'show', name, expect=2)
    assert gone.stderr.strip() == 'stack "%s" not found' % name


def test_resource_group_example_scales_up_and_down(sqlite_cli):
    cli = sqlite_cli
    name = 'grp'
    created = cli('stack', 'create', name, '-t', RESOURCE_GROUP, '--wait', '-f', 'json')
    assert_waited(created, name, 'CREATE_COMPLETE')
    stack = created.json
    assert stack['parameters'] == {'count': 3}
    assert outputs(stack) == {'values': ['member-0', 'member-1', 'member-2'],
                              'first': 'member-0'}

    def members():
        rows = resources(cli, name, depth=1)
        top = {k[1]: row for k, row in rows.items() if k[0] == name}
        assert column(top, 'resource_type') == {'group': 'OS::Heat::ResourceGroup'}
        nested = {k: row for k, row in rows.items() if k[0] != name}
        assert len({k[0] for k in nested}) == 1       # one nested stack holds the members
        assert {r['resource_type'] for r in nested.values()} == {'OS::Heat::TestResource'}
        return {k[1]: row for k, row in nested.items()}

    first = members()
    assert set(column(first, 'resource_status').items()) == {
        ('0', 'CREATE_COMPLETE'), ('1', 'CREATE_COMPLETE'), ('2', 'CREATE_COMPLETE')}
    before = column(first, 'physical_resource_id')

    up = cli('stack', 'update', name, '--existing', '--parameter', 'count=5', '--wait',
             '-f', 'json')
    assert_waited(up, name, 'UPDATE_COMPLETE')
    assert up.json['stack_status'] == 'UPDATE_COMPLETE'
    assert outputs(up.json) == {'values': ['member-%d' % i for i in range(5)],
                                'first': 'member-0'}
    grown = column(members(), 'physical_resource_id')
    assert set(grown) == {'0', '1', '2', '3', '4'}
    assert {k: grown[k] for k in before} == before      # existing members untouched

    down = cli.json('stack', 'update', name, '--existing', '--parameter', 'count=2')
    assert down['stack_status'] == 'UPDATE_COMPLETE'
    assert down['parameters'] == {'count': 2}
    assert outputs(down) == {'values': ['member-0', 'member-1'], 'first': 'member-0'}
    assert column(members(), 'physical_resource_id') == {k: before[k] for k in ('0', '1')}

    deleted = cli('stack', 'delete', name, '--wait')
    assert_waited(deleted, name, 'DELETE_COMPLETE')
    assert events_of(deleted)[-1] == ('group', 'DELETE_COMPLETE')


def test_nested_stack_example(sqlite_cli):
    cli = sqlite_cli
    name = 'nest'
    created = cli('stack', 'create', name, '-t', NESTED_STACK, '--parameter', 'prefix=web',
                  '--wait', '-f', 'json')
    assert_waited(created, name, 'CREATE_COMPLETE')
    values = outputs(created.json)
    match = re.fullmatch(r'https://web-tier\.example\.test/\?key=([A-Za-z0-9]{12})',
                         values['endpoint'])
    assert match, values
    key = match[1]
    assert values['consumer'] == values['endpoint']

    rows = resources(cli, name, depth=1)
    assert {k[1]: r['resource_type'] for k, r in rows.items() if k[0] == name} == {
        'tier': 'tier.yaml', 'consumer': 'OS::Heat::TestResource'}
    inner = {k for k in rows if k[0] != name}
    assert {k[1] for k in inner} == {'secret', 'endpoint'}
    inner_stack = {k[0] for k in inner}
    assert len(inner_stack) == 1
    events = cli.json('stack', 'event', 'list', name, '--nested-depth', '1')
    assert {(e['stack_name'], e['resource_name'], e['resource_status']) for e in events} >= {
        (name, 'tier', 'CREATE_COMPLETE'), (name, 'consumer', 'CREATE_COMPLETE'),
        (min(inner_stack), 'secret', 'CREATE_COMPLETE'),
        (min(inner_stack), 'endpoint', 'CREATE_COMPLETE')}

    # A parameter change flows into the nested stack, updated in place: the secret (and so
    # the key) is kept, every physical id is the same.
    updated = cli.json('stack', 'update', name, '--existing', '--parameter', 'prefix=db')
    assert updated['stack_status'] == 'UPDATE_COMPLETE'
    assert outputs(updated) == {
        'endpoint': 'https://db-tier.example.test/?key=%s' % key,
        'consumer': 'https://db-tier.example.test/?key=%s' % key}
    assert column(resources(cli, name, depth=1), 'physical_resource_id') == column(
        rows, 'physical_resource_id')

    cli('stack', 'delete', name)
    result = cli('stack', 'resource', 'list', name, expect=2)
    assert result.stderr.strip() == 'stack "%s" not found' % name


def test_wait_condition_example_released_by_a_signal_from_another_process(cli):
    name = 'wc'
    started = cli.popen('stack', 'create', name, '-t', WAIT_CONDITION, '--wait', '-f', 'json')
    try:
        data = '{"status": "SUCCESS", "reason": "ready", "data": "go", "id": "web-1"}'
        # The create cannot end without the signal; until it has stored the stack, the
        # signal finds no stack or handle (exit 2) and is sent again.
        signalled = cli.retry('stack', 'resource', 'signal', name, 'handle', '--data', data,
                              until=lambda r: r.returncode != 2
                              or 'not found' not in r.stderr
                              or started[1].poll() is not None)
    finally:
        created = cli.finish(started, expect=None)
    assert signalled.returncode == 0, signalled
    assert signalled.stdout == '' and signalled.stderr == ''
    assert created.returncode == 0, created
    assert_waited(created, name, 'CREATE_COMPLETE')
    assert [r for r, s in events_of(created) if s == 'CREATE_COMPLETE'] == ['handle', 'ready']
    stack = created.json
    assert stack['stack_status'] == 'CREATE_COMPLETE'
    assert outputs(stack) == {'data': '{"web-1": "go"}'}

    deleted = cli('stack', 'delete', name, '--wait')
    assert_waited(deleted, name, 'DELETE_COMPLETE')


# -- updates ----------------------------------------------------------------------------

UPDATE_V1 = '''
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
  tag: {type: string, default: r1}
resources:
  inplace:
    type: OS::Heat::TestResource
    properties: {value: {get_param: word}}
  replaced:
    type: OS::Heat::TestResource
    properties: {value: {get_param: tag}, update_replace: true}
  removed:
    type: OS::Heat::TestResource
    properties: {value: bye}
outputs:
  word: {value: {get_attr: [inplace, output]}}
  tag: {value: {get_attr: [replaced, output]}}
'''

UPDATE_V2 = '''
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
  tag: {type: string, default: r1}
resources:
  inplace:
    type: OS::Heat::TestResource
    properties: {value: {get_param: word}}
  replaced:
    type: OS::Heat::TestResource
    properties: {value: {get_param: tag}, update_replace: true}
  added:
    type: OS::Heat::TestResource
    properties: {value: {get_attr: [inplace, output]}}
outputs:
  word: {value: {get_attr: [inplace, output]}}
  tag: {value: {get_attr: [replaced, output]}}
  added: {value: {get_attr: [added, output]}}
'''

# Changes inplace, replaces replaced (tag back to its default), removes added, and adds a
# resource that fails: the update rolls back to UPDATE_V2 with its parameters.
UPDATE_V3_FAILS = '''
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: one}
  tag: {type: string, default: r1}
resources:
  inplace:
    type: OS::Heat::TestResource
    properties: {value: changed}
  replaced:
    type: OS::Heat::TestResource
    properties: {value: {get_param: tag}, update_replace: true}
  broken:
    type: OS::Heat::TestResource
    depends_on: inplace
    properties: {value: x, fail: true}
outputs:
  word: {value: {get_attr: [inplace, output]}}
'''


def test_update_in_place_with_replacement_adding_removing_and_failed_rollback(
        sqlite_cli, tmp_templates):
    # SQLite only: the same update, rollback and update after it on every backend are
    # tests/unit/engine/test_legacy_operations.py's.
    cli = sqlite_cli
    name = 'upd'
    v1 = tmp_templates('v1.yaml', UPDATE_V1)
    v2 = tmp_templates('v2.yaml', UPDATE_V2)
    v3 = tmp_templates('v3.yaml', UPDATE_V3_FAILS)
    created = cli.json('stack', 'create', name, '-t', v1)
    assert created['stack_status'] == 'CREATE_COMPLETE'
    assert outputs(created) == {'word': 'one', 'tag': 'r1'}
    before = column(resources(cli, name), 'physical_resource_id')
    assert set(before) == {'inplace', 'replaced', 'removed'}

    updated = cli('stack', 'update', name, '-t', v2, '--parameter', 'word=two',
                  '--parameter', 'tag=r2', '--wait', '-f', 'json')
    assert_waited(updated, name, 'UPDATE_COMPLETE')
    stack = updated.json
    assert stack['stack_status'] == 'UPDATE_COMPLETE'
    assert stack['parameters'] == {'word': 'two', 'tag': 'r2'}
    assert outputs(stack) == {'word': 'two', 'tag': 'r2', 'added': 'two'}
    seen = set(events_of(updated))
    assert {('inplace', 'UPDATE_COMPLETE'), ('removed', 'DELETE_COMPLETE'),
            ('added', 'CREATE_COMPLETE'), ('replaced', 'CREATE_COMPLETE')} <= seen
    rows = resources(cli, name)
    assert column(rows, 'resource_status') == {
        'inplace': 'UPDATE_COMPLETE', 'replaced': 'CREATE_COMPLETE',
        'added': 'CREATE_COMPLETE'}
    after = column(rows, 'physical_resource_id')
    assert after['inplace'] == before['inplace']            # updated in place
    assert after['replaced'] != before['replaced']          # update_replace: a new one

    failed = cli('stack', 'update', name, '-t', v3, '--wait', '-f', 'json', expect=1)
    stack = failed.json
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE'
    assert "resource 'broken'" in stack['stack_status_reason']
    assert 'Update failed' in stack['stack_status_reason']
    assert_waited(failed, name, 'ROLLBACK_COMPLETE')
    assert "resource 'broken'" in failed.stderr_lines[-1]
    assert ('broken', 'CREATE_FAILED') in events_of(failed)
    assert outputs(stack) == {'word': 'two', 'tag': 'r2', 'added': 'two'}
    assert stack['parameters'] == {'word': 'two', 'tag': 'r2'}
    rolled_back = column(resources(cli, name), 'physical_resource_id')
    assert set(rolled_back) == {'inplace', 'replaced', 'added'}
    assert rolled_back['inplace'] == before['inplace']
    template = cli.json('stack', 'template', 'show', name)
    assert template['heat_template_version'] == '2018-08-31'
    assert set(template['resources']) == {'inplace', 'replaced', 'added'}
    assert set(template['outputs']) == {'word', 'tag', 'added'}
    assert template['resources']['inplace']['properties'] == {'value': {'get_param': 'word'}}

    # After a rolled-back update the stack can still be updated (back to v1: 'added' goes,
    # 'removed' comes back).
    again = cli('stack', 'update', name, '-t', v1, '--parameter', 'word=three', '--wait',
                '-f', 'json')
    assert again.json['stack_status'] == 'UPDATE_COMPLETE'
    assert outputs(again.json) == {'word': 'three', 'tag': 'r1'}
    assert {('added', 'DELETE_COMPLETE'), ('removed', 'CREATE_COMPLETE')} <= set(
        events_of(again))

    cli('stack', 'delete', name)


# -- failures ---------------------------------------------------------------------------

FAILING = '''
heat_template_version: 2018-08-31
resources:
  good:
    type: OS::Heat::TestResource
    properties: {value: ok}
  bad:
    type: OS::Heat::TestResource
    depends_on: good
    properties: {value: boom, fail: true}
outputs:
  good: {value: {get_attr: [good, output]}}
'''


def test_failing_resource_rolls_the_create_back_unless_disabled(sqlite_cli, tmp_templates):
    # SQLite only: the rollback, its events' order and disable_rollback on every backend are
    # tests/unit/engine/test_legacy_operations.py's.
    cli = sqlite_cli
    template = tmp_templates('failing.yaml', FAILING)
    name = 'fails'
    created = cli('stack', 'create', name, '-t', template, '--wait', '-f', 'json', expect=1)
    stack = created.json
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE'
    reason = stack['stack_status_reason']
    assert 'Create failed' in reason and "resource 'bad'" in reason, reason
    assert_waited(created, name, 'ROLLBACK_COMPLETE')
    assert created.stderr_lines[-1] == 'Stack %s ROLLBACK_COMPLETE: %s' % (name, reason)
    seen = events_of(created)
    assert seen.index(('bad', 'CREATE_FAILED')) < seen.index(('good', 'DELETE_COMPLETE'))
    assert cli.json('stack', 'resource', 'list', name) == []
    assert cli.value('stack', 'show', name, column='stack_status') == 'ROLLBACK_COMPLETE'
    events = cli.json('stack', 'event', 'list', name, '--resource', 'bad')
    assert [e['resource_status'] for e in events] == [
        'CREATE_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE']
    assert 'Test Resource failed' in events[1]['resource_status_reason']

    kept = 'fails-kept'
    created = cli('stack', 'create', kept, '-t', template, '--disable-rollback', '-f', 'json',
                  expect=1)
    stack = created.json
    assert stack['stack_status'] == 'CREATE_FAILED'
    assert stack['disable_rollback'] is True
    assert "resource 'bad'" in stack['stack_status_reason']
    # Without --wait only the failure is reported on stderr.
    assert created.stderr_lines == ['Stack %s CREATE_FAILED: %s'
                                    % (kept, stack['stack_status_reason'])]
    rows = resources(cli, kept)
    assert column(rows, 'resource_status') == {'good': 'CREATE_COMPLETE',
                                               'bad': 'CREATE_FAILED'}
    assert rows['bad']['physical_resource_id'] is None

    # Both can be deleted.
    cli('stack', 'delete', name)
    deleted = cli('stack', 'delete', kept, '--wait')
    assert_waited(deleted, kept, 'DELETE_COMPLETE')
    assert ('good', 'DELETE_COMPLETE') in events_of(deleted)


# -- bad input --------------------------------------------------------------------------

BAD_TEMPLATES = {
    # name: (text, what stderr must contain)
    'syntax.yaml': ('''
        heat_template_version: 2018-08-31
        resources:
          a:
            type: OS::Heat::None
           bad: [
        ''', [r'syntax\.yaml:5: ', 'invalid YAML']),
    'function.yaml': ('''
        heat_template_version: 2015-04-30
        resources:
          a:
            type: OS::Heat::TestResource
            properties:
              value: {yaql: {expression: $.data, data: x}}
        ''', [r'function\.yaml:6: ', 'resources.a.properties.value',
              'function "yaql" is not available in heat_template_version 2015-04-30']),
    'attr.yaml': ('''
        heat_template_version: 2018-08-31
        resources:
          a:
            type: OS::Heat::TestResource
            properties:
              value: {get_attr: [nothere, output]}
        ''', [r'attr\.yaml:6: ', 'resources.a.properties.value', '"nothere"',
              'not defined']),
    'type.yaml': ('''
        heat_template_version: 2018-08-31
        resources:
          server:
            type: OS::NoSuch::Thing
        ''', ['resources.server', 'unknown resource type "OS::NoSuch::Thing"']),
    'getfile.yaml': ('''
        heat_template_version: 2018-08-31
        resources:
          a:
            type: OS::Heat::TestResource
            properties:
              value: {get_file: missing.txt}
        ''', [r'missing\.txt not found', r'getfile\.yaml']),
}


def test_bad_input_exits_2_naming_the_problem_and_stores_nothing(sqlite_cli, tmp_templates):
    cli = sqlite_cli
    attempted = []
    for filename, (text, expected) in BAD_TEMPLATES.items():
        path = tmp_templates(filename, text)
        name = 'bad-' + filename.split('.')[0]
        attempted.append(name)
        result = cli('stack', 'create', name, '-t', path, '--wait', expect=2)
        assert result.stdout == '', result
        for pattern in expected:
            assert re.search(pattern, result.stderr), (pattern, result)

    result = cli('stack', 'create', 'bad-range', '-t', RANDOM_PASSWORD,
                 '--parameter', 'length=4', expect=2)
    attempted.append('bad-range')
    assert re.search(r'random_password\.yaml:7: parameters\.length: ', result.stderr), result
    assert 'between 8 and 64 characters' in result.stderr
    assert 'value 4' in result.stderr
    result = cli('stack', 'create', 'bad-param', '-t', RANDOM_PASSWORD,
                 '--parameter', 'colour=red', expect=2)
    attempted.append('bad-param')
    assert "parameter 'colour'" in result.stderr and 'not defined' in result.stderr, result

    assert not set(attempted) & stack_names(cli)

    # A name already in use, and operations on a stack that does not exist.
    cli('stack', 'create', 'taken', '-t', RANDOM_PASSWORD)
    result = cli('stack', 'create', 'taken', '-t', RANDOM_PASSWORD, expect=2)
    assert result.stderr.strip() == 'stack "taken" already exists'
    for args in (('stack', 'update', 'missing', '--existing', '--parameter', 'owner=x'),
                 ('stack', 'delete', 'missing', '--wait'),
                 ('stack', 'resource', 'signal', 'missing', 'handle')):
        result = cli(*args, expect=2)
        assert result.stderr.strip() == 'stack "missing" not found', result
        assert result.stdout == ''
    result = cli('stack', 'resource', 'show', 'taken', 'nope', expect=2)
    assert result.stderr.strip() == 'resource "nope" not found in stack "taken"'


HIDDEN = '''
heat_template_version: 2018-08-31
description: a hidden parameter
parameters:
  secret: {type: string, hidden: true, default: s3cr3t, description: never shown}
  plain: {type: string, default: visible}
resources:
  a:
    type: OS::Heat::TestResource
    properties: {value: {get_param: secret}}
outputs:
  echoed: {value: {get_attr: [a, output]}}
'''


def test_template_validate_and_hidden_parameters(sqlite_cli, tmp_templates):
    cli = sqlite_cli
    described = cli.json('template', 'validate', '-t', RANDOM_PASSWORD)
    assert described['Description'].startswith('A generated password')
    assert described['Parameters']['length'] == {
        'Type': 'Number', 'Description': '', 'Label': 'length', 'NoEcho': 'false',
        'Default': 24,
        'Constraints': [{'range': {'min': 8, 'max': 64},
                         'description': 'between 8 and 64 characters'}]}
    assert described['Parameters']['owner']['Default'] == 'operator'
    assert described['Parameters']['owner']['Description'] == 'who the password is for'
    assert described['ParameterGroups'] == []

    result = cli('template', 'validate', '-t', RANDOM_PASSWORD, '--parameter', 'length=99',
                 expect=2)
    assert 'parameters.length' in result.stderr and 'between 8 and 64' in result.stderr
    bad = tmp_templates('function.yaml', BAD_TEMPLATES['function.yaml'][0])
    result = cli('template', 'validate', '-t', bad, expect=2)
    assert re.search(r'function\.yaml:6: .*"yaql"', result.stderr), result
    assert result.stdout == ''

    hidden = tmp_templates('hidden.yaml', HIDDEN)
    params = cli.json('template', 'validate', '-t', hidden)['Parameters']
    assert params['secret']['NoEcho'] == 'true'
    assert params['secret']['Default'] == '******'
    assert params['plain']['Default'] == 'visible'

    name = 'hidden'
    created = cli.json('stack', 'create', name, '-t', hidden, '--parameter', 'secret=t0p')
    assert created['parameters'] == {'secret': '******', 'plain': 'visible'}
    assert outputs(created) == {'echoed': 't0p'}
    shown = cli('stack', 'show', name, '-f', 'json')
    assert shown.json['parameters'] == {'secret': '******', 'plain': 'visible'}
    assert 't0p' not in shown.json['parameters'].values()
    # --existing keeps the hidden value it cannot show.
    updated = cli.json('stack', 'update', name, '--existing', '--parameter', 'plain=p2')
    assert updated['parameters'] == {'secret': '******', 'plain': 'p2'}
    assert outputs(updated) == {'echoed': 't0p'}


def test_signal_to_a_resource_that_takes_no_signals_is_refused(sqlite_cli):
    cli = sqlite_cli
    name = 'nosignal'
    cli('stack', 'create', name, '-t', RANDOM_PASSWORD)
    result = cli('stack', 'resource', 'signal', name, 'marker', '--data', '{}', expect=None)
    assert result.returncode == 2, result
    assert result.stderr.strip().endswith(
        'resource "marker" of stack "nosignal" is of type OS::Heat::TestResource, which does not '
        'take signals'), result.stderr


# -- README -----------------------------------------------------------------------------


def test_readme_first_command_on_embedded_defaults(tmp_path):
    """README's fresh-machine deploy: no configuration file, state in
    $HEAT_TASKFLOW_STATE_DIR (SQLite)."""
    env_cli = cli_mod.Cli('unused', tmp_path)
    env_cli.argv = lambda program, args: [cli_mod.script(program)] + [str(a) for a in args]
    created = env_cli('stack', 'create', 'demo', '-t', RANDOM_PASSWORD, '--wait')
    assert_waited(created, 'demo', 'CREATE_COMPLETE')
    shown = env_cli('stack', 'output', 'show', 'demo', '--all', '-f', 'json').json
    assert shown['greeting']['output_value'] == (
        'Hello operator, your password has 24 characters')
    assert (tmp_path / 'heat-taskflow.sqlite').exists()
