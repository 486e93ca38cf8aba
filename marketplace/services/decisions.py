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
from . import AlreadyDecided, EditConflict, NotFound
from .versioning import parse_version


def decide(app_id: int, new_status: str, *, actor=None, reason: str = "", seen_version=None,
           already_decided: str | None = None) -> Application:
    """Atomically move pending application ``app_id`` to ``new_status`` and return it refreshed.

    ``actor`` is recorded as the decider (staff; None for a merchant's withdrawal). Raises
    ``NotFound``, ``AlreadyDecided`` (with the ``already_decided`` message when given) or
    ``EditConflict`` (the row is pending but no longer at ``seen_version``).
    """
    seen = parse_version(seen_version)
    conditions = [Application.id == app_id, Application.status == AppStatus.PENDING]
    if seen is not None:
        conditions.append(Application.version == seen)
    result = db.session.execute(
        update(Application).where(*conditions)
        .values(status=new_status, decided_at=utc_now(), decided_by_id=getattr(actor, "id", None),
                reason=reason, version=Application.version + 1)
        .execution_options(synchronize_session=False))
    application = db.session.get(Application, app_id)
    if application is None:
        raise NotFound("申请不存在。")
    db.session.refresh(application)
    if result.rowcount != 1:
        if application.status != AppStatus.PENDING:
            raise AlreadyDecided(*([already_decided] if already_decided else []))
        raise EditConflict()
    return application
