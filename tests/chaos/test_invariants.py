"""The chaos run's five checks (tests/chaos/invariants.py) on synthetic runs.

A run is built in a database made with the project's own schema (Database.sync, the
alembic revisions: SQLite; one test on every backend of the ``database`` fixture) and a
fake cloud whose audit is a list: ``clean_run`` is a run
that keeps every promise (a replacement in one traversal, a resource created again in
another traversal, a workload failure it expected, a deleted stack whose objects are gone,
a server's own port). Each test plants one defect in it and checks that exactly its check
finds it, naming what is at fault; the clean run proves that no check fails for nothing.
"""

import json
import shutil
import uuid

import pytest
import sqlalchemy as sa

from heat_taskflow.persistence import api
from heat_taskflow.persistence import database as database_mod
from tests.chaos import invariants

PROJECT = 'demo'
NEW = object()


def token(stack_id):
    return 'htf-%s-%s' % (stack_id.replace('-', ''), uuid.uuid4().hex[:16])


class FakeCloud:
    """What the checks ask a SimCloud: ``audit()`` and ``seeded``."""

    def __init__(self):
        self.creations = []
        self.seeded = set()

    def make(self, kind, token=None, parent=None, deleted=False, seeded=False):
        seq = len(self.creations) + 1
        obj_id = str(uuid.uuid4())
        self.creations.append({'seq': seq, 'kind': kind, 'id': obj_id, 'token': token,
                               'parent': parent, 'created_at': float(seq),
                               'deleted_at': float(seq + 100) if deleted else None,
                               'deleted_by': 'api' if deleted else None})
        if seeded:
            self.seeded.add(seq)
        return obj_id

    def audit(self):
        return {'creations': [dict(c) for c in self.creations], 'summary': {}}


class Run:
    """A database with the project's schema and a fake cloud, and ways to fill them."""

    def __init__(self, database, traversal_column=True):
        self.db = database
        self.url = database.url.render_as_string(hide_password=False)
        with self.db.engine.begin() as conn:
            columns = {c['name'] for c in sa.inspect(conn).get_columns('event')}
            # The event.traversal_id column as branch atomic-actions adds it (or without).
            if traversal_column and 'traversal_id' not in columns:
                conn.exec_driver_sql('ALTER TABLE event ADD COLUMN traversal_id VARCHAR(36)')
            if not traversal_column and 'traversal_id' in columns:
                conn.exec_driver_sql('ALTER TABLE event DROP COLUMN traversal_id')
        self.event_table = sa.Table('event', sa.MetaData(), autoload_with=self.db.engine)
        self.cloud = FakeCloud()
        self.operations = []
        self.names = []

    def stack(self, name, action='CREATE', status='COMPLETE', owner=None, deleted=False,
              reason=None):
        template = api.raw_template_create(self.db, {'heat_template_version': '2021-04-16'})
        row = api.stack_create(
            self.db, name=name, project_id=PROJECT, raw_template_id=template.id,
            action=action, status=status, status_reason=reason, owner_id=owner,
            nested_depth=0 if owner is None else 1, convergence=True,
            current_traversal=str(uuid.uuid4()),
            deleted_at=api.utcnow() if deleted else None)
        if owner is None:
            self.names.append(name)
        return row.id

    def resource(self, stack_id, name, physical_id=None, intent_token=None):
        row = api.resource_create(self.db, stack_id=stack_id, name=name,
                                  type='OS::Nova::Server', physical_resource_id=physical_id,
                                  action='CREATE', status='COMPLETE')
        if intent_token is not None:
            api.resource_data_set(self.db, row.id, 'intent_token', intent_token)
        return row.id

    def event(self, stack_id, name, action, status, physical_id=None, traversal=None):
        values = dict(uuid=str(uuid.uuid4()), stack_id=stack_id, resource_name=name,
                      physical_resource_id=physical_id, resource_type='OS::Nova::Server',
                      resource_action=action, resource_status=status,
                      created_at=api.utcnow())
        if 'traversal_id' in self.event_table.c:
            values['traversal_id'] = traversal
        with self.db.engine.begin() as conn:
            return conn.execute(self.event_table.insert().values(**values)) \
                .inserted_primary_key[0]

    def stack_event(self, stack_id, name, action, status):
        """The stack's own event, as the engine writes it (no traversal id)."""
        values = api.stack_event(stack_id, name, action, status, 'reason')
        values.update(uuid=str(uuid.uuid4()), created_at=api.utcnow())
        with self.db.engine.begin() as conn:
            conn.execute(self.event_table.insert().values(**values))

    def traversal(self, stack_id, name, action, resources, traversal=NEW):
        """A traversal's events: the stack's IN_PROGRESS, each (resource, physical id)'s
        IN_PROGRESS and COMPLETE, the stack's COMPLETE; traversal: its id, NEW for a new
        one, None for events without."""
        if traversal is NEW:
            traversal = str(uuid.uuid4())
        self.stack_event(stack_id, name, action, 'IN_PROGRESS')
        for resource, physical_id in resources:
            self.event(stack_id, resource, action, 'IN_PROGRESS', physical_id, traversal)
            self.event(stack_id, resource, action, 'COMPLETE', physical_id, traversal)
        self.stack_event(stack_id, name, action, 'COMPLETE')
        return traversal

    def op(self, op, stack, stack_id, expected, status, reason='', killed_cli=False):
        self.operations.append({'stream': 0, 'op': op, 'stack': stack, 'stack_id': stack_id,
                                'expected': expected, 'status': status, 'reason': reason,
                                'started': 0.0, 'ended': 1.0, 'killed_cli': killed_cli})

    def check(self, **kwargs):
        return invariants.check(self.url, self.cloud, self.operations, self.names, **kwargs)


