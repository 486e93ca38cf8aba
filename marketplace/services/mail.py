"""Outgoing mail: queued with the database transaction, sent after it commits.

Services call ``queue_mail(to, subject, body)`` while they change data. The queue lives in the
SQLAlchemy session (``session.info``) and follows its transaction: the ``after_commit`` event
sends it, and the end of a transaction that did not commit (a rollback, a closed session) drops
it. So no mail announces a change that was rolled back, and no SMTP call happens while a
transaction holds locks, whoever commits: the request's unit of work (``marketplace.unit_of_work``),
a CLI command such as ``expire-certificates``, or a test.

Sending goes through Flask-Mailman: SMTP when ``MAIL_SERVER`` is set, otherwise its file backend
writing into ``instance/outbox`` (plus a log line), so the register / reset-password / decision
flows work on the embedded default without a mail server. ``read_outbox()`` reads those files
back (tests and local development). A failed send is logged, never raised: the change it
announces is already committed.
"""
from __future__ import annotations

import itertools
import logging
import os
import smtplib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage as ParsedMessage
from email.parser import BytesParser
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMessage, Mail
from flask_mailman.backends.file import EmailBackend as FileBackend
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import clock

log = logging.getLogger(__name__)

mail = Mail()
QUEUE_KEY = "marketplace.mail_queue"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Flask-Mailman's file backend writes after each message
_file_numbers = itertools.count(1)


@dataclass(frozen=True)
class QueuedMail:
    """A plain-text mail waiting for its transaction to commit."""

    to: str
    subject: str
    body: str


class OutboxBackend(FileBackend):
    """Flask-Mailman's file backend with file names that sort in sending order (UTC time to the
    microsecond, then a per-process counter), so ``read_outbox()`` lists mails oldest first."""

    def _get_filename(self):
        if self._fname is None:
            name = f"{clock.utc_now():%Y%m%dT%H%M%S%f}-{next(_file_numbers):06d}-{os.getpid()}.log"
            self._fname = os.path.join(self.file_path, name)
        return self._fname


def outbox_dir() -> Path:
    """The folder the file backend writes to (``instance/outbox``)."""
    return Path(current_app.instance_path) / "outbox"


def init_app(app: Flask) -> None:
    """Configure Flask-Mailman from our keys: SMTP when ``MAIL_SERVER`` is set, else the outbox."""
    cfg = app.config
    cfg.setdefault("MAIL_DEFAULT_SENDER", cfg["MAIL_SENDER"])
    cfg.setdefault("MAIL_TIMEOUT", 10)
    cfg.setdefault("MAIL_FILE_PATH", str(Path(app.instance_path) / "outbox"))
    if not cfg.get("MAIL_BACKEND"):
        cfg["MAIL_BACKEND"] = "smtp" if cfg["MAIL_SERVER"] else OutboxBackend
    mail.init_app(app)


def queue_mail(to: str, subject: str, body: str, session: Session | None = None) -> None:
    """Send this mail once the current transaction commits (dropped if it does not)."""
    if session is None:
        from ..extensions import db

        session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even one before any SQL, ends it and drops the mail
    session.info.setdefault(QUEUE_KEY, []).append(QueuedMail(to, subject, body))


def queued_mail(session: Session | None = None) -> list[QueuedMail]:
    """The mails the current transaction will send when it commits (for tests)."""
    if session is None:
        from ..extensions import db

        session = db.session()
    return list(session.info.get(QUEUE_KEY, []))


def _send(mails: list[QueuedMail]) -> None:
    """Send ``mails`` over one connection; log failures (the change is committed already)."""
    messages = [EmailMessage(m.subject, m.body, to=[m.to]) for m in mails]
    try:
        with mail.get_connection() as connection:
            connection.send_messages(messages)
    except (OSError, smtplib.SMTPException):
        log.exception("sending %d mail(s) failed", len(messages))
        return
    for m in mails:
        log.info("mail to %s (%s) sent", m.to, m.subject)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    mails = session.info.pop(QUEUE_KEY, None)
    if mails:
        _send(mails)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without committing
        session.info.pop(QUEUE_KEY, None)


def read_outbox() -> list[ParsedMessage]:
    """Mails written to the file outbox, oldest first (for tests and local development)."""
    parser = BytesParser(policy=policy.default)
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    return [parser.parsebytes(part) for path in sorted(folder.glob("*.log"))
            for part in path.read_bytes().split(SEPARATOR) if part.strip()]
