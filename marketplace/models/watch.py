"""Impersonation watch: ``/verify`` misses that name a certified brand, counted per brand owner
and host.

Bounded and without personal data: only the host of the pasted link is kept (never its path,
query string or the pasted text, which can carry share tokens and user ids), with a count and
the first and last time it was seen; each enterprise keeps at most a fixed number of hosts and
rows not seen for a while are purged (``services.impersonation``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db


class SightingKind:
    LOOKALIKE = "lookalike"  # a host on no platform imitating a certified shop (verify: suspicious)
    HOST = "host"  # a listing that is not certified whose host spells the brand's shop or name
    MENTION = "mention"  # the pasted text names the brand, the link is not one of its shops
    LABELS = {LOOKALIKE: "仿冒域名", HOST: "域名含品牌", MENTION: "文字提到品牌"}


class ImpersonationSighting(db.Model):
    __tablename__ = "impersonation_sighting"
    __table_args__ = (UniqueConstraint("enterprise_id", "host", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(12))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)

    enterprise = relationship("Enterprise")

    @property
    def kind_label(self) -> str:
        return SightingKind.LABELS.get(self.kind, self.kind)
