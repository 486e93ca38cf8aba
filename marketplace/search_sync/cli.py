"""Flask wiring: ``init_app`` (listener, startup index check, applier thread) and the
``flask search`` commands.
"""
from __future__ import annotations

import os
import threading

import click
from flask import Flask


from ..extensions import db
from .applier import _private_session, apply_pending, ensure_index, rebuild
from .background import _Applier, sync_loop
from .consistency import check_consistency
from .documents import count_public
from .engines import get_engine
from .outbox import install_listener
from .pruning import prune
from .querying import status


def init_app(app: Flask) -> None:
    """Install the outbox listener and, in inline mode, start this process's applier thread on
    its first request (never in CLI commands, never in tests unless asked)."""
    install_listener()
    app.extensions["search_sync"] = {"thread": None}
    state = app.extensions["search_sync"]
    lock = threading.Lock()

    @app.before_request
    def _start_applier():
        if state["thread"] is not None or not app.config["SEARCH_SYNC_INLINE"]:
            return
        if app.testing and not app.config.get("SEARCH_SYNC_THREAD"):
            return
        with lock:
            if state["thread"] is None or state.get("pid") != os.getpid():
                t = _Applier(app)
                state["thread"], state["pid"] = t, os.getpid()
                t.start()


def register_cli(app: Flask) -> None:
    """``flask search rebuild|status|sync|check|prune``."""

    @app.cli.group("search")
    def search_group():
        """搜索索引管理：重建、状态、同步、一致性检查、清理变更队列。"""

    _add_index_commands(search_group)
    _add_sync_commands(app, search_group)


def _add_index_commands(search_group) -> None:
    """rebuild, status and check: the index itself."""

    @search_group.command("rebuild")
    def rebuild_command():
        """Rebuild the whole index into a new directory and swap it in atomically."""
        from tqdm import tqdm

        total = count_public()
        db.session.rollback()
        # no monitor thread: the rebuild forks its second process only from a single thread
        tqdm.monitor_interval = 0
        with tqdm(total=total, unit="条", desc="重建索引", disable=None) as bar:
            stats = rebuild(progress=bar.update, wait=True)
        if stats is None:
            raise click.ClickException("索引正被其他进程写入，请稍后再试。")
        click.echo(f"已重建索引：{stats['documents']} 条文档，用时 {stats['seconds']} 秒（{stats['path']}）")

    @search_group.command("status")
    def status_command():
        """Documents, segments, checkpoint and lag behind the outbox."""
        info = status()
        click.echo(f"索引目录：{info['path'] or '（不存在）'}")
        click.echo(f"状态：{'正常' if info['healthy'] else '不可用 ' + str(info['error'])}")
        click.echo(f"文档数：{info['documents']}")
        click.echo(f"段数：{info['segments']}")
        click.echo(f"检查点：{info['checkpoint']}（变更队列最新 {info['outbox_head']}，落后 {info['lag']}，"
                   f"待处理 {info['pending_rows']} 行）")
        click.echo(f"大小：{info['size_bytes'] / 1024:.0f} KB")

    @search_group.command("check")
    @click.option("--no-repair", is_flag=True, help="只报告，不修复")
    def check_command(no_repair):
        """Compare the index with the database and repair differences."""
        ensure_index()
        rep = check_consistency(repair=not no_repair)
        click.echo(f"数据库应有 {rep.expected} 条，索引中 {rep.indexed} 条；缺失 {len(rep.missing)}，"
                   f"多余 {len(rep.extra)}，过期 {len(rep.stale)}。")
        if rep.ok:
            click.echo("索引与数据库一致。")
        elif rep.repaired:
            click.echo("已修复差异。")
        else:
            raise SystemExit(1)


def _add_sync_commands(app: Flask, search_group) -> None:
    """sync and prune: the outbox."""

    @search_group.command("sync")
    @click.option("--loop", is_flag=True, help="持续运行（每台机器一个），按 SEARCH_SYNC_INTERVAL 间隔同步")
    def sync_command(loop):
        """Apply pending outbox rows to the index (once, or forever with --loop)."""
        if loop:
            click.echo(f"搜索同步进程已启动（间隔 {app.config['SEARCH_SYNC_INTERVAL']} 秒），Ctrl+C 停止。")
            try:
                sync_loop(float(app.config["SEARCH_SYNC_INTERVAL"]))
            except KeyboardInterrupt:
                pass
            return
        ensure_index()
        n = apply_pending(blocking=True)
        click.echo(f"已同步 {n or 0} 条变更。检查点：{get_engine().checkpoint()}")

    @search_group.command("prune")
    def prune_command():
        """Delete outbox rows every live machine has applied, older than the retention."""
        with _private_session() as session:
            rep = prune(session)
        click.echo(f"已清理变更队列 {rep.deleted} 行（至编号 {rep.through_id}；在线机器 {rep.live_machines} 台，"
                   f"保留 {app.config['SEARCH_OUTBOX_RETENTION_DAYS']} 天）。")
