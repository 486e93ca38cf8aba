"""Command-line interface: ``flask --app app <command>``.

Feature modules add their own commands through ``register`` functions called from ``init_app``.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from .extensions import db
from .services.news_seed import seed_documents
from .services.reference_data import seed_reference_data
from .services.synonyms import seed_synonyms


def init_database() -> dict[str, int]:
    """Create or upgrade the schema with Alembic, then add missing reference data, the seed
    policy document and the shipped search synonyms (rows staff switched off or edited stay as
    they are).

    A data migration may ask for the stored URLs to be re-checked (revision ``9d2f6b1c4e7a``):
    that runs here, after the upgrade, because it needs the application (see ``url_audit``).
    """
    upgrade(directory=str(current_app.config["MIGRATIONS_DIR"]))
    added = seed_reference_data()
    added.update(seed_documents())
    added["synonym"] = seed_synonyms()
    db.session.commit()
    if current_app.extensions.pop("url_recheck_requested", False):
        from .services import url_audit

        url_audit.apply_and_report(say=click.echo)  # alembic's fileConfig silences existing loggers
    if current_app.extensions.pop("changes_backfill_requested", False):  # revision e5a9c2d7b318
        from .services import changes

        click.echo(f"认证变更事件：从审计日志补录 {changes.backfill()} 条。")
        db.session.commit()
    return added


def init_app(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db_command():
        """Create or upgrade the database schema and load the reference data."""
        added = init_database()
        click.echo(f"数据库已就绪：{current_app.config['DATABASE_URL'].split('@')[-1]}")
        click.echo("新增参考数据：" + "，".join(f"{k} {v}" for k, v in added.items()))
    from . import account_cli
    from .search_sync import cli as search_cli
    from .services import changes, complaint_reminders, demo, dynamic, gongshi, lifecycle, reports, synthetic, url_audit
    from .services.importer import cli as importer_cli

    for module in (account_cli, lifecycle, importer_cli, synthetic, search_cli, demo, url_audit, complaint_reminders,
                   reports, dynamic, changes, gongshi):
        module.register_cli(app)
