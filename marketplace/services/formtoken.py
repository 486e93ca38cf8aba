"""One-time form tokens: a form that files something (a complaint, an objection, an application)
files it once, however often it is sent.

How a form uses it (``views/once.py`` wraps the steps for Flask-WTF forms):

1. The page renders the form with ``issue(purpose)`` in a hidden field: a random value signed with
   the app's secret and the purpose, so junk, another form's token or an old token is refused.
2. On submit, ``previous(token, purpose)`` returns what an earlier successful submission of the
   same token made (a reload, a double click, the back button): show that instead of filing again.
3. Before filing, ``spend(token, purpose)`` consumes the token in the request's own transaction:
   one conditional INSERT (``ON CONFLICT DO NOTHING`` on the token's primary key). The filing
   follows in the same transaction and ``record_result`` notes what it made; the request's unit of
   work commits the token and the filing together, or neither. A refused submission rolls back
   with its token, so the token stays usable: the sender fixes the input and sends the same form
   again (the token is "reusable until it succeeds").
4. Two submissions at the same instant insert the same key: the second INSERT waits for the first
   transaction (PostgreSQL's unique index, SQLite's write lock) and then inserts nothing, and
   ``spend`` hands back the first one's result instead of letting it file again. Should the first
   roll back, the second gets the token and files.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..extensions import db
from ..models import UsedFormToken
from . import ServiceError

MAX_AGE = 24 * 3600  # a form left open for a day must be sent again with a fresh token
KEEP_USED = timedelta(days=2)  # used tokens are remembered a little longer than they live


class StaleForm(ServiceError):
    """The form's token is missing, forged or too old; the form is shown again with a new one."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"form-once:{purpose}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(purpose: str) -> str:
    """A fresh token for one rendering of the ``purpose`` form."""
    return _serializer(purpose).dumps(secrets.token_urlsafe(16))


def check(token: str | None, purpose: str) -> None:
    """Raise ``StaleForm`` unless ``token`` is a token this site issued for ``purpose`` lately."""
    if not token or len(token) > 200:
        raise StaleForm("表单已失效，请再提交一次（您填写的内容已保留）。")
    try:
        _serializer(purpose).loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        raise StaleForm("表单打开时间过长已失效，请再提交一次（您填写的内容已保留）。") from None
    except BadSignature:
        raise StaleForm("表单已失效，请再提交一次（您填写的内容已保留）。") from None


def previous(token: str | None, purpose: str) -> str | None:
    """The result recorded by an earlier successful submission of ``token``, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(UsedFormToken.result).where(
        UsedFormToken.token_hash == _hash(token), UsedFormToken.purpose == purpose))


def spend(token: str, purpose: str) -> str | None:
    """Consume ``token`` in the current transaction, before filing (and forget very old tokens).

    Returns None when this transaction now holds the token and may file; otherwise the result an
    earlier (or simultaneous, now committed) submission of the same token recorded.
    """
    now = clock.utc_now()
    db.session.execute(delete(UsedFormToken).where(UsedFormToken.used_at < now - KEEP_USED))
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = db.session.scalar(
        insert(UsedFormToken).values(token_hash=_hash(token), purpose=purpose, result="", used_at=now)
        .on_conflict_do_nothing(index_elements=[UsedFormToken.token_hash]).returning(UsedFormToken.token_hash))
    if inserted is not None:
        return None
    return previous(token, purpose) or ""


def record_result(token: str, purpose: str, result: str) -> None:
    """Note what the filing made (a reference number) on the token this transaction spent."""
    db.session.execute(update(UsedFormToken).where(
        UsedFormToken.token_hash == _hash(token), UsedFormToken.purpose == purpose).values(result=result))
