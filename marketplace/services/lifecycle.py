"""After certification: suspend, revoke and reinstate listings; expire certificates.

A status change is all it takes to hide a listing: public pages, search results and ``/go/``
only show certified rows, and the search outbox listener re-indexes the changed rows in the same
transaction. Every change writes an audit entry. ``expire_certificates`` is the daily job
(``flask --app app expire-certificates``): idempotent, it expires what is past its date and
warns owners once, 30 days ahead (``Certification.expiry_warned_at``). Owners' mails are queued
and go out after the commit (``services.mail``), from a request or from the CLI alike.
"""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import select

from ..extensions import db
from ..models import BrandAuthorization, Certification, CertStatus, Enterprise, Shop, ShopAuthorization, Status
from ..clock import china_today, utc_now
from . import ServiceError
from .audit import record
from .mail import queue_mail
from .review import site_link

WARN_DAYS = 30
ACTIONS = {Status.SUSPENDED: "暂停", Status.REVOKED: "撤销"}
CERT_FOR = {Status.SUSPENDED: CertStatus.SUSPENDED, Status.REVOKED: CertStatus.REVOKED}


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写理由。")
    if len(reason) > 1000:
        raise ServiceError("理由不能超过 1000 个字符。")
    return reason


def mail_owner(ent: Enterprise, subject: str, body: str) -> None:
    """Queue a mail to the enterprise's owner (none for an unclaimed enterprise)."""
    if ent.owner is None or not ent.owner.email:
        return
    queue_mail(ent.owner.email, f"【广货网上行】{subject}",
               f"您好：\n\n{body}\n\n商家中心：{site_link('/merchant/')}\n\n广货网上行 工作人员\n")


def _check_transition(listing, noun: str, new_status: str) -> None:
    """Refuse unknown actions and transitions other than certified -> suspended and
    certified/suspended -> revoked, for an enterprise or a shop alike."""
    if new_status not in ACTIONS:
        raise ServiceError("未知的操作。")
    allowed = (Status.CERTIFIED,) if new_status == Status.SUSPENDED else (Status.CERTIFIED, Status.SUSPENDED)
    if listing.status not in allowed:
        raise ServiceError(f"{noun}当前状态为「{listing.status_label}」，不能{ACTIONS[new_status]}。")


def set_enterprise_status(ent: Enterprise, new_status: str, actor, reason: str) -> None:
    """Suspend or revoke a certified (or suspended) enterprise with a reason.

    The current certificate follows (suspended / revoked); the owner is mailed after commit.
    """
    _check_transition(ent, "企业", new_status)
    reason = _reason(reason)
    before = {"status": ent.status}
    ent.status = new_status
    ent.status_reason = reason
    cert = ent.certificate
    if cert is not None and cert.status in (CertStatus.VALID, CertStatus.SUSPENDED):
        cert.status = CERT_FOR[new_status]
        cert.reason = reason
    record(f"enterprise.{new_status}", actor=actor, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before=before, after={"status": new_status, "reason": reason}, note=reason)
    db.session.flush()
    mail_owner(ent, f"您的企业已被{ACTIONS[new_status]}",
                         f"您的企业「{ent.name}」认证已被{ACTIONS[new_status]}，已从公开名录中移除。\n理由：{reason}")


def reinstate_enterprise(ent: Enterprise, actor, note: str = "") -> None:
    """Put a suspended or revoked enterprise back to certified while its certificate is in date."""
    if ent.status not in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"企业当前状态为「{ent.status_label}」，无需恢复。")
    cert = ent.certificate
    if cert is None or cert.valid_until < china_today():
        raise ServiceError("该企业的证书已过期或不存在，需商家重新申请认证。")
    before = {"status": ent.status}
    ent.status = Status.CERTIFIED
    ent.status_reason = ""
    cert.status = CertStatus.VALID
    cert.reason = ""
    record("enterprise.reinstate", actor=actor, entity_kind="enterprise", entity_id=ent.id,
           enterprise_id=ent.id, before=before, after={"status": ent.status}, note=(note or "").strip())
    db.session.flush()
    mail_owner(ent, "您的企业认证已恢复", f"您的企业「{ent.name}」认证已恢复，重新在名录中公开。")


def set_shop_status(shop: Shop, new_status: str, actor, reason: str, *, cause: str | None = None,
                    notify: bool = True) -> None:
    """Suspend or revoke a single certified shop; its ``/go/`` link stops at once.

    ``cause`` is kept in the audit entry when the suspension follows from another record (a
    withdrawn brand authorization: the changes feed says so); ``notify=False`` when the caller
    mails the owner itself (one mail for several shops).
    """
    _check_transition(shop, "店铺", new_status)
    reason = _reason(reason)
    before = {"status": shop.status}
    shop.status = new_status
    shop.status_reason = reason
    after = {"status": new_status, "reason": reason, **({"cause": cause} if cause else {})}
    record(f"shop.{new_status}", actor=actor, entity_kind="shop", entity_id=shop.id,
           enterprise_id=shop.enterprise_id, before=before, after=after, note=reason)
    db.session.flush()
    if notify:
        mail_owner(shop.enterprise, f"您的店铺已被{ACTIONS[new_status]}",
                    f"您的店铺「{shop.name}」（{shop.url}）已被{ACTIONS[new_status]}，不再在名录中展示。\n理由：{reason}")


