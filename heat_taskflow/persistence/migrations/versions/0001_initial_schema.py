"""Initial schema: raw_template, stack, resource, resource_data, event, stack_output, sync_point.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Spelled out rather than imported from models.py, which will change after this revision.
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql', 'mariadb')
JSON = LONG_TEXT    # models.JSONEncoded stores JSON text in a LONG_TEXT column
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
TABLE_ARGS = {
    'mysql_engine': 'InnoDB',
    'mysql_charset': 'utf8mb4',
    'mysql_collate': 'utf8mb4_bin',
}


def upgrade():
    """Create every table of the first schema."""
    op.create_table(
        'raw_template',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('template', JSON, nullable=False),
        sa.Column('files', JSON, nullable=True),
        sa.Column('environment', JSON, nullable=True),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_raw_template'),
        **TABLE_ARGS,
    )
    op.create_table(
        'stack',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('live_name', sa.String(255), nullable=True),
        sa.Column('owner_id', sa.String(36), nullable=True),
        sa.Column('parent_resource_name', sa.String(255), nullable=True),
        sa.Column('nested_depth', sa.Integer(), nullable=False),
        sa.Column('root_stack_id', sa.String(36), nullable=True),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('convergence', sa.Boolean(), nullable=False),
        sa.Column('current_traversal', sa.String(36), nullable=True),
        sa.Column('raw_template_id', sa.Integer(), nullable=False),
        sa.Column('prev_raw_template_id', sa.Integer(), nullable=True),
        sa.Column('parameters', JSON, nullable=True),
        sa.Column('timeout', sa.Integer(), nullable=True),
        sa.Column('disable_rollback', sa.Boolean(), nullable=False),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=True),
        sa.Column('deleted_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_stack'),
        sa.ForeignKeyConstraint(['owner_id'], ['stack.id'], name='fk_stack_owner_id_stack',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['raw_template_id'], ['raw_template.id'],
                                name='fk_stack_raw_template_id_raw_template'),
        sa.ForeignKeyConstraint(['prev_raw_template_id'], ['raw_template.id'],
                                name='fk_stack_prev_raw_template_id_raw_template',
                                ondelete='SET NULL'),
        sa.UniqueConstraint('project_id', 'live_name', name='uq_stack_project_id_live_name'),
        **TABLE_ARGS,
    )
    op.create_index('ix_stack_owner_id', 'stack', ['owner_id'])
    op.create_index('ix_stack_raw_template_id', 'stack', ['raw_template_id'])
    op.create_index('ix_stack_prev_raw_template_id', 'stack', ['prev_raw_template_id'])

    op.create_table(
        'resource',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('stack_id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('type', sa.String(255), nullable=True),
        sa.Column('physical_resource_id', sa.String(255), nullable=True),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('reference_id', sa.Text(), nullable=True),
        sa.Column('attributes', JSON, nullable=True),
        sa.Column('properties_data', JSON, nullable=True),
        sa.Column('template', JSON, nullable=True),
        sa.Column('current_template_id', sa.Integer(), nullable=True),
        sa.Column('requires', JSON, nullable=False),
        sa.Column('needed_by', JSON, nullable=False),
        sa.Column('replaces', sa.Integer(), nullable=True),
        sa.Column('replaced_by', sa.Integer(), nullable=True),
        sa.Column('engine_id', sa.String(64), nullable=True),
        sa.Column('atomic_key', sa.Integer(), nullable=False),
        sa.Column('root_stack_id', sa.String(36), nullable=True),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_resource'),
        sa.ForeignKeyConstraint(['stack_id'], ['stack.id'], name='fk_resource_stack_id_stack',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['current_template_id'], ['raw_template.id'],
                                name='fk_resource_current_template_id_raw_template',
                                ondelete='SET NULL'),
        sa.UniqueConstraint('uuid', name='uq_resource_uuid'),
        **TABLE_ARGS,
    )
    op.create_index('ix_resource_stack_id', 'resource', ['stack_id'])
    op.create_index('ix_resource_stack_id_name', 'resource', ['stack_id', 'name'])
    op.create_index('ix_resource_current_template_id', 'resource', ['current_template_id'])

    op.create_table(
        'resource_data',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('resource_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', JSON, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_resource_data'),
        sa.ForeignKeyConstraint(['resource_id'], ['resource.id'],
                                name='fk_resource_data_resource_id_resource',
                                ondelete='CASCADE'),
        sa.UniqueConstraint('resource_id', 'key', name='uq_resource_data_resource_id_key'),
        **TABLE_ARGS,
    )

    op.create_table(
        'event',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('stack_id', sa.String(36), nullable=False),
        sa.Column('resource_name', sa.String(255), nullable=True),
        sa.Column('physical_resource_id', sa.String(255), nullable=True),
        sa.Column('resource_type', sa.String(255), nullable=True),
        sa.Column('resource_action', sa.String(32), nullable=True),
        sa.Column('resource_status', sa.String(32), nullable=True),
        sa.Column('resource_status_reason', sa.Text(), nullable=True),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_event'),
        sa.ForeignKeyConstraint(['stack_id'], ['stack.id'], name='fk_event_stack_id_stack',
                                ondelete='CASCADE'),
        sa.UniqueConstraint('uuid', name='uq_event_uuid'),
        **TABLE_ARGS,
    )
    op.create_index('ix_event_stack_id', 'event', ['stack_id'])

    op.create_table(
        'stack_output',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('stack_id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', JSON, nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_stack_output'),
        sa.ForeignKeyConstraint(['stack_id'], ['stack.id'],
                                name='fk_stack_output_stack_id_stack', ondelete='CASCADE'),
        sa.UniqueConstraint('stack_id', 'name', name='uq_stack_output_stack_id_name'),
        **TABLE_ARGS,
    )

    op.create_table(
        'sync_point',
        sa.Column('entity_id', sa.String(36), nullable=False),
        sa.Column('traversal_id', sa.String(36), nullable=False),
        sa.Column('is_update', sa.Boolean(), nullable=False),
        sa.Column('stack_id', sa.String(36), nullable=False),
        sa.Column('atomic_key', sa.Integer(), nullable=False),
        sa.Column('input_data', JSON, nullable=True),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('entity_id', 'traversal_id', 'is_update', name='pk_sync_point'),
        sa.ForeignKeyConstraint(['stack_id'], ['stack.id'],
                                name='fk_sync_point_stack_id_stack', ondelete='CASCADE'),
        **TABLE_ARGS,
    )
    op.create_index('ix_sync_point_stack_id_traversal_id', 'sync_point',
                    ['stack_id', 'traversal_id'])


def downgrade():
    """Drop every table of the first schema (indexes go with their tables)."""
    for table in ('sync_point', 'stack_output', 'event', 'resource_data', 'resource', 'stack',
                  'raw_template'):
        op.drop_table(table)
