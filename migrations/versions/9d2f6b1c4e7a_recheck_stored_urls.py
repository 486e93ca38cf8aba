"""data: re-check stored shop URLs and websites with the WHATWG URL parser

URLs stored before the browser's parser was used may lead a browser somewhere other than they
seem to (``https://evil.example\\.tmall.com/`` is ``evil.example`` to a browser). Every stored shop
URL and website is checked again, and each certified shop whose URL fails is suspended with a
reason, an audit entry and a mail to the merchant; a report is printed.

That work needs the application (the audit log, the search outbox listener, mail), not only the
tables as they are at this revision, so it is not done with raw SQL here: this revision asks the
application to do it right after the upgrade. ``flask init-db`` (and ``python app.py``, which
calls it) runs ``check-urls --apply`` when this revision was applied in the same run. After a
bare ``flask db upgrade``, run ``flask --app app check-urls --apply`` once (it is idempotent;
without ``--apply`` it only reports).

Revision ID: 9d2f6b1c4e7a
Revises: 8c3d5e7f9a1b
Create Date: 2026-12-01 00:00:00.000000

"""
from flask import current_app, has_app_context

# revision identifiers, used by Alembic.
revision = '9d2f6b1c4e7a'
down_revision = '8c3d5e7f9a1b'
branch_labels = None
depends_on = None

RECHECK_FLAG = "url_recheck_requested"  # read by marketplace.cli.init_database


def upgrade():
    if has_app_context():
        current_app.extensions[RECHECK_FLAG] = True
    print("广货网上行：店铺网址与企业官网需要按浏览器的网址解析规则复核。"
          "flask init-db 会随即自动执行；如果只运行了 flask db upgrade，"
          "请运行 flask --app app check-urls --apply。")


def downgrade():
    pass  # suspensions are ordinary listing changes (audited); staff reinstate shops one by one
