"""Evidence an applicant hands in with an application: the business licence (营业执照) and the
people behind the enterprise. All of it is private — only the uploader and staff ever see it
(``services/evidence.py`` and the routes in ``views/evidence.py``); nothing here is exported,
indexed, cached or put in the API.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db

PDF_MIME = "application/pdf"


class Evidence(db.Model):
    """One submission of evidence for an enterprise by one user. The licence is either an image
    re-encoded by the image pipeline, or a checked PDF (metadata removed) with its pages rendered
    to images for staff (``EvidencePage``)."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    legal_representative: Mapped[str] = mapped_column(String(40))
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_mobile: Mapped[str] = mapped_column(String(11))
    contact_email: Mapped[str] = mapped_column(String(254))
    registered_address: Mapped[str] = mapped_column(String(200))
    licence_mime: Mapped[str] = mapped_column(String(40))
    licence_sha256: Mapped[str] = mapped_column(String(64))
    licence_data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)

    enterprise = relationship("Enterprise")
    uploaded_by = relationship("User")
    pages: Mapped[list["EvidencePage"]] = relationship(
        order_by="EvidencePage.page_no", cascade="all, delete-orphan", back_populates="evidence")

    @property
    def is_pdf(self) -> bool:
        return self.licence_mime == PDF_MIME


class EvidencePage(db.Model):
    """One page of a PDF licence, rendered to an image (what staff look at)."""

    __tablename__ = "evidence_page"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)  # 1-based
    mime: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    evidence: Mapped[Evidence] = relationship(back_populates="pages")
