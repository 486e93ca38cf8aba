"""Flask-Login user loading via the alternative token ``<id>:<session_token>``.

A cookie whose token no longer matches (after logout-everywhere, a password change or
deactivation) loads no user, so a replayed cookie is anonymous.
"""
from __future__ import annotations

import hmac

from .extensions import db, login_manager
from .models import User


def init_app(app) -> None:
    """Nothing to bind: importing this module registers the loader; kept for a uniform setup."""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the enabled user whose id and session token match the cookie, else None."""
    ident, _, token = (user_id or "").partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.is_enabled or not hmac.compare_digest(user.session_token, token):
        return None
    return user