def clean_run(run, traversal_ids=True):
    """A run that keeps every promise; returns what the tests plant defects on."""
    t = (lambda: str(uuid.uuid4())) if traversal_ids else (lambda: None)
    c = run.cloud
    c.make('networks', seeded=True)                        # devstack's: no token
    # Stack web: created, then updated with its server replaced (one traversal: the new
    # server's CREATE_COMPLETE and the old one's DELETE_COMPLETE).
    web = run.stack('web', action='UPDATE')
    old_token, new_token = token(web), token(web)
    old_server = c.make('servers', old_token, deleted=True)
    c.make('ports', old_token + '#port-0', parent=old_server, deleted=True)
    server = c.make('servers', new_token)
    c.make('ports', new_token + '#port-0', parent=server)      # the server's own port
    run.resource(web, 'server', server, new_token)
    run.traversal(web, 'web', 'CREATE', [('server', old_server)], t())
    run.traversal(web, 'web', 'UPDATE', [('server', server)], t())
    run.event(web, 'server', 'DELETE', 'COMPLETE', old_server, traversal=None)
    # Nested stack of web with a volume, created, then resumed (CREATE_COMPLETE again in
    # another traversal is no double).
    inner = run.stack('web-inner', owner=web)
    volume_token = token(inner)
    volume = c.make('volumes', volume_token)
    run.resource(inner, 'volume', volume, volume_token)
    run.traversal(inner, 'web-inner', 'CREATE', [('volume', volume)], t())
    run.traversal(inner, 'web-inner', 'CREATE', [('volume', volume)], t())
    # A replacement within one traversal: two rows named 'disk', two physical ids.
    first, second = c.make('volumes', token(inner), deleted=True), c.make('volumes')
    run.traversal(inner, 'web-inner', 'UPDATE', [('disk', first), ('disk', second)], t())
    # Stack db: created and deleted; nothing of it is live.
    gone = run.stack('db', action='DELETE', deleted=True)
    c.make('ports', token(gone), deleted=True)
    run.traversal(gone, 'db', 'CREATE', [('port', 'p1')], t())
    # Stack bad: the workload made it fail.
    bad = run.stack('bad', status='FAILED', reason='Resource CREATE failed: boom')
    run.op('create', 'web', web, 'CREATE_COMPLETE', 'CREATE_COMPLETE')
    run.op('update', 'web', web, 'UPDATE_COMPLETE', 'UPDATE_COMPLETE')
    run.op('create', 'db', gone, 'CREATE_COMPLETE', 'CREATE_COMPLETE')
    run.op('delete', 'db', gone, 'DELETE_COMPLETE', 'NOT_FOUND')
    run.op('delete', 'db', gone, 'DELETE_COMPLETE', None, killed_cli=True)
    run.op('create', 'bad', bad, 'FAILED_BY_WORKLOAD', 'CREATE_FAILED',
           'Resource CREATE failed: boom')
    return {'web': web, 'inner': inner, 'gone': gone, 'bad': bad, 'server': server,
            'old_server': old_server, 'volume': volume}


