"""One-time form tokens that were used (see ``services.formtoken``).

A form that files something carries a signed token; filing adds a row here in the same
transaction, so a reload or a double click finds the row and is shown the first result instead of
filing twice. The primary key makes two simultaneous submissions of one token collide.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..clock import utc_now


class UsedFormToken(db.Model):
    __tablename__ = "used_form_token"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    purpose: Mapped[str] = mapped_column(String(30))
    result: Mapped[str] = mapped_column(String(100), default="")  # what the first submission made
    used_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, index=True)