def _lapsed_authorizations(shop: Shop) -> list[BrandAuthorization]:
    """The brand authorizations the shop is linked to that are not in effect today."""
    links = db.session.scalars(select(ShopAuthorization).where(ShopAuthorization.shop_id == shop.id)).all()
    return [link.authorization for link in links if not link.authorization.in_effect]


def reinstate_shop(shop: Shop, actor, note: str = "") -> None:
    """Put a suspended or revoked shop back to certified (not while a brand authorization it
    depends on is withdrawn or expired: the merchant links a valid one first)."""
    if shop.status not in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"店铺当前状态为「{shop.status_label}」，无需恢复。")
    lapsed = _lapsed_authorizations(shop)
    if lapsed:
        raise ServiceError(f"该店铺关联的「{lapsed[0].brand_name}」品牌授权{lapsed[0].status_label}，"
                           "请商家取得并关联有效授权（或解除关联）后再恢复。")
    before = {"status": shop.status}
    shop.status = Status.CERTIFIED
    shop.status_reason = ""
    record("shop.reinstate", actor=actor, entity_kind="shop", entity_id=shop.id, enterprise_id=shop.enterprise_id,
           before=before, after={"status": shop.status}, note=(note or "").strip())
    db.session.flush()
    mail_owner(shop.enterprise, "您的店铺已恢复", f"您的店铺「{shop.name}」已恢复展示。")


def expire_certificates(today=None) -> dict:
    """Expire certificates past their date and warn owners 30 days ahead (once).

    Safe to run any number of times a day: an expired certificate is not touched again and a
    warning is sent only while ``expiry_warned_at`` is empty. Returns the counts; the owners'
    mails are queued (sent once the caller commits).
    """
    today = today or china_today()
    counts = {"expired": 0, "warned": 0}
    due = db.session.scalars(select(Certification).where(
        Certification.status.in_((CertStatus.VALID, CertStatus.SUSPENDED)),
        Certification.valid_until < today).order_by(Certification.id)).all()
    for cert in due:
        ent = cert.enterprise
        if ent.certificate is not None and ent.certificate.id != cert.id:
            cert.status = CertStatus.EXPIRED  # an old certificate superseded by a newer one
            continue
        cert.status = CertStatus.EXPIRED
        before = {"status": ent.status}
        if ent.status in (Status.CERTIFIED, Status.SUSPENDED):
            ent.status = Status.EXPIRED
            ent.status_reason = f"证书 {cert.number} 已于 {cert.valid_until:%Y-%m-%d} 到期。"
        record("certificate.expire", entity_kind="certificate", entity_id=cert.id, enterprise_id=ent.id,
               before=before, after={"status": ent.status, "certificate": cert.number},
               note=f"证书 {cert.number} 到期")
        counts["expired"] += 1
        mail_owner(ent, "您的认证证书已过期",
                                 f"您的企业「{ent.name}」的证书 {cert.number} 已于 {cert.valid_until:%Y-%m-%d} 到期，"
                                 "企业已从公开名录中移除。请登录商家中心重新提交认证申请。")
    soon = db.session.scalars(select(Certification).where(
        Certification.status == CertStatus.VALID, Certification.expiry_warned_at.is_(None),
        Certification.valid_until >= today,
        Certification.valid_until <= today + timedelta(days=WARN_DAYS)).order_by(Certification.id)).all()
    for cert in soon:
        cert.expiry_warned_at = utc_now()
        counts["warned"] += 1
        days = (cert.valid_until - today).days
        mail_owner(cert.enterprise, f"您的认证证书将在 {days} 天后到期",
                                 f"您的企业「{cert.enterprise.name}」的证书 {cert.number} 将于 "
                                 f"{cert.valid_until:%Y-%m-%d} 到期（还有 {days} 天）。"
                                 "请及时登录商家中心提交续期（重新认证）申请，以免从名录中移除。")
        record("certificate.expiry_warning", entity_kind="certificate", entity_id=cert.id,
               enterprise_id=cert.enterprise_id, note=f"到期前提醒（{days} 天）")
    db.session.flush()
    return counts


def register_cli(app: Flask) -> None:
    """``flask --app app expire-certificates``: the daily certificate job."""

    @app.cli.command("expire-certificates")
    def expire_certificates_command():
        """Expire certificates past their date and warn owners 30 days before (idempotent)."""
        counts = expire_certificates()
        db.session.commit()  # the queued mails go out after this commit, and only if it succeeds
        click.echo(f"已过期证书 {counts['expired']} 张；发送到期提醒 {counts['warned']} 封。")
