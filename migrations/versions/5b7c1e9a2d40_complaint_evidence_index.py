"""index complaint.evidence_sha256

Every /media/<sha256> request now asks whether the image is complaint evidence (evidence is served
to staff only); without this index that EXISTS is a sequential scan of the complaint table on
every logo request.

Revision ID: 5b7c1e9a2d40
Revises: 2fb1e15e3437
Create Date: 2026-11-25 00:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b7c1e9a2d40'
down_revision = '2fb1e15e3437'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_evidence_sha256'), ['evidence_sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_evidence_sha256'))
