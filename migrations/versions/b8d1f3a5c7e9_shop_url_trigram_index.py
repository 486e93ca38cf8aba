"""shop URL trigram index (PostgreSQL)

/verify finds the shops whose stored URL contains a shop id, or a host and path, with
``LIKE '%token%'``; a B-tree cannot serve that, so PostgreSQL read every shop (15 ms at 50,000
shops, bench/README.md). A GIN index over trigrams (the pg_trgm contrib extension) serves it.
SQLite has no such index and reads the table in-process, which is fast enough at its sizes.

Revision ID: b8d1f3a5c7e9
Revises: a7c3e9f1b2d4
Create Date: 2026-12-05 09:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b8d1f3a5c7e9'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_shop_url_trgm", "shop", ["url"], unique=False, postgresql_using="gin",
                    postgresql_ops={"url": "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_shop_url_trgm", table_name="shop", postgresql_using="gin")
