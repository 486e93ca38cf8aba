"""One commit per request, as indico does it.

**The rule.** A request's database changes are committed exactly once, right after its view
returns, and only when the view succeeded: it returned a response (it did not raise), the
response's status is below 400, and no service refusal was caught on the way. In every other
case the whole request is rolled back — an exception of any kind, an HTTP error (``abort(404)``,
a 400 page), a refusal the view caught to show its form again. Mail queued during the request
(``services.mail.queue_mail``) goes out after that commit and is dropped by the rollback; other
side effects outside the database wait for the commit the same way (``after_commit``).

Views never call ``db.session.commit()`` or ``db.session.rollback()``; a view that answers 200 but
must not keep anything (an import's dry run) calls ``rollback()`` from here, which also takes back
the messages it flashed. Services flush, never commit, and refuse with a ``ServiceError`` subclass
(``marketplace/services/__init__.py``). A view meets a refusal in one of two ways:

* **It lets it propagate.** ``marketplace.errors`` rolls back, flashes the message and redirects
  to the page the view named beforehand with ``on_refusal(url)`` (or ``on_refusal(fn)``, where
  ``fn(err)`` builds the response), else to the referring page on this site, else home.
  ``NotFound`` answers 404 and ``Forbidden`` 403, whatever the view named.
* **It shows its form again with what was typed** (nothing may be stored)::

      with catch_refusal() as refusal:
          ent = create_enterprise(current_user, form.as_data())
          flash("……", "success")
          return redirect(...)
      show_errors(form, refusal.error)        # only reached after a refusal
      return render_template(..., form=form)

  A refusal inside the block rolls the transaction back at once (the page rendered next then
  shows the database's state, and PostgreSQL needs that rollback before the next query), marks
  the request refused so that nothing is committed at its end, and is kept in
  ``refusal.error``. ``NotFound`` and ``Forbidden`` are not caught: they still answer 404 / 403.

**Concurrent writes are refusals too.** SQLAlchemy's version check (``StaleDataError``, see
``services.versioning``) and a unique-key ``IntegrityError`` (two writers raced for the same key
after both checked it was free) become ``EditConflict`` — "该资料刚被修改，请刷新后重试" — in both
ways above, so a race never answers 500.

The commit happens in ``UnitOfWorkFlask.dispatch_request``: after the view, before the response
hooks. A failing commit therefore still reaches the error handlers (a conflict at commit time is
flashed like any other), which a commit in an ``after_request`` hook would not; the success
messages the view flashed are taken back first, since what they announce did not happen.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

from flask import Flask, has_request_context, message_flashed, redirect, request, session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .security import safe_next
from .services import EditConflict, Forbidden, NotFound, ServiceError

log = logging.getLogger(__name__)

_REFUSED = "marketplace.unit_of_work.refused"
_ON_REFUSAL = "marketplace.unit_of_work.on_refusal"
_FLASHED = "marketplace.unit_of_work.flashed"
_AFTER_COMMIT = "marketplace.unit_of_work.after_commit"


class UnitOfWorkFlask(Flask):
    """Flask with the request's unit of work closed right after the view (see the module doc)."""

    def dispatch_request(self):
        response = self.make_response(super().dispatch_request())
        if request.environ.get(_REFUSED) or response.status_code >= 400:
            rollback()
            return response
        try:
            db.session.commit()
        except Exception:
            _take_back_flashes()
            raise
        for action in request.environ.pop(_AFTER_COMMIT, []):
            action()
        return response


@message_flashed.connect
def _remember_flash(sender, message, category, **extra) -> None:
    if has_request_context():
        request.environ.setdefault(_FLASHED, []).append((category, message))


def _take_back_flashes() -> None:
    """Remove the messages this request flashed (its commit failed: they are not true)."""
    mine = len(request.environ.pop(_FLASHED, []))
    if mine:  # flash() appends: this request's messages are the last ``mine`` ones
        flashes = session.get("_flashes", [])
        session["_flashes"] = flashes[:max(0, len(flashes) - mine)]


def rollback() -> None:
    """Roll the request's transaction back now, and keep it that way: nothing the request did,
    before or after this call, is committed, its queued mail is dropped and the messages it
    flashed so far are taken back."""
    if has_request_context():
        request.environ[_REFUSED] = True
        _take_back_flashes()
    db.session.rollback()


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once this request's changes are committed (never if they are not): for
    side effects outside the database, such as deleting a file the request has used up."""
    request.environ.setdefault(_AFTER_COMMIT, []).append(action)


def as_refusal(err: BaseException) -> ServiceError | None:
    """``err`` as the refusal a user should see, or None when it is not one (a bug: 500)."""
    if isinstance(err, ServiceError):
        return err
    if isinstance(err, StaleDataError) or (isinstance(err, IntegrityError) and is_unique_violation(err)):
        log.warning("concurrent write refused: %s", err)
        return EditConflict()
    return None


def is_unique_violation(err: IntegrityError) -> bool:
    """True when a UNIQUE constraint refused the row (PostgreSQL SQLSTATE 23505, or SQLite's message)."""
    orig = err.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


class Refusal:
    """What a ``catch_refusal()`` block caught: ``error`` is None when nothing was refused."""

    error: ServiceError | None = None

    @property
    def message(self) -> str | None:
        return str(self.error) if self.error is not None else None


@contextmanager
def catch_refusal() -> Iterator[Refusal]:
    """Catch a refusal raised inside the block so the view can show its form again (see the
    module doc): roll back now, keep the request uncommitted, hand the error over."""
    refusal = Refusal()
    try:
        yield refusal
    except (NotFound, Forbidden):
        raise
    except (ServiceError, StaleDataError, IntegrityError) as err:
        converted = as_refusal(err)
        if converted is None:
            raise
        rollback()
        refusal.error = converted


def on_refusal(target: str | Callable[[ServiceError], object]) -> None:
    """Name where a refusal that escapes this view goes: a URL to redirect to, or a function
    that builds the response from the error. The message is flashed either way."""
    request.environ[_ON_REFUSAL] = target


def refusal_response(err: ServiceError):
    """The response to a refusal that escaped the view (called by ``marketplace.errors``)."""
    target = request.environ.get(_ON_REFUSAL)
    if callable(target):
        return target(err)
    if target is None:
        target = _same_site_referrer() or "/"
    return redirect(target)


def _same_site_referrer() -> str | None:
    """The referring page when it is on this site (as a local path), else None."""
    referrer = request.referrer or ""
    root = request.host_url
    if not referrer.startswith(root):
        return None
    path = "/" + referrer[len(root):]
    return safe_next(path, default="") or None
