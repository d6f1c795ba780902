"""Alembic environment: runs on the connection handed over in config.attributes."""

from alembic import context

from heat_taskflow.persistence import models
from heat_taskflow.persistence.migrations import VERSION_TABLE, include_name


def run_migrations_online():
    """Run the migrations on the connection the caller opened (and will commit)."""
    connection = context.config.attributes.get('connection')
    if connection is None:
        raise RuntimeError('heat-taskflow migrations need a connection in '
                           'config.attributes["connection"]')
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        compare_type=True,
        render_as_batch=connection.dialect.name == 'sqlite',
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError('offline (SQL script) mode is not supported')
run_migrations_online()
