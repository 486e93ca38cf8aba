"""The certification changes feed (``GET /api/v1/changes``): one row per certification event
(certified, suspended, revoked, expired, reinstated, authorization_withdrawn), in commit order.

Each event comes from one audit entry (``audit_id``, unique: a backfill can run again) and keeps
a snapshot of the public facts it concerns (the enterprise's name and code, the shop's name,
platform and address) as they were then: a later rename or a removed shop does not rewrite
history, and nothing that was never public is ever in it (``services.changes``). No foreign
keys, so removing a shop or an enterprise keeps its events.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigId


class EventType:
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REINSTATED = "reinstated"
    AUTHORIZATION_WITHDRAWN = "authorization_withdrawn"
    ALL = (CERTIFIED, SUSPENDED, REVOKED, EXPIRED, REINSTATED, AUTHORIZATION_WITHDRAWN)
    LABELS = {CERTIFIED: "认证生效", SUSPENDED: "认证暂停", REVOKED: "认证撤销", EXPIRED: "认证过期",
              REINSTATED: "认证恢复", AUTHORIZATION_WITHDRAWN: "品牌授权失效，店铺暂停"}


class CertificationEvent(db.Model):
    __tablename__ = "certification_event"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime)
    enterprise_id: Mapped[int] = mapped_column(Integer, index=True)
    shop_id: Mapped[int | None] = mapped_column(Integer)
    certificate: Mapped[str | None] = mapped_column(String(20))
    enterprise: Mapped[dict] = mapped_column(JSON)
    shop: Mapped[dict | None] = mapped_column(JSON)
    audit_id: Mapped[int] = mapped_column(BigInteger, unique=True)
