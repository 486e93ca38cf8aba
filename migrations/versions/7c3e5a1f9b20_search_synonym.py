"""search_synonym: staff-editable search synonyms (two-way groups and one-way rules)

Revision ID: 7c3e5a1f9b20
Revises: 7d3f2a9c4e11
Create Date: 2026-11-26 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e5a1f9b20'
down_revision = '7d3f2a9c4e11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_synonym',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('seed_key', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seed_key'),
    )
    with op.batch_alter_table('search_synonym', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_synonym_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_synonym_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_synonym_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('search_synonym', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_synonym_updated_at'))
        batch_op.drop_index(batch_op.f('ix_search_synonym_category'))
        batch_op.drop_index(batch_op.f('ix_search_synonym_active'))
    op.drop_table('search_synonym')