@pytest.fixture(scope='module')
def schema(tmp_path_factory):
    """A SQLite file with the schema, synced once per module (a sync takes about a second)."""
    path = tmp_path_factory.mktemp('schema') / 'heat-taskflow.sqlite'
    database = database_mod.Database('sqlite:///%s' % path)
    database.sync()
    database.dispose()
    return path


@pytest.fixture
def run(schema, tmp_path):
    """A Run on a new SQLite database (test_every_check_on_every_backend: the others)."""
    path = tmp_path / 'heat-taskflow.sqlite'
    shutil.copyfile(schema, path)
    path.chmod(0o600)           # as Database makes its files (private_files)
    database = database_mod.Database('sqlite:///%s' % path)
    yield Run(database)
    database.dispose()


def only(report, check, number=1):
    """The report found number defects of one check, and none of the others."""
    expected = dict.fromkeys(invariants.CHECKS, 0)
    expected[check] = number
    assert report.counts == expected, report.problems
    assert not report.ok
    assert len(report.problems) == number
    return report.problems


def test_a_clean_run_passes_every_check(run):
    clean_run(run)
    report = run.check()
    assert report.ok, report.problems
    assert report.counts == dict.fromkeys(invariants.CHECKS, 0)
    data = json.loads(json.dumps(report.to_dict()))
    assert data['ok'] is True and data['problems'] == []
    # The DELETE_COMPLETE written without a traversal id is the only fallback.
    assert any('1 COMPLETE events of 1 stacks carry no traversal' in n for n in report.notes)


def test_stuck_finds_a_nested_stack_in_progress(run):
    ids = clean_run(run)
    api.stack_update(run.db, ids['inner'], {'status': 'IN_PROGRESS'})
    run.stack('left', action='DELETE', status='IN_PROGRESS', deleted=True)  # deleted: fine
    [problem] = only(run.check(), 'stuck')
    assert "stack 'web-inner' (%s) nested in 'web'" % ids['inner'] in problem
    assert 'CREATE_IN_PROGRESS' in problem


@pytest.mark.parametrize('reason', ['Posting failure: session expired',
                                    "resource 'server': the job of x did not finish in 5 "
                                    'attempts ([conductor] max_attempts)',
                                    'resource actions did not finish within the stack timeout'])
def test_failed_names_the_infrastructure(run, reason):
    ids = clean_run(run)
    run.op('update', 'web', ids['web'], 'UPDATE_COMPLETE', 'UPDATE_FAILED', reason)
    [problem] = only(run.check(), 'failed')
    assert "update of stack 'web' (%s)" % ids['web'] in problem
    assert 'ended UPDATE_FAILED, expected UPDATE_COMPLETE: infrastructure' in problem


def test_failed_infrastructure_is_never_the_workloads(run):
    ids = clean_run(run)
    run.op('create', 'bad', ids['bad'], 'FAILED_BY_WORKLOAD', 'CREATE_FAILED',
           'Resource CREATE failed: ConnectionLoss')
    [problem] = only(run.check(), 'failed')
    assert "infrastructure (matches 'ConnectionLoss'), not the workload's" in problem


def test_failed_a_workload_failure_not_expected(run):
    ids = clean_run(run)
    run.op('create', 'web', ids['web'], 'CREATE_COMPLETE', 'CREATE_FAILED',
           'Resource CREATE failed: boom')
    [problem] = only(run.check(), 'failed')
    assert 'not the infrastructure' in problem and 'boom' in problem


