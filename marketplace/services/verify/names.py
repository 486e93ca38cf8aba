"""Names in a verify query: a brand or company name typed instead of a link, and the brands a
pasted share text mentions. Only certified enterprises are ever named: an enterprise that was
never public gets exactly the answer an unknown name gets.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, literal, or_, select

from ...extensions import db
from ...models import Brand, Enterprise, Status
from ...validation import ValidationError
from ...validation.text import normalize_key
from .identity import URL_IN_TEXT, has_cjk
from .results import ADVICE_NOT_FOUND, Outcome, VerifyResult

MAX_NAME = 60
MAX_MATCHES = 10


def brands_mentioned(text: str, limit: int = 3) -> list[Enterprise]:
    """Certified enterprises whose brand (2+ characters) appears in ``text`` — share texts name
    the shop (「某某官方旗舰店」), which tells the consumer whose official shops to compare with."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(URL_IN_TEXT.sub(" ", text)[:500].casefold().split())
    if not has_cjk(text) and not re.search(r"[a-z]{3}", text):
        return []
    rows = db.session.scalars(
        select(Enterprise).join(Brand, Brand.enterprise_id == Enterprise.id)
        .where(Enterprise.status == Status.CERTIFIED, func.length(Brand.name_key) >= 2,
               literal(text).contains(Brand.name_key))
        .order_by(func.length(Brand.name_key).desc(), Enterprise.id).limit(limit * 3)
    )
    out: list[Enterprise] = []
    for ent in rows:
        if ent not in out:
            out.append(ent)
    return out[:limit]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def enterprises_named(key: str) -> list[Enterprise]:
    """Certified enterprises whose legal name or a brand contains ``key`` (or, for a brand of two
    or more characters, is contained in it: ``美的官方旗舰店`` names 美的); exact names first."""
    like = f"%{_escape_like(key)}%"
    brand_hit = select(Brand.enterprise_id).where(or_(
        Brand.name_key.like(like, escape="\\"),
        (func.length(Brand.name_key) >= 2) & literal(key).contains(Brand.name_key)))
    rows = db.session.scalars(
        select(Enterprise).where(
            Enterprise.status == Status.CERTIFIED,
            or_(Enterprise.name_key.like(like, escape="\\"), Enterprise.id.in_(brand_hit)))
        .order_by(func.length(Enterprise.name_key), Enterprise.id).limit(MAX_MATCHES * 5)).all()
    exact = [e for e in rows if e.name_key == key or key in (b.name_key for b in e.brands)]
    return (exact + [e for e in rows if e not in exact])[:MAX_MATCHES]


def verify_name(raw: str) -> VerifyResult:
    """Look certified enterprises up by a brand or company name."""
    key = normalize_key(raw)
    if len(key) < 2:
        raise ValidationError("请至少输入两个字的品牌或企业名称，或粘贴店铺链接。")
    if len(key) > MAX_NAME:
        raise ValidationError(f"名称不能超过 {MAX_NAME} 个字；如果是分享文字，请只粘贴其中的链接。")
    shown = " ".join(unicodedata.normalize("NFKC", raw).split())
    matches = enterprises_named(key)
    if not matches:
        return VerifyResult(
            "name", shown, Outcome.NOT_FOUND,
            f"没有名称或品牌与“{shown}”相符的广货网上行认证企业。名称相近的店铺不一定是官方店铺，请以本站名录为准。",
            advice=list(ADVICE_NOT_FOUND))
    names = "、".join(e.display_name for e in matches[:3]) + ("等" if len(matches) > 3 else "")
    return VerifyResult(
        "name", shown, Outcome.NAME_MATCH,
        f"找到 {len(matches)} 家名称或品牌与“{shown}”相符的认证企业：{names}。"
        "请从下面列出的认证店铺进入购买；名称相同但不在列表中的店铺不是本站认证的店铺。",
        matches=matches)
