"""complaint process on working days, one-time form tokens, reminder ledger, monthly reports

- complaint: the 12315 fields (order number, purchase date, amount, desired outcome, phone), stage
  start times and deadlines, upheld flag, the consumer's feedback after 办结. The old status
  'assigned' (处理中) becomes 'mediating' (调解中); deadlines of open complaints are filled in by
  `flask complaint-deadlines` on its first run.
- used_form_token: tokens of forms that already filed something (reload / double click).
- reminder_sent: reminders already mailed (periodic commands are safe to repeat).
- monthly_report, monthly_report_line: the statistics pilot.

Revision ID: 8d2f4c6a1e57
Revises: 7c3e5a1f9b20
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2f4c6a1e57'
down_revision = '7c3e5a1f9b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_number', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('purchase_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('desired_outcome', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mediation_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('accept_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('negotiation_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('mediation_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('feedback_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('upheld', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('feedback_code_hash', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('feedback', sa.String(length=12), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('feedback_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('feedback_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE complaint SET status = 'mediating', accepted_at = created_at, mediation_at = updated_at "
               "WHERE status = 'assigned'")

    op.create_table('used_form_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('result', sa.String(length=100), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('used_form_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_form_token_used_at'), ['used_at'], unique=False)

    op.create_table('reminder_sent',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_sent_sent_at'), ['sent_at'], unique=False)

    op.create_table('monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enterprise_id', 'period')
    )
    with op.batch_alter_table('monthly_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_report_period'), ['period'], unique=False)

    op.create_table('monthly_report_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'platform_id')
    )
    with op.batch_alter_table('monthly_report_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_line_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_report_line_report_id'), ['report_id'], unique=False)


def downgrade():
    op.drop_table('monthly_report_line')
    op.drop_table('monthly_report')
    op.drop_table('reminder_sent')
    op.drop_table('used_form_token')
    op.execute("UPDATE complaint SET status = 'assigned' WHERE status IN ('negotiating', 'mediating')")
    op.execute("UPDATE complaint SET status = 'resolved' WHERE status = 'unresolved'")
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        for name in ('feedback_at', 'feedback_note', 'feedback', 'feedback_code_hash', 'upheld', 'feedback_due',
                     'mediation_due', 'negotiation_due', 'accept_due', 'mediation_at', 'accepted_at', 'phone',
                     'desired_outcome', 'amount', 'purchase_date', 'order_number'):
            batch_op.drop_column(name)