def test_failed_a_stack_meant_to_fail_that_did_not(run):
    ids = clean_run(run)
    run.op('create', 'bad', ids['bad'], 'FAILED_BY_WORKLOAD', 'CREATE_COMPLETE')
    [problem] = only(run.check(), 'failed')
    assert 'expected FAILED_BY_WORKLOAD: the workload meant it to fail' in problem


def test_failed_a_killed_command_line_is_judged_by_the_database(run):
    ids = clean_run(run)
    run.op('delete', 'web', ids['web'], 'DELETE_COMPLETE', None, killed_cli=True)
    [problem] = only(run.check(), 'failed')
    assert 'ended UPDATE_COMPLETE (command line killed; state from the database)' in problem


def test_failed_a_delete_the_database_does_not_confirm(run):
    ids = clean_run(run)
    run.op('delete', 'web', ids['web'], 'DELETE_COMPLETE', 'NOT_FOUND')
    [problem] = only(run.check(), 'failed')
    assert 'ended NOT_FOUND, expected DELETE_COMPLETE: the database has the stack live ' \
        '(UPDATE_COMPLETE)' in problem


def test_failed_custom_infrastructure_reasons(run):
    ids = clean_run(run)
    run.op('create', 'bad', ids['bad'], 'FAILED_BY_WORKLOAD', 'CREATE_FAILED',
           'injected failure of servers.create (after acting)')
    assert run.check().ok
    [problem] = only(run.check(infrastructure_reasons=('injected failure',)), 'failed')
    assert "infrastructure (matches 'injected failure')" in problem


def test_duplicates_finds_a_token_made_twice(run):
    ids = clean_run(run)
    [server_token] = [c['token'] for c in run.cloud.creations if c['id'] == ids['server']]
    run.cloud.make('servers', server_token, deleted=True)
    [problem] = only(run.check(), 'duplicates')
    assert 'token %s' % server_token in problem
    assert "stack 'web' (%s) resource 'server'" % ids['web'] in problem
    assert 'made 2 times' in problem and '(1 live)' in problem


def test_orphans_finds_what_a_deleted_stack_left(run):
    ids = clean_run(run)
    port = run.cloud.make('ports', token(ids['gone']))
    run.event(ids['gone'], 'port', 'DELETE', 'COMPLETE', port)
    [problem] = only(run.check(), 'orphans')
    assert 'ports %s' % port in problem
    assert "its stack 'db' (%s) is deleted" % ids['gone'] in problem
    assert "last event: resource 'port'" in problem


def test_orphans_of_a_nested_stack_whose_parent_is_deleted(run):
    ids = clean_run(run)
    with run.db.engine.begin() as conn:     # the parent only, behind the engine's back
        conn.execute(sa.text('UPDATE stack SET deleted_at = :now WHERE id = :id'),
                     {'now': api.utcnow(), 'id': ids['web']})
    problems = only(run.check(), 'orphans', 3)      # the server, its port, the volume
    assert any('volumes %s' % ids['volume'] in p and "its stack 'web-inner' (%s) nested in "
               "'web' is deleted (a stack it is in)" % ids['inner'] in p for p in problems)


def test_orphans_finds_what_no_row_owns(run):
    ids = clean_run(run)
    server = run.cloud.make('servers', token(ids['web']))
    port = run.cloud.make('ports', token(ids['web']) + '#port-0', parent=server)
    problems = only(run.check(), 'orphans', 2)
    assert any('servers %s' % server in p and "no resource row of live stack 'web'" in p
               for p in problems)
    assert any('ports %s' % port in p for p in problems)


def test_orphans_a_server_port_outlives_its_server(run):
    ids = clean_run(run)
    [old_port] = [c for c in run.cloud.creations if c['parent'] == ids['old_server']]
    old_port['deleted_at'] = None
    [problem] = only(run.check(), 'orphans')
    assert 'ports %s' % old_port['id'] in problem


def test_orphans_a_stack_never_recorded(run):
    clean_run(run)
    missing = str(uuid.uuid4())
    run.cloud.make('volumes', token(missing))
    [problem] = only(run.check(), 'orphans')
    assert 'its stack %s is not in the database' % missing.replace('-', '') in problem


