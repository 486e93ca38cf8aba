"""A ledger of reminder mails already sent, so periodic commands are safe to repeat."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..clock import utc_now


class ReminderSent(db.Model):
    """One reminder, named by a key such as ``complaint:12:negotiating:2026-10-20``."""

    __tablename__ = "reminder_sent"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
