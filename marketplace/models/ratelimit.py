"""Rate-limit counters in the application database, for ``RATELIMIT_STORAGE_URI=database://``.

Flask-Limiter's default ``memory://`` storage counts per process: behind gunicorn's N workers a
"10 failed logins per 15 minutes" limit becomes 10 per worker, and machines do not share counts.
With ``database://`` the fixed-window counters live in one table of the database every worker
already uses (SQLite or PostgreSQL), updated by a single atomic upsert per hit, on its own
connection so it never joins (or is rolled back with) the request's transaction.

Importing this module registers the ``database`` scheme with the ``limits`` package; the models
package imports it, so it is registered before ``limiter.init_app`` runs.
"""
from __future__ import annotations

import hashlib
import random

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, case, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import timestamp
from ..extensions import db

MAX_KEY = 200


class RateLimitCounter(db.Model):
    """One fixed-window counter: ``count`` hits until ``expires_at`` (epoch seconds)."""

    __tablename__ = "rate_limit_counter"
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


def _key(key: str) -> str:
    """Keys embed the email being limited; long ones are hashed to fit the column."""
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseStorage(Storage):
    """``limits`` storage backed by the ``rate_limit_counter`` table (fixed-window strategy)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _engine():
        return db.engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter, starting a new window when the old one has expired."""
        now = timestamp()
        table = RateLimitCounter.__table__
        engine = self._engine()
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        expired = table.c.expires_at <= now
        stmt = insert(table).values(key=_key(key), count=amount, expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"count": case((expired, amount), else_=table.c.count + amount),
                  "expires_at": case((expired, now + expiry), else_=table.c.expires_at)},
        ).returning(table.c.count)
        with engine.begin() as conn:
            value = conn.execute(stmt).scalar_one()
            if random.random() < 0.01:  # nosec B311 - housekeeping sample, not security: drop old windows
                conn.execute(delete(table).where(table.c.expires_at < now - 3600))
        return int(value)

    def get(self, key: str) -> int:
        """The count in the current window (0 when none or expired)."""
        table = RateLimitCounter.__table__
        with self._engine().connect() as conn:
            value = conn.execute(select(table.c.count).where(
                table.c.key == _key(key), table.c.expires_at > timestamp())).scalar()
        return int(value or 0)

    def get_expiry(self, key: str) -> float:
        """When the current window ends (now when there is none)."""
        table = RateLimitCounter.__table__
        now = timestamp()
        with self._engine().connect() as conn:
            value = conn.execute(select(table.c.expires_at).where(
                table.c.key == _key(key), table.c.expires_at > now)).scalar()
        return float(value or now)

    def check(self) -> bool:
        """Is the database reachable?"""
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        """Drop every counter."""
        with self._engine().begin() as conn:
            return conn.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Drop one counter."""
        with self._engine().begin() as conn:
            conn.execute(delete(RateLimitCounter.__table__).where(RateLimitCounter.__table__.c.key == _key(key)))
