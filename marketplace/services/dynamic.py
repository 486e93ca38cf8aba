"""Dynamic management, the daily job next to ``expire-certificates``:
``flask --app app dynamic-management``.

One run: ask the owners whose certificate anniversary is 30 days away for their annual
confirmation and suspend those past the deadline (``annual_confirmation``); end the brand
authorizations past their date, suspending the shops that depend on them, and warn 30 days ahead
(``authorizations``); suspend the shops with 3 upheld 假冒伪劣 complaints in 12 months pending
review (``complaint_threshold``); forget impersonation sightings unseen for half a year
(``impersonation``).
Every step is safe to repeat the same day; the mails are queued and go out after the commit.
"""
from __future__ import annotations

from datetime import date

import click
from flask import Flask

from ..clock import china_today
from ..extensions import db
from . import annual_confirmation, authorizations, complaint_threshold, impersonation


def run(today: date | None = None) -> dict:
    """One pass of every dynamic-management rule; returns what it did. Flushes, never commits."""
    today = today or china_today()
    counts = {"asked": annual_confirmation.ask_due(today), "lapsed": annual_confirmation.lapse_due(today)}
    counts.update(authorizations.expire_due(today))
    counts["complaint_threshold"] = complaint_threshold.suspend_over_threshold(today)
    counts["sightings_purged"] = impersonation.purge()
    return counts


def register_cli(app: Flask) -> None:
    @app.cli.command("dynamic-management")
    def dynamic_management_command():
        """Annual confirmations, authorization expiry, complaint threshold, watch housekeeping (daily, idempotent)."""
        counts = run()
        db.session.commit()  # the queued mails go out after this commit, and only if it succeeds
        click.echo(f"年度确认：新发出提醒 {counts['asked']} 家，逾期暂停 {counts['lapsed']} 家；"
                   f"品牌授权：到期 {counts['expired']} 项（暂停店铺 {counts['suspended_shops']} 家），"
                   f"到期提醒 {counts['warned']} 项；假冒伪劣投诉达到限额暂停店铺 {counts['complaint_threshold']} 家；"
                   f"仿冒监测清理 {counts['sightings_purged']} 条。")
