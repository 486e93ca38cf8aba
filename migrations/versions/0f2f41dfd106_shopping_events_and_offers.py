"""shopping events (网购节) and offers; click_event keeps the event and offer behind a click

Tables shopping_event, shopping_event_industry and offer (services/events; offer.version is its
optimistic-locking version, services/versioning.py); click_event gains
nullable event_id / offer_id (set by /go/<shop>?offer=<id>) and an (event_id, at) index for the
event report's clicks per day.

Revision ID: 0f2f41dfd106
Revises: 8d2f4c6a1e57
Create Date: 2026-12-05 00:01:37.066447

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0f2f41dfd106'
down_revision = '8d2f4c6a1e57'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shopping_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('banner_sha256', sa.String(length=64), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['banner_sha256'], ['image.sha256'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('shopping_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shopping_event_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shopping_event_starts_at'), ['starts_at'], unique=False)

    op.create_table('shopping_event_industry',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('industry_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['shopping_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['industry_id'], ['industry.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'industry_id')
    )
    with op.batch_alter_table('shopping_event_industry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shopping_event_industry_industry_id'), ['industry_id'], unique=False)

    op.create_table('offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('threshold_fen', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('discount_tenths', sa.Integer(), nullable=False),
    sa.Column('gift', sa.String(length=40), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('coupon_code', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['shopping_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index('ix_offer_event_status_ends_at', ['event_id', 'status', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_submitted_at'), ['submitted_at'], unique=False)

    with op.batch_alter_table('click_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('offer_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_click_event_event_id_at', ['event_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_click_event_offer_id'), ['offer_id'], unique=False)
        batch_op.create_foreign_key('fk_click_event_offer_id_offer', 'offer', ['offer_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_click_event_event_id_shopping_event', 'shopping_event', ['event_id'],
                                    ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('click_event', schema=None) as batch_op:
        batch_op.drop_constraint('fk_click_event_event_id_shopping_event', type_='foreignkey')
        batch_op.drop_constraint('fk_click_event_offer_id_offer', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_click_event_offer_id'))
        batch_op.drop_index('ix_click_event_event_id_at')
        batch_op.drop_column('offer_id')
        batch_op.drop_column('event_id')

    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_offer_status'))
        batch_op.drop_index(batch_op.f('ix_offer_shop_id'))
        batch_op.drop_index('ix_offer_event_status_ends_at')

    op.drop_table('offer')
    with op.batch_alter_table('shopping_event_industry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shopping_event_industry_industry_id'))

    op.drop_table('shopping_event_industry')
    with op.batch_alter_table('shopping_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shopping_event_starts_at'))
        batch_op.drop_index(batch_op.f('ix_shopping_event_ends_at'))

    op.drop_table('shopping_event')
