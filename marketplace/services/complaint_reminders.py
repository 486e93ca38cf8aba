"""``flask complaint-deadlines``: the periodic complaint job (run it daily; hourly does no harm).

1. Gives open complaints from before the deadlines existed their deadlines.
2. Moves negotiations whose 10 working days have run out to mediation, as of their last day.
3. Mails reminders: staff for acceptance and mediation deadlines, the merchant for the negotiation
   deadline, when 2 working days or fewer are left, and once more when a deadline has passed.
   Each complaint is mentioned once per stage and deadline (the reminder ledger), so repeating the
   command the same day, or every hour, sends nothing twice.
"""
from __future__ import annotations

from datetime import date

import click
from flask import Flask
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Complaint, ComplaintStatus, Role, User
from .complaint_process import (
    FEEDBACK_DAYS, MEDIATION_DAYS, current_due, due_state, open_deadlines, start_mediation,
)
from .reminders import Digest, first_time
from .review import site_link

REMIND_WORKING_DAYS = 2
S = ComplaintStatus
STAGE_WORDS = {S.NEW: "受理决定", S.NEGOTIATING: "商家协商", S.MEDIATING: "调解办结"}


def backfill(today: date) -> int:
    """Deadlines for complaints filed or moved on before this feature existed (from their dates)."""
    count = 0
    rows = db.session.scalars(select(Complaint).where(
        ((Complaint.status == S.NEW) & Complaint.accept_due.is_(None))
        | ((Complaint.status == S.MEDIATING) & Complaint.mediation_due.is_(None))
        | (Complaint.status.in_(S.CLOSED) & Complaint.feedback_due.is_(None) & Complaint.closed_at.is_not(None)))).all()
    for c in rows:
        if c.accept_due is None:
            open_deadlines(c)
        if c.status == S.MEDIATING and c.mediation_due is None:
            start = clock.china_date_of(c.mediation_at or c.accepted_at or c.created_at)
            c.mediation_due = clock.add_working_days(start, MEDIATION_DAYS)
        if c.status in S.CLOSED and c.feedback_due is None:
            c.feedback_due = clock.add_working_days(clock.china_date_of(c.closed_at), FEEDBACK_DAYS)
        count += 1
    db.session.flush()
    return count


def expire_negotiations(today: date) -> list[Complaint]:
    """Negotiations past their 10 working days go to mediation (idempotent: they are no longer
    negotiating afterwards)."""
    rows = db.session.scalars(select(Complaint).where(
        Complaint.status == S.NEGOTIATING, Complaint.negotiation_due < today).order_by(Complaint.id)).all()
    for c in rows:
        start_mediation(c, None, f"商家协商期限（{c.negotiation_due:%Y-%m-%d}）已过，转入调解。", as_of=c.negotiation_due)
    return rows


def _staff_emails() -> list[str]:
    return list(db.session.scalars(select(User.email).where(
        User.role.in_((Role.STAFF, Role.ADMIN)), User.is_enabled.is_(True)).order_by(User.email)))


def _recipients(c: Complaint, staff: list[str]) -> list[str]:
    if c.status == S.NEGOTIATING:
        owner = c.enterprise.owner
        return [owner.email] if owner is not None and owner.email else staff
    if c.assignee is not None and c.assignee.is_enabled:
        return [c.assignee.email]
    return staff


def _line(c: Complaint, state) -> str:
    path = f"/merchant/complaints/{c.id}" if c.status == S.NEGOTIATING else f"/staff/complaints/{c.id}"
    return (f"{c.reference}（{c.enterprise.name}，{c.kind}）{STAGE_WORDS[c.status]}期限 {state.due:%Y-%m-%d}，"
            f"{state.text}：{site_link(path)}")


def deadline_reminders(today: date) -> tuple[int, int]:
    """Queue reminder mails for open complaints near or past their deadline, each sent once;
    returns the number of complaints mentioned and of mails queued."""
    digest_soon, digest_late = Digest(), Digest()
    staff = _staff_emails()
    sent = 0
    for c in db.session.scalars(select(Complaint).where(Complaint.status.in_(S.OPEN)).order_by(Complaint.id)):
        state = due_state(current_due(c), today)
        if state is None or (not state.overdue and state.days > REMIND_WORKING_DAYS):
            continue
        kind = "overdue" if state.overdue else "soon"
        if not first_time(f"complaint:{c.id}:{c.status}:{state.due.isoformat()}:{kind}"):
            continue
        sent += 1
        for email in _recipients(c, staff):
            (digest_late if state.overdue else digest_soon).add(email, _line(c, state))
    mails = digest_soon.queue("投诉处理期限临近", "以下投诉的处理期限即将到期（按工作日计算，节假日顺延）：",
                              "请在期限内处理。广货网上行 工作人员")
    mails += digest_late.queue("投诉处理已超期", "以下投诉已超过处理期限，请尽快处理：", "广货网上行 工作人员")
    db.session.flush()
    return sent, mails


def run(today: date | None = None) -> dict:
    """The whole job; returns counts (the mails are queued: they go out after the commit)."""
    today = today or clock.china_today()
    backfilled = backfill(today)
    moved = expire_negotiations(today)
    reminded, mails = deadline_reminders(today)
    return {"backfilled": backfilled, "to_mediation": len(moved), "reminded": reminded, "mails": mails}


def register_cli(app: Flask) -> None:
    """``flask --app app complaint-deadlines``."""

    @app.cli.command("complaint-deadlines")
    def complaint_deadlines_command():
        """Move expired negotiations to mediation and mail deadline reminders (safe to repeat)."""
        counts = run()
        db.session.commit()  # the queued mails go out after this commit (services.mail)
        click.echo(f"补齐期限 {counts['backfilled']} 件；协商期满转调解 {counts['to_mediation']} 件；"
                   f"发送期限提醒 {counts['reminded']} 件（{counts['mails']} 封邮件）。")

