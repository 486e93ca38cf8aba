"""Moving an application out of ``pending``: the one conditional UPDATE every decision goes through.

Staff approving or rejecting and a merchant withdrawing race for the same pending row. Each issues
``UPDATE application SET status = <decision> ... WHERE id = ? AND status = 'pending'`` before it
changes anything else (from a review page also ``AND version = <the version the page showed>``):
of two deciders only one matches the row. The other gets ``AlreadyDecided`` — or ``EditConflict``
when the merchant changed the application after the page was rendered — and its request rolls
back, so nothing is decided twice and nobody approves a payload they did not see. The UPDATE bumps
the version, so a merchant's edit of the pending payload racing with a decision is refused too.
"""
from __future__ import annotations

from sqlalchemy import update

from ..clock import utc_now
from ..extensions import db
from ..models import Application, AppStatus
from . import AlreadyDecided, EditConflict, NotFound, ServiceError
from .versioning import parse_version


PENDING = AppStatus.PENDING  # also the pending status of offers and products
MAX_REASON = 1000


def decide(app_id: int, new_status: str, *, actor=None, reason: str = "", seen_version=None,
           already_decided: str | None = None) -> Application:
    """Atomically move pending application ``app_id`` to ``new_status`` and return it refreshed.

    ``actor`` is recorded as the decider (staff; None for a merchant's withdrawal). Raises
    ``NotFound``, ``AlreadyDecided`` (with the ``already_decided`` message when given) or
    ``EditConflict`` (the row is pending but no longer at ``seen_version``).
    """
    return decide_row(Application, app_id, new_status, actor=actor, reason=reason, seen_version=seen_version,
                      already_decided=already_decided, missing="申请不存在。")


def decide_row(model, row_id: int, new_status: str, *, actor=None, reason: str = "", seen_version=None,
               now=None, already_decided: str | None = None, changed: str | None = None, missing: str = "",
               extra: dict | None = None):
    """The same conditional UPDATE for any reviewed row with ``status``, ``version``,
    ``decided_at``, ``decided_by_id`` and ``reason`` (applications, 网购节 offers, products).
    ``changed``: the ``EditConflict`` message; ``extra``: more columns to set with the decision."""
    try:
        seen = parse_version(seen_version)
    except EditConflict:
        raise EditConflict(*([changed] if changed else [])) from None
    conditions = [model.id == row_id, model.status == PENDING]
    if seen is not None:
        conditions.append(model.version == seen)
    result = db.session.execute(
        update(model).where(*conditions)
        .values(status=new_status, decided_at=now or utc_now(), decided_by_id=getattr(actor, "id", None),
                reason=reason, version=model.version + 1, **(extra or {}))
        .execution_options(synchronize_session=False))
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(*([missing] if missing else []))
    db.session.refresh(row)
    if result.rowcount != 1:
        if row.status != PENDING:
            raise AlreadyDecided(*([already_decided] if already_decided else []))
        raise EditConflict(*([changed] if changed else []))
    return row


def rejection_reason(reason: str | None) -> str:
    """A rejection's reason, which the merchant reads: required, at most ``MAX_REASON`` characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写驳回理由，商家会看到它。")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"理由不能超过 {MAX_REASON} 个字符。")
    return reason
