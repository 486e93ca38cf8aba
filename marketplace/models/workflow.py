"""Review workflow: applications staff decide on, and the audit log of every decision/change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import BigId
from ..clock import utc_now


class AppKind:
    """What an application asks staff to decide."""

    ENTERPRISE = "enterprise"  # certify a new enterprise with its shops
    CLAIM = "claim"  # take control of an imported enterprise
    ENTERPRISE_EDIT = "enterprise_edit"  # change fields of a certified enterprise (payload)
    SHOP = "shop"  # certify a new shop of a certified enterprise
    SHOP_EDIT = "shop_edit"  # change a certified shop (payload)
    LABELS = {
        ENTERPRISE: "企业认证",
        CLAIM: "认领企业",
        ENTERPRISE_EDIT: "企业信息变更",
        SHOP: "新增店铺",
        SHOP_EDIT: "店铺信息变更",
    }


class AppStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # a claim that another claim on the same enterprise beat (reason says why)
    LABELS = {PENDING: "审核中", APPROVED: "已通过", REJECTED: "未通过", WITHDRAWN: "已撤回", LAPSED: "已失效"}


class Application(db.Model):
    """One request for review. Pending edits live in ``payload`` until approved, so the
    approved version stays public meanwhile. Decisions are made with a conditional UPDATE on
    ``status = 'pending'`` so two staff deciding at once cannot both win."""

    __tablename__ = "application"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=AppStatus.PENDING, index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # services/versioning.py
    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise")
    shop = relationship("Shop")
    applicant = relationship("User", foreign_keys=[applicant_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    evidence = relationship("Evidence")

    @property
    def kind_label(self) -> str:
        return AppKind.LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return AppStatus.LABELS.get(self.status, self.status)


class AuditLog(db.Model):
    """Append-only record of staff decisions and listing changes (who, when, what, before/after)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_kind: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    enterprise_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User")
