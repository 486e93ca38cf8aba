"""evidence with applications (business licence, PDF pages) and shop verification codes

Issue 13 sections 1 and 2: ``evidence`` (the licence and the people behind an enterprise, private),
``evidence_page`` (a PDF licence's pages rendered for staff), ``application.evidence_id`` and
``shop.verify_code`` (the code a merchant puts in the shop's announcement to prove control).

Revision ID: a7c3e9d1f520
Revises: b2d4f6a8c0e1
Create Date: 2026-12-05 03:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e9d1f520'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('legal_representative', sa.String(length=40), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_mobile', sa.String(length=11), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('registered_address', sa.String(length=200), nullable=False),
    sa.Column('licence_mime', sa.String(length=40), nullable=False),
    sa.Column('licence_sha256', sa.String(length=64), nullable=False),
    sa.Column('licence_data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('evidence_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('page_no', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_page_evidence_id'), ['evidence_id'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_evidence_id'), ['evidence_id'], unique=False)
        batch_op.create_foreign_key('fk_application_evidence_id_evidence', 'evidence', ['evidence_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_code', sa.String(length=12), nullable=True))
        batch_op.create_unique_constraint('uq_shop_verify_code', ['verify_code'])


def downgrade():
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_constraint('uq_shop_verify_code', type_='unique')
        batch_op.drop_column('verify_code')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint('fk_application_evidence_id_evidence', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_application_evidence_id'))
        batch_op.drop_column('evidence_id')
    with op.batch_alter_table('evidence_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_page_evidence_id'))
    op.drop_table('evidence_page')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_enterprise_id'))
    op.drop_table('evidence')
