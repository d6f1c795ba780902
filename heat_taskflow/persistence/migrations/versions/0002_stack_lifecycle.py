"""Stack lifecycle columns: who runs a legacy traversal, its heartbeat, auto-converge.

- ``engine_id``: the process (host:pid:nonce) running the stack's current traversal on the
  legacy path, NULL when none does;
- ``heartbeat_at``: when that process last said it is alive; a legacy stack IN_PROGRESS
  whose heartbeat is stale was interrupted (its process died) and may be resumed;
- ``auto_converge``: the observer repairs drift it finds on this stack by itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade():
    """Add the lifecycle columns to stack."""
    with op.batch_alter_table('stack') as batch:
        batch.add_column(sa.Column('engine_id', sa.String(255), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', TIMESTAMP, nullable=True))
        batch.add_column(sa.Column('auto_converge', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    """Drop the lifecycle columns."""
    with op.batch_alter_table('stack') as batch:
        batch.drop_column('auto_converge')
        batch.drop_column('heartbeat_at')
        batch.drop_column('engine_id')
