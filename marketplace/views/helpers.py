"""Helpers shared by every blueprint: role checks, page/query argument parsing, refusals shown on forms."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, make_response, request
from flask_login import current_user

from ..services import ServiceError
from ..services.listings.common import FieldErrors

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


def bounded_int(raw: str | None, default: int, low: int, high: int, blank_ok: bool = True) -> int:
    """A query-string integer within ``[low, high]``; a missing value means ``default``.

    The one parser behind page numbers and page sizes on the pages, in search and in the API
    (each caller words its own error). Only ASCII digits, at most 7 of them; anything else raises
    ``ValueError``. A blank value counts as missing unless ``blank_ok`` is false (the site's
    pages refuse ``?page=`` so that a broken link is noticed).
    """
    if raw is None:
        return default
    raw = raw.strip()
    if not raw and blank_ok:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7 or not low <= int(raw) <= high:
        raise ValueError(f"not an integer from {low} to {high}")
    return int(raw)


def positive_int(raw: str | None) -> int | None:
    """An optional id from a query string or form: a positive integer, or None when the value is
    missing or malformed (filters and preselections ignore a bad value instead of refusing it)."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) > 0 else None


def int_arg(name: str) -> int | None:
    """``positive_int`` of a query argument."""
    return positive_int(request.args.get(name))


def page_arg(name: str = "page") -> int:
    """The 1-based page number from the query string; 400 for anything but a sane integer."""
    try:
        return bounded_int(request.args.get(name), 1, 1, MAX_PAGE, blank_ok=False)
    except ValueError:
        abort(400, description="页码无效。")


def slug_or_404(slug: str) -> str:
    """A slug from the URL, or 404 without asking the database: slugs are short words, and
    anything else (NUL bytes that PostgreSQL refuses, 300 characters) cannot name a row."""
    if len(slug) > 100 or not slug.isprintable():
        abort(404)
    return slug


def choice_arg(name: str, allowed, default: str = "") -> str:
    """A query argument restricted to ``allowed`` values; unknown values fall back to default."""
    value = request.args.get(name, default)
    return value if value in allowed else default


def private_file(data: bytes, mime: str, filename: str):
    """A private document (an authorization letter) for its owner or staff: never cached, never
    sniffed, never indexed; only images are shown inline, anything else is a download."""
    response = make_response(data)
    response.headers["Content-Type"] = mime
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    disposition = "inline" if mime.startswith("image/") else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def show_errors(form, err: ServiceError | None) -> None:
    """Show a service refusal under the right fields (or as a flash when it has none); nothing
    when ``err`` is None (a ``catch_refusal`` block that refused nothing)."""
    if err is None:
        return
    if isinstance(err, FieldErrors):
        for name, message in err.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(field.errors or []) + [message]
            else:
                flash(message, "error")
    else:
        flash(str(err), "error")
