"""Proof of shop control: a short verification code per shop (``GDWS-7F3K``) that the merchant
puts in the shop's announcement or description, and the reviewer's check of it.

The portal makes no outbound request: the reviewer opens the shop's link in a new tab, looks for
the code, and marks the shop "验证码已核实" — or waives the check with a written reason. Approving
an application that would make shops public (``shops_to_check``) is refused until every such shop
is marked (``require_shop_checks``, called first thing by ``services.review.approve``); each mark
and waiver goes to the audit log in the approval's own transaction, so a refused approval records
nothing.

The alphabet leaves out 0/O, 1/I/L and U so a code read aloud or typed from a screenshot is
unambiguous; codes are unique (checked before use, and by the column's unique constraint).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import AppKind, Application, AppStatus, Shop, Status
from . import NotFound, ServiceError
from .audit import record

PREFIX = "GDWS-"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 4
VERIFIED = "verified"
WAIVED = "waived"
MAX_WAIVE_REASON = 500
MSG_MISSING = "请先逐个核实店铺验证码：在店铺公告或简介中找到验证码后勾选“验证码已核实”，或填写免除核实的理由。未核实的店铺：{names}。"
MSG_NO_CODE = "店铺「{name}」提交时还没有验证码（早于验证码要求），无法核实验证码，只能写明理由免除核实。"
MSG_REASON = "免除核实店铺「{name}」的验证码时，请写明理由（记入审计日志）。"


def new_code(length: int = CODE_LENGTH) -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(length))


def free_code() -> str:
    """An unused verification code (a longer one after repeated collisions, which only a very
    full code space would cause)."""
    with db.session.no_autoflush:
        for attempt in range(20):
            code = new_code(CODE_LENGTH + attempt // 10)
            if db.session.scalar(select(Shop.id).where(Shop.verify_code == code)) is None:
                return code
    raise ServiceError("暂时无法生成店铺验证码，请稍后重试。")


def assign_code(shop: Shop) -> str:
    """Give ``shop`` its verification code if it has none; returns the code."""
    if not shop.verify_code:
        shop.verify_code = free_code()
    return shop.verify_code


def shops_to_check(application: Application) -> list[Shop]:
    """The shops whose control the approval would vouch for: a new enterprise's pending shops, a
    new shop, or a shop whose address changes. Claims and other edits make no shop public."""
    if application.kind == AppKind.ENTERPRISE:
        return [s for s in application.enterprise.shops if s.status == Status.PENDING]
    if application.kind == AppKind.SHOP and application.shop is not None:
        return [application.shop]
    if application.kind == AppKind.SHOP_EDIT and application.shop is not None:
        payload = application.payload or {}
        if "url" in payload and payload["url"] != application.shop.url:
            return [application.shop]
    return []


@dataclass
class ShopCheck:
    """The reviewer's mark for one shop: ``VERIFIED``, or ``WAIVED`` with a reason."""

    result: str
    reason: str = ""


def require_shop_checks(app_id: int, actor, checks: dict[int, ShopCheck] | None) -> None:
    """Refuse the approval unless every shop in ``shops_to_check`` is verified or waived with a
    reason; record each mark in the audit log. Raises ``ServiceError`` with the shops missing."""
    application = db.session.get(Application, app_id)
    if application is None:
        raise NotFound("申请不存在。")
    if application.status != AppStatus.PENDING:
        return  # decide() reports the decision already made
    checks = checks or {}
    shops = shops_to_check(application)
    missing = [s for s in shops if checks.get(s.id) is None or checks[s.id].result not in (VERIFIED, WAIVED)]
    if missing:
        raise ServiceError(MSG_MISSING.format(names="、".join(f"「{s.name}」" for s in missing)))
    for shop in shops:
        mark = checks[shop.id]
        reason = (mark.reason or "").strip()[:MAX_WAIVE_REASON]
        if mark.result == WAIVED and not reason:
            raise ServiceError(MSG_REASON.format(name=shop.name))
        if mark.result == VERIFIED and not shop.verify_code:
            raise ServiceError(MSG_NO_CODE.format(name=shop.name))
        label = "店铺验证码已核实" if mark.result == VERIFIED else f"免除核实店铺验证码：{reason}"
        record(f"shop.code_{mark.result}", actor=actor, entity_kind="shop", entity_id=shop.id,
               enterprise_id=shop.enterprise_id,
               after={"verify_code": shop.verify_code, "check": mark.result, "url": shop.url, "reason": reason},
               note=f"申请 #{application.id}：{label}")
