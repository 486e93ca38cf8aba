"""Outgoing mail: SMTP when ``MAIL_SERVER`` is set, otherwise a file in ``instance/outbox``.

The file outbox (plus a log line) lets the whole register / reset-password / decision flow work
on the embedded default without a mail server; tests read the outbox to follow links.
"""
from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from ..clock import utc_now

log = logging.getLogger(__name__)


def outbox_dir() -> Path:
    path = Path(current_app.instance_path) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail now. Failures are logged, never raised to the user's request."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if cfg["MAIL_SERVER"]:
        try:
            with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
                if cfg["MAIL_USE_TLS"]:
                    smtp.starttls()
                if cfg["MAIL_USERNAME"]:
                    smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException):
            log.exception("sending mail to %s failed", to)
        return
    name = f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    (outbox_dir() / name).write_bytes(bytes(msg))
    log.info("mail to %s (%s) written to %s", to, subject, outbox_dir() / name)


def read_outbox() -> list[EmailMessage]:
    """Mails written to the file outbox, oldest first (for tests and local development)."""
    from email import policy
    from email.parser import BytesParser

    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(outbox_dir().glob("*.eml"))]
