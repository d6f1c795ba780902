"""Alembic migrations of heat-taskflow's own tables, driven from code (no alembic.ini).

Revisions live in versions/. To write one after changing models.py:
``heat_taskflow.persistence.migrations.revision(url, 'what changed')`` autogenerates a draft
against a database at head; review it (types from models.py must be spelled out in it).
"""

import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

# TaskFlow's migrations use alembic's default table (alembic_version) in the same database.
VERSION_TABLE = 'heat_taskflow_alembic_version'
SCRIPT_LOCATION = os.path.dirname(os.path.abspath(__file__))


def include_name(name, type_, parent_names):
    """Autogenerate filter: only our tables (TaskFlow's logbook tables share the database)."""
    if type_ == 'table':
        from heat_taskflow.persistence import models

        return name in models.Base.metadata.tables
    return True


def alembic_config(connection=None):
    """An alembic Config for our scripts, bound to an open SQLAlchemy connection if given."""
    config = Config()
    config.set_main_option('script_location', SCRIPT_LOCATION)
    # Alembic warns without it; our single versions/ directory needs no separator.
    config.set_main_option('path_separator', 'os')
    config.attributes['connection'] = connection
    return config


def upgrade(connection, revision='head'):
    """Upgrade the schema on connection to revision (the caller commits)."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection, revision):
    """Downgrade the schema on connection to revision (the caller commits)."""
    command.downgrade(alembic_config(connection), revision)


def current(connection):
    """The revision the database is at, or None when it was never synced."""
    context = MigrationContext.configure(connection, opts={'version_table': VERSION_TABLE})
    return context.get_current_revision()


def head():
    """The newest revision shipped in versions/."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(connection, message):
    """Autogenerate a draft revision comparing models.py with the database on connection."""
    return command.revision(alembic_config(connection), message=message, autogenerate=True)
