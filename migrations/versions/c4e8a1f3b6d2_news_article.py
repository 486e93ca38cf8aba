"""news_article: the campaign's news, announcements and policy documents

Revision ID: c4e8a1f3b6d2
Revises: 5b7c1e9a2d40
Create Date: 2026-12-05 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8a1f3b6d2'
down_revision = '5b7c1e9a2d40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('news_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=60), nullable=True),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revised_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('news_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_news_article_category'), ['category'], unique=False)
        batch_op.create_index('ix_news_article_status_publish_at', ['status', 'publish_at'], unique=False)


def downgrade():
    with op.batch_alter_table('news_article', schema=None) as batch_op:
        batch_op.drop_index('ix_news_article_status_publish_at')
        batch_op.drop_index(batch_op.f('ix_news_article_category'))
    op.drop_table('news_article')
