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
