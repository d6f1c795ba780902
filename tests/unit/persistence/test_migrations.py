"""Tests for heat_taskflow.persistence.migrations: the revisions create what models.py says."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from heat_taskflow.persistence import migrations, models
from heat_taskflow.persistence.database import Database


def differences(connection, metadata):
    context = MigrationContext.configure(connection, opts={
        'version_table': migrations.VERSION_TABLE,
        'compare_type': True,
        'include_name': migrations.include_name,
    })
    return compare_metadata(context, metadata)


def synced(db_url):
    db = Database(db_url)
    db.sync()
    return db


def test_migrations_match_models(db_url):
    db = synced(db_url)
    try:
        with db.engine.connect() as connection:
            assert differences(connection, models.Base.metadata) == []
    finally:
        db.dispose()


def test_comparison_notices_a_model_the_migrations_lack(db_url):
    # The check above is only worth something if a drift would show on this database.
    metadata = sa.MetaData()
    for table in models.Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables['stack'].append_column(sa.Column('colour', sa.String(16)))
    metadata.tables['event'].c.resource_status_reason.type = sa.String(40)
    db = synced(db_url)
    try:
        with db.engine.connect() as connection:
            found = differences(connection, metadata)
    finally:
        db.dispose()
    kinds = {(d[0] if isinstance(d, tuple) else d[0][0]) for d in found}
    assert 'add_column' in kinds and 'modify_type' in kinds


def test_our_version_table_is_apart_from_taskflows(db_url):
    db = synced(db_url)
    try:
        with db.engine.connect() as connection:
            stamp = connection.execute(
                sa.text('SELECT version_num FROM %s' % migrations.VERSION_TABLE)).scalars()
            assert list(stamp) == [migrations.head()]
            names = set(sa.inspect(connection).get_table_names())
        if db.dialect != 'sqlite':
            # TaskFlow runs its own alembic revisions there, in alembic's default table.
            assert 'alembic_version' in names
    finally:
        db.dispose()


def test_downgrade_to_base_drops_only_our_tables_and_upgrade_restores_them(db_url):
    db = synced(db_url)
    try:
        with db.engine.begin() as connection:
            migrations.downgrade(connection, 'base')
        names = set(sa.inspect(db.engine).get_table_names())
        assert not names & set(models.Base.metadata.tables)
        assert 'logbooks' in names
        db.sync()
        names = set(sa.inspect(db.engine).get_table_names())
        assert set(models.Base.metadata.tables) <= names
    finally:
        db.dispose()


def _raw_template_and_stack_tables():
    """The raw_template and stack tables as the old migrations left them (their columns by
    name: the models describe the newest schema)."""
    raw = sa.table('raw_template', sa.column('id', sa.Integer),
                   sa.column('template', sa.Text), sa.column('created_at', sa.DateTime))
    stack = sa.table('stack', *(sa.column(name) for name in (
        'id', 'name', 'project_id', 'nested_depth', 'action', 'status', 'status_reason',
        'convergence', 'raw_template_id', 'disable_rollback', 'created_at')))
    return raw, stack


def test_0003_reads_the_rollbacks_already_claimed_from_their_status_reason(db_url):
    # Stacks rolling back across the upgrade: what the rollback undoes becomes data.
    db = Database(db_url)
    raw, stack = _raw_template_and_stack_tables()
    reasons = {
        'create-failed': ('ROLLBACK', 'Rolling back: Create failed: boom'),
        'update-failed': ('ROLLBACK', 'Rolling back: Update failed: boom'),
        'update-cancelled': ('ROLLBACK', 'Rolling back: Update cancelled'),
        'create-cancelled': ('ROLLBACK', 'Rolling back: Create cancelled'),
        'updating': ('UPDATE', 'Stack UPDATE started'),
        'done': ('ROLLBACK', 'Stack ROLLBACK completed successfully (Update failed: x)'),
    }
    now = models.utcnow()
    try:
        with db.engine.begin() as connection:
            migrations.downgrade(connection, 'base')
            migrations.upgrade(connection, '0002')
            raw_id = 1
            connection.execute(raw.insert().values(id=raw_id, template='{}', created_at=now))
            for name, (action, reason) in reasons.items():
                connection.execute(stack.insert().values(
                    id=name, name=name, project_id='p', nested_depth=0, action=action,
                    status='IN_PROGRESS', status_reason=reason, convergence=False,
                    raw_template_id=raw_id, disable_rollback=False, created_at=now))
        db.sync()
        with db.engine.connect() as connection:
            found = {row.id: (row.rollback_action, bool(row.rollback_cancelled))
                     for row in connection.execute(sa.select(models.Stack.__table__))}
        assert found == {
            'create-failed': ('CREATE', False),
            'update-failed': ('UPDATE', False),
            'update-cancelled': ('UPDATE', True),
            'create-cancelled': ('CREATE', True),
            'updating': (None, False),
            'done': (None, False),
        }
    finally:
        with db.engine.begin() as connection:
            connection.execute(models.Stack.__table__.delete())
            connection.execute(models.RawTemplate.__table__.delete())
        db.dispose()


def test_0004_adds_event_traversal_to_a_database_with_events(db_url):
    # A database at 0003 with a stack and its events: the upgrade keeps them, with no
    # traversal (not known for an old event), and new events can name theirs.
    db = Database(db_url)
    raw, stack = _raw_template_and_stack_tables()
    event = sa.table('event', *(sa.column(name) for name in (
        'uuid', 'stack_id', 'resource_name', 'resource_action', 'resource_status',
        'created_at')))
    now = models.utcnow()
    try:
        with db.engine.begin() as connection:
            migrations.downgrade(connection, 'base')
            migrations.upgrade(connection, '0003')
            assert 'traversal_id' not in {
                c['name'] for c in sa.inspect(connection).get_columns('event')}
            connection.execute(raw.insert().values(id=1, template='{}', created_at=now))
            connection.execute(stack.insert().values(
                id='s', name='s', project_id='p', nested_depth=0, action='CREATE',
                status='COMPLETE', status_reason='', convergence=False, raw_template_id=1,
                disable_rollback=False, created_at=now))
            connection.execute(event.insert().values(
                uuid='e1', stack_id='s', resource_name='a', resource_action='CREATE',
                resource_status='COMPLETE', created_at=now))
        db.sync()
        assert db.version() == '0004'
        from heat_taskflow.persistence import api

        api.event_create(db, 's', resource_name='a', resource_action='DELETE',
                         resource_status='COMPLETE', traversal_id='t-new')
        found = [(e.uuid == 'e1', e.resource_action, e.traversal_id)
                 for e in api.event_list(db, 's')]
        assert found == [(True, 'CREATE', None), (False, 'DELETE', 't-new')]
        with db.engine.begin() as connection:     # and back: the column goes, rows stay
            migrations.downgrade(connection, '0003')
            assert 'traversal_id' not in {
                c['name'] for c in sa.inspect(connection).get_columns('event')}
            assert connection.execute(sa.select(sa.func.count()).select_from(event)
                                      ).scalar() == 2
        db.sync()
    finally:
        with db.engine.begin() as connection:
            connection.execute(models.Stack.__table__.delete())
            connection.execute(models.RawTemplate.__table__.delete())
        db.dispose()
