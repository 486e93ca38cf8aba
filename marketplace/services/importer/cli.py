"""The ``flask import-data`` command: reads the files, runs ``run_import`` and prints the report."""
from __future__ import annotations

import sys
import time

import click
from flask import Flask

from sqlalchemy import text

from ...extensions import db
from .writer import run_import


def refresh_planner_statistics() -> None:
    """Run ANALYZE on PostgreSQL after a bulk import.

    Without fresh statistics (autovacuum may lag or be off) the planner picks nested loops for
    the browse pages' aggregate queries and a 10,000-row import makes them take seconds.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def register_cli(app: Flask) -> None:
    """Add ``flask import-data``."""

    @app.cli.command("import-data")
    @click.option("--enterprises", "enterprises_path", type=click.Path(exists=True, dir_okay=False),
                  help="enterprises.csv")
    @click.option("--shops", "shops_path", type=click.Path(exists=True, dir_okay=False), help="shops.csv")
    @click.option("--dry-run", is_flag=True, help="只检查并报告，不写入数据库。")
    def import_data_command(enterprises_path, shops_path, dry_run):
        """Import enterprises.csv and/or shops.csv (all rows or nothing)."""
        if not enterprises_path and not shops_path:
            raise click.UsageError("请用 --enterprises 和/或 --shops 指定文件。")
        import os
        from pathlib import Path

        ent_bytes = Path(enterprises_path).read_bytes() if enterprises_path else None
        shop_bytes = Path(shops_path).read_bytes() if shops_path else None
        names = (os.path.basename(enterprises_path or "enterprises.csv"),
                 os.path.basename(shops_path or "shops.csv"))
        started = time.perf_counter()
        report = run_import(ent_bytes, shop_bytes, dry_run=dry_run, filenames=names,
                            progress=sys.stderr.isatty())
        if not report.ok:
            db.session.rollback()
            click.echo(f"导入被拒绝：发现 {report.error_count} 处错误，未写入任何数据。", err=True)
            for error in report.errors:
                click.echo("  " + str(error), err=True)
            if report.unlisted:
                click.echo(f"  ……另有 {report.unlisted} 处错误未列出（只列出前 {len(report.errors)} 处）。", err=True)
            raise SystemExit(1)
        if dry_run:
            db.session.rollback()
            click.echo("试运行（--dry-run）：检查通过，未写入任何数据。以下为将要进行的变更：")
        else:
            db.session.commit()
            refresh_planner_statistics()
            click.echo("导入完成。")
        for line in report.summary_lines():
            click.echo("  " + line)
        if report.certificates:
            click.echo(f"  颁发证书：{report.certificates}")
        click.echo(f"用时 {time.perf_counter() - started:.1f} 秒。")
