"""One-time form tokens: a form that files something (a complaint, an objection, an application)
files it once, however often it is sent.

How a form uses it (``views/once.py`` wraps the steps for Flask-WTF forms):

1. The page renders the form with ``issue(purpose)`` in a hidden field: a random value signed with
   the app's secret and the purpose, so junk, another form's token or an old token is refused.
2. On submit, ``previous(token, purpose)`` returns what an earlier successful submission of the
   same token made (a reload, a double click, the back button): show that instead of filing again.
3. The successful submission adds ``spend(token, purpose, result)`` to its own transaction. A
   refused submission rolls back, so the token stays usable: the sender fixes the input and sends
   the same form again (the token is "reusable until it succeeds").
4. Two submissions at the same instant both insert the same primary key; the loser's commit fails
   with ``IntegrityError``, it rolls back and asks ``previous`` for the winner's result.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select

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


def spend(token: str, purpose: str, result: str) -> None:
    """Mark ``token`` used for ``result`` in the current transaction (and forget very old ones)."""
    now = clock.utc_now()
    db.session.execute(delete(UsedFormToken).where(UsedFormToken.used_at < now - KEEP_USED))
    db.session.add(UsedFormToken(token_hash=_hash(token), purpose=purpose, result=result, used_at=now))
    db.session.flush()
