"""search outbox pruning: applier heartbeats and the pruned-through marker

Each machine's search applier records its checkpoint (``search_applier_heartbeat``); the
periodic prune deletes outbox rows every live machine has applied and remembers how far it went
(``search_outbox_pruned``). See ``marketplace/search_sync/pruning.py``.

Revision ID: a1c3e5f7b9d2
Revises: e5a9c2d7b318
Create Date: 2026-12-05 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = 'e5a9c2d7b318'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'search_applier_heartbeat',
        sa.Column('machine', sa.String(length=200), nullable=False),
        sa.Column('checkpoint', BIG_ID, nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('machine'),
    )
    op.create_table(
        'search_outbox_pruned',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('through_id', BIG_ID, nullable=False),
        sa.Column('pruned_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('search_outbox_pruned')
    op.drop_table('search_applier_heartbeat')
