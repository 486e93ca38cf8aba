"""The reminder ledger: periodic commands ask it before mailing, so running them twice sends nothing twice."""
from __future__ import annotations

from collections import defaultdict

from .. import clock
from ..extensions import db
from ..models import ReminderSent
from .mail import queue_mail


def first_time(key: str) -> bool:
    """True, and remembered in the current transaction, when no reminder named ``key`` was sent yet."""
    if db.session.get(ReminderSent, key) is not None:
        return False
    db.session.add(ReminderSent(key=key, sent_at=clock.utc_now()))
    return True


class Digest:
    """Lines per recipient, turned into one mail each (a busy day is one mail, not fifty)."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = defaultdict(list)

    def add(self, email: str, line: str) -> None:
        self.lines[email].append(line)

    def queue(self, subject: str, intro: str, outro: str) -> int:
        """Queue one mail per recipient (sent after the commit, ``services.mail``); how many."""
        for email, lines in sorted(self.lines.items()):
            queue_mail(email, f"【广货网上行】{subject}",
                       "您好：\n\n" + intro + "\n\n" + "\n".join(f"· {line}" for line in lines) + f"\n\n{outro}\n")
        return len(self.lines)
