"""Stack rollback columns: what a rollback undoes, as data rather than display text.

- ``rollback_action``: while the stack's action is ROLLBACK, the action it rolls back
  (CREATE: converging to nothing; UPDATE: to the previous template), NULL otherwise;
- ``rollback_cancelled``: that rollback was asked for by ``stack cancel``, not by a failure.

Rows written before this revision said both only in ``status_reason`` ("Rolling back: Update
cancelled"); the upgrade reads them from there once, so a rollback in progress across the
upgrade is resumed and finished as it was started.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    """Add the rollback columns to stack and fill them in for rollbacks already claimed."""
    with op.batch_alter_table('stack') as batch:
        batch.add_column(sa.Column('rollback_action', sa.String(32), nullable=True))
        batch.add_column(sa.Column('rollback_cancelled', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    stack = sa.table('stack', sa.column('action', sa.String),
                     sa.column('status_reason', sa.Text),
                     sa.column('rollback_action', sa.String),
                     sa.column('rollback_cancelled', sa.Boolean))
    for action in ('CREATE', 'UPDATE'):
        prefix = 'Rolling back: %s' % action.capitalize()
        op.execute(stack.update()
                   .where(stack.c.action == 'ROLLBACK',
                          stack.c.status_reason.like(prefix + '%'))
                   .values(rollback_action=action))
        op.execute(stack.update()
                   .where(stack.c.action == 'ROLLBACK',
                          stack.c.status_reason == prefix + ' cancelled')
                   .values(rollback_cancelled=sa.true()))


def downgrade():
    """Drop the rollback columns."""
    with op.batch_alter_table('stack') as batch:
        batch.drop_column('rollback_cancelled')
        batch.drop_column('rollback_action')
