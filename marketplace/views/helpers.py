"""Helpers shared by every blueprint: role checks, page/query argument parsing."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, request
from flask_login import current_user

from ..services import ServiceError
from ..services.listings import FieldErrors

MAX_PAGE = 100_000


def role_required(*roles: str):
    """Allow only logged-in users whose role is in ``roles`` (403 otherwise).

    Put it under ``@login_required`` so anonymous users are sent to the login page first.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def page_arg(name: str = "page") -> int:
    """The 1-based page number from the query string; 400 for anything but a sane integer."""
    raw = request.args.get(name, "1").strip()
    if not raw.isdigit() or len(raw) > 6:
        abort(400, description="页码无效。")
    page = int(raw)
    if page < 1 or page > MAX_PAGE:
        abort(400, description="页码无效。")
    return page


def choice_arg(name: str, allowed, default: str = "") -> str:
    """A query argument restricted to ``allowed`` values; unknown values fall back to default."""
    value = request.args.get(name, default)
    return value if value in allowed else default


def show_errors(form, err: ServiceError) -> None:
    """Show a service refusal under the right fields (or as a flash when it has none)."""
    if isinstance(err, FieldErrors):
        for name, message in err.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(field.errors or []) + [message]
            else:
                flash(message, "error")
    else:
        flash(str(err), "error")
