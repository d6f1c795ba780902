"""Events name the traversal that wrote them.

- ``event.traversal_id``: the traversal whose resource action recorded the event (NULL for
  a stack's own events, and for every event written before this revision).

A re-run of a resource action (its process was killed, its job is claimed again) must not
record the same *_COMPLETE twice; with the traversal on each event, that can be checked
from the database alone. Nothing is backfilled: an old event's traversal is not known.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    """Add the nullable traversal_id column to event."""
    with op.batch_alter_table('event') as batch:
        batch.add_column(sa.Column('traversal_id', sa.String(36), nullable=True))


def downgrade():
    """Drop event.traversal_id."""
    with op.batch_alter_table('event') as batch:
        batch.drop_column('traversal_id')
