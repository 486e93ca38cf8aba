"""Staff create, edit, hide and show 网购节 events.

Staff type start and end in China time (what the campaign announces); they are stored as naive
UTC through ``clock.china_local_to_utc``. Every change writes an audit entry. An event's window
can only be changed so that the offers already submitted (pending or approved) still fit in it,
so an approved offer never ends up outside its event.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ... import clock
from ...extensions import db
from ...models import Industry, Offer, OfferStatus, ShoppingEvent
from ...validation import ValidationError
from ...validation.text import clean_text
from .. import NotFound
from ..audit import record
from ..images import store_image
from ..listings.common import FieldErrors
from ..versioning import begin_edit
from .window import typed_window

MAX_NAME = 40
MAX_DESCRIPTION = 2000
MAX_DAYS = 92  # a quarter: the national 双品网购节 ran for about two weeks
BANNER_MAX_SIDE = 1200  # banners are shown full width on a desktop; logos stop at 512
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
OPEN_STATUSES = (OfferStatus.PENDING, OfferStatus.APPROVED)


def get_event(event_id: int) -> ShoppingEvent:
    """The event ``event_id`` (hidden ones too: this is for staff), or ``NotFound``."""
    event = db.session.get(ShoppingEvent, event_id)
    if event is None:
        raise NotFound("网购节不存在。")
    return event


def _clean_slug(raw, event: ShoppingEvent | None) -> str:
    slug = (raw or "").strip().lower()
    if not slug:
        raise ValidationError("请填写网址标识。")
    if not 3 <= len(slug) <= 60 or not SLUG_RE.fullmatch(slug):
        raise ValidationError("网址标识须为 3–60 个小写字母、数字或连字符（如 guanghuo-2026），不能以连字符开头或结尾。")
    taken = select(ShoppingEvent.id).where(ShoppingEvent.slug == slug)
    if event is not None:
        taken = taken.where(ShoppingEvent.id != event.id)
    if db.session.scalar(taken) is not None:
        raise ValidationError("该网址标识已被其他网购节使用。")
    return slug


def _clean_window(data: dict, errors: dict, out: dict) -> None:
    """Start and end typed in China time -> naive UTC in ``out``; problems into ``errors``."""
    out.update(typed_window(data, errors))
    if "starts_at" in out and "ends_at" in out:
        if out["ends_at"] <= out["starts_at"]:
            errors["ends_at"] = "结束时间必须晚于开始时间。"
        elif out["ends_at"] - out["starts_at"] > timedelta(days=MAX_DAYS):
            errors["ends_at"] = f"一期网购节最长 {MAX_DAYS} 天。"


def _clean_industries(raw_ids, errors: dict) -> list[Industry]:
    ids = set()
    for raw in raw_ids or []:
        try:
            ids.add(int(raw))
        except (TypeError, ValueError):
            errors["industry_ids"] = "请选择有效的行业。"
            return []
    found = list(db.session.scalars(select(Industry).where(Industry.id.in_(ids), Industry.active.is_(True))
                                    .order_by(Industry.position))) if ids else []
    if len(found) != len(ids):
        errors["industry_ids"] = "请选择有效的行业。"
    return found


def clean_event_fields(data: dict, event: ShoppingEvent | None = None) -> dict:
    """Validate an event form; return the cleaned values (times in UTC) or raise ``FieldErrors``.

    ``data`` keys: name, slug, starts_at / ends_at (naive datetimes typed in China time),
    description, industry_ids (empty = every industry may take part).
    """
    errors: dict[str, str] = {}
    out: dict = {}
    for key, check in (
        ("name", lambda v: clean_text(v, field="活动名称", max_length=MAX_NAME, required=True)),
        ("slug", lambda v: _clean_slug(v, event)),
        ("description", lambda v: clean_text(v, field="活动介绍", max_length=MAX_DESCRIPTION, multiline=True)),
    ):
        try:
            out[key] = check(data.get(key))
        except ValidationError as err:
            errors[key] = str(err)
    _clean_window(data, errors, out)
    out["industries"] = _clean_industries(data.get("industry_ids"), errors)
    if errors:
        raise FieldErrors(errors)
    return out


def _store_banner(banner: bytes | None) -> str | None:
    if not banner:
        return None
    try:
        return store_image(banner, max_side=BANNER_MAX_SIDE).sha256
    except ValidationError as err:
        raise FieldErrors({"banner": str(err)}) from None


def snapshot(event: ShoppingEvent) -> dict:
    """The editable fields of an event, for the audit log."""
    return {"name": event.name, "slug": event.slug, "description": event.description,
            "starts_at": event.starts_at.isoformat() if event.starts_at else None,
            "ends_at": event.ends_at.isoformat() if event.ends_at else None,
            "industries": [i.name for i in event.industries], "banner_sha256": event.banner_sha256,
            "hidden": bool(event.hidden)}


def create_event(actor, data: dict, banner: bytes | None = None, now: datetime | None = None) -> ShoppingEvent:
    """Create an event from a staff form (``clean_event_fields``); it must not have ended yet."""
    now = now or clock.utc_now()
    values = clean_event_fields(data)
    if values["ends_at"] <= now:
        raise FieldErrors({"ends_at": "结束时间已经过去，请填写将来的时间。"})
    banner_sha = _store_banner(banner)
    event = ShoppingEvent(slug=values["slug"], name=values["name"], description=values["description"],
                          starts_at=values["starts_at"], ends_at=values["ends_at"], banner_sha256=banner_sha,
                          industries=values["industries"], hidden=False, created_by_id=getattr(actor, "id", None))
    db.session.add(event)
    db.session.flush()
    record("event.create", actor=actor, entity_kind="shopping_event", entity_id=event.id, after=snapshot(event))
    return event


def _offers_outside(event: ShoppingEvent, starts_at: datetime, ends_at: datetime) -> int:
    """Pending or approved offers of ``event`` that would fall outside a new window."""
    return db.session.scalar(select(func.count()).select_from(Offer).where(
        Offer.event_id == event.id, Offer.status.in_(OPEN_STATUSES),
        or_(Offer.starts_at < starts_at, Offer.ends_at > ends_at))) or 0


def update_event(actor, event_id: int, data: dict, banner: bytes | None = None,
                 now: datetime | None = None, seen_version=None) -> ShoppingEvent:
    """Change an event's fields (and banner when a new one is uploaded). ``seen_version``: the
    version the staff member's form showed; an edit from an outdated page is an ``EditConflict``."""
    now = now or clock.utc_now()
    event = get_event(event_id)
    begin_edit(event, seen_version)
    values = clean_event_fields(data, event)
    for key in ("starts_at", "ends_at"):  # the form shows minutes: an untouched time stays as stored
        if values[key] == getattr(event, key).replace(second=0, microsecond=0):
            values[key] = getattr(event, key)
    if values["ends_at"] != event.ends_at and values["ends_at"] <= now:
        raise FieldErrors({"ends_at": "新的结束时间已经过去，请填写将来的时间。"})
    outside = _offers_outside(event, values["starts_at"], values["ends_at"])
    if outside:
        raise FieldErrors({"starts_at": f"已有 {outside} 项优惠的有效期超出新的活动时间，请先处理这些优惠。"})
    banner_sha = _store_banner(banner)
    before = snapshot(event)
    event.name, event.slug, event.description = values["name"], values["slug"], values["description"]
    event.starts_at, event.ends_at, event.industries = values["starts_at"], values["ends_at"], values["industries"]
    if banner_sha:
        event.banner_sha256 = banner_sha
    db.session.flush()
    after = snapshot(event)
    if after != before:
        record("event.update", actor=actor, entity_kind="shopping_event", entity_id=event.id,
               before=before, after=after)
    return event


def set_hidden(actor, event_id: int, hidden: bool) -> ShoppingEvent:
    """Take an event off the public site (and out of enrolment), or put it back."""
    event = get_event(event_id)
    if bool(event.hidden) == hidden:
        return event
    event.hidden = hidden
    db.session.flush()
    record("event.hide" if hidden else "event.show", actor=actor, entity_kind="shopping_event",
           entity_id=event.id, before={"hidden": not hidden}, after={"hidden": hidden})
    return event


def staff_events() -> list[tuple[ShoppingEvent, dict[str, int]]]:
    """Every event, newest start first, with its number of offers per status."""
    counts: dict[int, dict[str, int]] = {}
    for event_id, status, n in db.session.execute(
            select(Offer.event_id, Offer.status, func.count()).group_by(Offer.event_id, Offer.status)):
        counts.setdefault(event_id, {})[status] = n
    events = db.session.scalars(select(ShoppingEvent).order_by(ShoppingEvent.starts_at.desc(),
                                                               ShoppingEvent.id.desc()))
    return [(e, counts.get(e.id, {})) for e in events]