def test_doubled_in_one_traversal(run):
    ids = clean_run(run)
    traversal = run.traversal(ids['inner'], 'web-inner', 'UPDATE',
                              [('volume', ids['volume'])])
    run.event(ids['inner'], 'volume', 'UPDATE', 'COMPLETE', ids['volume'], traversal)
    [problem] = only(run.check(), 'doubled')
    assert "resource 'volume' of stack 'web-inner'" in problem
    assert 'UPDATE_COMPLETE 2 times in traversal %s' % traversal in problem


def test_doubled_fallback_without_traversal_ids(run):
    ids = clean_run(run, traversal_ids=False)
    report = run.check()
    assert report.ok, report.problems
    assert any('event.traversal_id is NULL' in n for n in report.notes)
    # A re-run's late write, after the stack's own UPDATE_COMPLETE: the same window.
    run.traversal(ids['inner'], 'web-inner', 'UPDATE', [('volume', ids['volume'])], None)
    run.event(ids['inner'], 'volume', 'UPDATE', 'COMPLETE', ids['volume'])
    [problem] = only(run.check(), 'doubled')
    assert "resource 'volume' of stack 'web-inner'" in problem
    assert 'UPDATE_COMPLETE 2 times in one window' in problem and 'fallback' in problem


def test_doubled_fallback_without_the_column(tmp_path):
    database = database_mod.Database('sqlite:///%s' % (tmp_path / 'old.sqlite'))
    database.sync()
    run = Run(database, traversal_column=False)
    try:
        ids = clean_run(run)
        report = run.check()
        assert report.ok, report.problems
        assert any('no event.traversal_id column' in n for n in report.notes)
        run.traversal(ids['web'], 'web', 'UPDATE', [('server', ids['server']),
                                                    ('server', ids['server'])])
        [problem] = only(run.check(), 'doubled')
        assert "resource 'server' of stack 'web'" in problem
    finally:
        database.dispose()


def test_a_cloud_given_as_an_audit(run):
    ids = clean_run(run)
    run.cloud.make('servers', token(ids['gone']))
    report = invariants.check(run.url, run.cloud.audit(), run.operations, run.names)
    assert report.counts['orphans'] == 1


def test_every_check_on_every_backend(database):
    """One defect of each check at once, on SQLite, PostgreSQL and MySQL."""
    run = Run(database)
    ids = clean_run(run)
    assert run.check().ok
    api.stack_update(run.db, ids['inner'], {'status': 'IN_PROGRESS'})
    run.op('update', 'web', ids['web'], 'UPDATE_COMPLETE', 'UPDATE_FAILED', 'Posting failure')
    [server_token] = [c['token'] for c in run.cloud.creations if c['id'] == ids['server']]
    run.cloud.make('servers', server_token, deleted=True)
    run.cloud.make('ports', token(ids['gone']))
    traversal = run.traversal(ids['web'], 'web', 'UPDATE', [('server', ids['server'])])
    run.event(ids['web'], 'server', 'UPDATE', 'COMPLETE', ids['server'], traversal)
    report = run.check()
    assert report.counts == dict.fromkeys(invariants.CHECKS, 1), report.problems
    assert json.loads(json.dumps(report.to_dict()))['counts'] == report.counts


def test_command_line_checks_a_kept_run(run, tmp_path, capsys):
    ids = clean_run(run)
    audit, operations = tmp_path / 'audit.json', tmp_path / 'operations.json'
    operations.write_text(json.dumps(run.operations))
    audit.write_text(json.dumps(run.cloud.audit()))
    assert invariants.main([run.url, str(audit), str(operations)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith('ok: stuck=0, failed=0, duplicates=0, orphans=0, doubled=0')
    run.cloud.make('ports', token(ids['gone']))
    audit.write_text(json.dumps(run.cloud.audit()))
    assert invariants.main([run.url, str(audit), str(operations)]) == 1
    data = json.loads(capsys.readouterr().out.rsplit('\n', 2)[0])
    assert data['counts']['orphans'] == 1 and data['checked']['requested'] == 8
