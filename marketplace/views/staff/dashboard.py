"""Staff console home: what waits for staff and the campaign's headline numbers."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from sqlalchemy import func, select

from ...clock import china_today
from ...extensions import db
from ...models import (
    AppKind, Application, AppStatus, Certification, CertStatus, Complaint, ComplaintStatus, Enterprise,
    enterprise_is_public,
)
from ...services import review
from .blueprint import bp, staff_only


@bp.route("/")
@staff_only
def dashboard():
    """Console home: what waits for staff and the campaign's headline numbers."""
    pending = review.pending_count()
    by_kind = dict(db.session.execute(select(Application.kind, func.count()).where(
        Application.status == AppStatus.PENDING).group_by(Application.kind)).all())
    open_complaints = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.status.in_(ComplaintStatus.OPEN))) or 0
    certified = db.session.scalar(select(func.count()).select_from(Enterprise).where(
        enterprise_is_public())) or 0
    goal = current_app.config["ENTERPRISE_GOAL"]
    oldest = review.next_pending()
    today = china_today()
    expiring = db.session.scalars(select(Certification).join(Certification.enterprise).where(
        Certification.status == CertStatus.VALID, enterprise_is_public(),
        Certification.valid_until <= today + timedelta(days=30)).order_by(Certification.valid_until).limit(10)).all()
    recent = db.session.scalars(select(Application).where(Application.decided_at.is_not(None))
                                .order_by(Application.decided_at.desc()).limit(8)).all()
    return render_template("staff/dashboard.html", pending=pending, by_kind=by_kind, kinds=AppKind.LABELS,
                           open_complaints=open_complaints, certified=certified, goal=goal, oldest=oldest,
                           expiring=expiring, recent=recent)
