"""Re-check every stored shop URL and enterprise website with today's URL rules
(``validation.urls``): ``flask --app app check-urls [--apply]``.

URLs stored before the WHATWG parser was used may point a browser somewhere other than they
seem to (``https://evil.example\\.tmall.com/``). The check reports every stored URL that fails;
with ``apply`` it suspends each *certified* shop whose URL fails, through
``lifecycle.set_shop_status`` (reason, audit entry, search re-index, mail to the merchant).
Shops that are not public are only reported: review checks them again before they can become
public. Websites are only reported: the enterprise page links a website only while it passes
(``validation.urls.checked_href``), so a failing one is shown as text until the owner corrects it.

Idempotent: a suspended shop is not certified any more, so a second run changes nothing.
The data migration ``9d2f6b1c4e7a`` asks ``flask init-db`` to run it with ``apply`` after the upgrade.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Enterprise, Shop, Status
from ..validation import ValidationError
from ..validation.urls import parse_web_url, shop_url_problem

log = logging.getLogger(__name__)
SUSPEND_REASON = "网址复核未通过：{problem}请在商家中心修改店铺网址后重新提交审核。"
BATCH = 2000
MAX_LISTED = 200


@dataclass
class UrlCheckReport:
    """What one run found and did; ``failures`` lists (kind, id, status, url, problem)."""

    shops_checked: int = 0
    websites_checked: int = 0
    failures: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    suspended: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printed by the command (the first ``MAX_LISTED`` failures in full)."""
        out = [f"已检查店铺网址 {self.shops_checked} 个，企业官网 {self.websites_checked} 个；"
               f"未通过 {len(self.failures)} 个；暂停认证店铺 {len(self.suspended)} 家。"]
        for kind, row_id, status, url, problem in self.failures[:MAX_LISTED]:
            noun = "店铺" if kind == "shop" else "企业官网"
            out.append(f"  {noun} #{row_id}（{status}）{url!r}：{problem}")
        if len(self.failures) > MAX_LISTED:
            out.append(f"  ……另有 {len(self.failures) - MAX_LISTED} 个未列出。")
        return out


def website_problem(website: str) -> str | None:
    """Why a stored website would be refused today, or None (empty websites pass)."""
    if not website:
        return None
    try:
        parse_web_url(website, field="官网")
    except ValidationError as err:
        return str(err)
    return None


def _check_shops(report: UrlCheckReport, apply: bool, actor) -> None:
    from .lifecycle import set_shop_status

    last_id = 0
    while True:
        shops = db.session.scalars(
            select(Shop).options(joinedload(Shop.enterprise)).where(Shop.id > last_id)
            .order_by(Shop.id).limit(BATCH)).all()
        if not shops:
            return
        for shop in shops:
            report.shops_checked += 1
            plat = shop.platform
            problem = shop_url_problem(shop.url, plat.host_list, platform_name=plat.name,
                                       website=shop.enterprise.website)
            if problem is None:
                continue
            report.failures.append(("shop", shop.id, shop.status, shop.url, problem))
            if apply and shop.status == Status.CERTIFIED:
                set_shop_status(shop, Status.SUSPENDED, actor, SUSPEND_REASON.format(problem=problem))
                report.suspended.append(shop.id)
        last_id = shops[-1].id


def _check_websites(report: UrlCheckReport) -> None:
    rows = db.session.execute(select(Enterprise.id, Enterprise.status, Enterprise.website)
                              .where(Enterprise.website != "").order_by(Enterprise.id))
    for ent_id, status, website in rows:
        report.websites_checked += 1
        problem = website_problem(website)
        if problem is not None:
            report.failures.append(("website", ent_id, status, website, problem))


def check_stored_urls(apply: bool = False, actor=None) -> UrlCheckReport:
    """Check every stored shop URL and website; with ``apply``, suspend failing certified shops.

    Flushes, never commits; the merchants' mails are queued and go out after the caller's commit.
    """
    report = UrlCheckReport()
    _check_shops(report, apply, actor)
    _check_websites(report)
    db.session.flush()
    return report


def apply_and_report(say=None) -> UrlCheckReport:
    """Apply the check, commit (the queued mails go out after it) and tell the report line by line
    (``say``, e.g. ``click.echo``; a warning log line by default)."""
    report = check_stored_urls(apply=True)
    db.session.commit()
    for line in report.lines():
        (say or log.warning)(line)
    return report


def register_cli(app: Flask) -> None:
    """``flask --app app check-urls [--apply]``."""

    @app.cli.command("check-urls")
    @click.option("--apply", is_flag=True, help="暂停网址未通过复核的认证店铺（并记录审计、通知商家）")
    def check_urls_command(apply: bool):
        """Re-check stored shop URLs and websites with the browser's URL parser (report; --apply suspends)."""
        if apply:
            apply_and_report(say=click.echo)
            return
        report = check_stored_urls(apply=False)
        db.session.rollback()
        for line in report.lines():
            click.echo(line)
        if any(kind == "shop" and status == Status.CERTIFIED for kind, _, status, _, _ in report.failures):
            click.echo("这是试运行；加 --apply 暂停上面未通过的认证店铺。")
