"""drop rate_limit_counter: rate-limit counters live in Redis

The ``database://`` limiter storage (one row per counter in the site's database) is gone: in the
production shape every limit is counted in Redis through Flask-Limiter's own ``redis://``
storage, and the embedded default counts in memory. One mechanism, not two.

Revision ID: 7d3f2a9c4e11
Revises: 9d2f6b1c4e7a
Create Date: 2026-12-04 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d3f2a9c4e11'
down_revision = '9d2f6b1c4e7a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))
    op.drop_table('rate_limit_counter')


def downgrade():
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False)
