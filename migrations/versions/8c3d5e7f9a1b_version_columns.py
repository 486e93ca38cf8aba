"""version columns for optimistic locking

Enterprise, shop, application, complaint and featured slot get ``version`` (SQLAlchemy's
``version_id_col``, see marketplace/services/versioning.py): concurrent edits of one record are
refused with a message instead of a 500 or a lost update. Existing rows start at 1.

Revision ID: 8c3d5e7f9a1b
Revises: c4e8a1f3b6d2
Create Date: 2026-12-01 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c3d5e7f9a1b'
down_revision = 'c4e8a1f3b6d2'
branch_labels = None
depends_on = None

TABLES = ('enterprise', 'shop', 'application', 'complaint', 'featured_slot')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
