"""The complaint process of the national 12315 rules, on Chinese working days.

| stage | who acts | deadline |
|---|---|---|
| 待受理 (new) | staff accept (→ 商家协商) or refuse (不予受理, with a reason) | 7 working days after filing |
| 商家协商 (negotiating) | the merchant answers and settles, or says it cannot | 10 working days after acceptance |
| 调解中 (mediating) | staff mediate and close: 办结 resolved or not, with the outcome | 45 working days after it began |
| 办结 (resolved / unresolved) | the consumer confirms, or objects once | 10 working days after 办结 |

A period of N working days ends on the N-th working day after the day the stage began (the
starting day does not count, 民法典 第二百零一条); ``clock.add_working_days`` knows the statutory
holidays and 调休. Each deadline is stored when its stage begins, so staff lists sort by it in SQL.
A negotiation left to run out is moved to mediation by ``flask complaint-deadlines`` as of its last
day, so mediation's 45 days do not depend on when the command ran.

Every change of stage is one conditional UPDATE on the expected status, so two people acting on
one complaint at once cannot both succeed; the loser gets ``StageChanged``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, select, update

from .. import clock
from ..extensions import db
from ..models import Complaint, ComplaintFeedback, ComplaintMessage, ComplaintStatus, User
from ..validation import ValidationError
from ..validation.text import clean_text
from . import Forbidden, ServiceError
from .audit import record
from .mail import queue_mail
from .review import site_link

ACCEPT_DAYS = 7
NEGOTIATION_DAYS = 10
MEDIATION_DAYS = 45
FEEDBACK_DAYS = 10

S = ComplaintStatus


class StageChanged(ServiceError):
    """Someone else moved the complaint on first; nothing was changed."""


def _text(value: str, field: str, required: bool = True, max_length: int = 2000) -> str:
    try:
        return clean_text(value, field=field, max_length=max_length, required=required, multiline=True)
    except ValidationError as err:
        raise ServiceError(str(err)) from None


def _today() -> date:
    return clock.china_today()


def filed_on(c: Complaint) -> date:
    """The China date the complaint was filed (periods count from the next day)."""
    return clock.china_date_of(c.created_at)


def open_deadlines(c: Complaint) -> None:
    """Set the acceptance deadline of a complaint being filed."""
    c.accept_due = clock.add_working_days(filed_on(c), ACCEPT_DAYS)


def accept_due_of(c: Complaint) -> date:
    """The acceptance deadline (computed for rows filed before deadlines were stored)."""
    return c.accept_due or clock.add_working_days(filed_on(c), ACCEPT_DAYS)


def current_due(c: Complaint) -> date | None:
    """The deadline of the stage the complaint is in (None once it is closed)."""
    if c.status == S.NEW:
        return accept_due_of(c)
    return {S.NEGOTIATING: c.negotiation_due, S.MEDIATING: c.mediation_due}.get(c.status)


def current_due_column():
    """``current_due`` as an SQL expression, for sorting and filtering staff lists."""
    return case((Complaint.status == S.NEW, Complaint.accept_due),
                (Complaint.status == S.NEGOTIATING, Complaint.negotiation_due),
                (Complaint.status == S.MEDIATING, Complaint.mediation_due), else_=None)


@dataclass
class DueState:
    """How a deadline stands today, in words a person reads (``overdue`` drives the red)."""

    due: date
    overdue: bool
    days: int  # working days left (0 = today is the last day) or working days late

    @property
    def text(self) -> str:
        if self.overdue:
            return f"已超期 {self.days} 个工作日" if self.days else "已超期"
        return "今天到期" if self.days == 0 else f"剩 {self.days} 个工作日"


def due_state(due: date | None, today: date | None = None) -> DueState | None:
    """The state of ``due`` on ``today`` (China date), or None when there is no deadline."""
    if due is None:
        return None
    today = today or _today()
    if today > due:
        return DueState(due, True, clock.working_days_between(due, today))
    return DueState(due, False, clock.working_days_between(today, due))


@dataclass
class Step:
    """One line of the consumer's timeline."""

    label: str
    state: str  # done / current / upcoming / skipped
    done_on: date | None = None
    due: date | None = None
    projected: bool = False  # the deadline is an estimate: the stage has not begun
    note: str = ""

    @property
    def overdue(self) -> bool:
        return self.state == "current" and self.due is not None and _today() > self.due


def timeline(c: Complaint) -> list[Step]:
    """The stages with their dates: done ones with the day they ended, the current one with its
    deadline, later ones with the latest date they can end if every stage uses its full time."""
    filed = filed_on(c)
    accepted = clock.china_date_of(c.accepted_at) if c.accepted_at else None
    mediation = clock.china_date_of(c.mediation_at) if c.mediation_at else None
    closed = clock.china_date_of(c.closed_at) if c.closed_at else None
    steps = [Step("提交投诉", "done", done_on=filed)]
    if c.status == S.DISMISSED:
        steps.append(Step("不予受理", "done", done_on=closed, due=accept_due_of(c), note=c.resolution_note))
        return steps
    steps.append(Step("受理", "done" if accepted else "current", done_on=accepted, due=accept_due_of(c)))
    negotiation_end = c.negotiation_due or clock.add_working_days(accept_due_of(c), NEGOTIATION_DAYS)
    if c.status == S.NEGOTIATING:
        steps.append(Step("商家协商", "current", due=c.negotiation_due))
    elif accepted and c.negotiation_due is None:
        steps.append(Step("商家协商", "skipped", note="该企业未在本站开通商家账号，直接进入调解。"))
    elif accepted:
        ended = mediation or closed
        steps.append(Step("商家协商", "done", done_on=ended, due=c.negotiation_due,
                          note="商家协商和解" if c.mediation_at is None and c.status in S.CLOSED else ""))
    else:
        steps.append(Step("商家协商", "upcoming", due=negotiation_end, projected=True))
    if c.status == S.MEDIATING:
        steps.append(Step("调解", "current", done_on=None, due=c.mediation_due))
    elif mediation:
        steps.append(Step("调解", "done", done_on=closed, due=c.mediation_due))
    elif c.status not in S.CLOSED:
        steps.append(Step("调解（如协商未解决）", "upcoming", due=clock.add_working_days(negotiation_end, MEDIATION_DAYS),
                          projected=True))
    if c.status in S.CLOSED:
        steps.append(Step(c.status_label, "done", done_on=closed, note=c.resolution_note))
        feedback = ComplaintFeedback.LABELS.get(c.feedback, "")
        steps.append(Step("消费者确认或异议", "done" if c.feedback else "current",
                          done_on=clock.china_date_of(c.feedback_at) if c.feedback_at else None,
                          due=c.feedback_due, note=feedback))
    else:
        steps.append(Step("办结", "upcoming"))
    return steps


def expected_answer(c: Complaint) -> date:
    """The day by which the consumer hears whether the complaint is accepted."""
    return accept_due_of(c)


# ------------------------------------------------------------------ changes of stage


def _move(c: Complaint, expected: tuple[str, ...], *conditions, **values) -> None:
    """One conditional UPDATE from ``expected`` statuses (and ``conditions``); ``StageChanged``
    when someone else changed the complaint first. Bumps the version (``services.versioning``), so
    an edit that loaded the complaint before this change is refused too."""
    values.setdefault("updated_at", clock.utc_now())
    values["version"] = Complaint.version + 1
    result = db.session.execute(
        update(Complaint).where(Complaint.id == c.id, Complaint.status.in_(expected), *conditions).values(**values)
        .execution_options(synchronize_session=False))
    db.session.refresh(c)  # read back what the UPDATE wrote (or what the winner wrote)
    if result.rowcount != 1:
        raise StageChanged(f"该投诉已被其他人处理（当前状态：{c.status_label}），请查看最新状态。")


def _audit(c: Complaint, action: str, actor, before: str, note: str = "", **after) -> None:
    record(action, actor=actor, entity_kind="complaint", entity_id=c.id, enterprise_id=c.enterprise_id,
           before={"status": before}, after={"status": c.status, **after}, note=note[:500])


def _mail_merchant(c: Complaint, subject: str, body: str) -> None:
    """Queue a mail to the enterprise's owner (sent after the commit; none for an unclaimed one)."""
    owner = c.enterprise.owner
    if owner is None or not owner.email:
        return
    queue_mail(owner.email, f"【广货网上行】{subject}",
               f"您好：\n\n{body}\n\n查看并处理：{site_link(f'/merchant/complaints/{c.id}')}\n\n广货网上行 工作人员\n")


def accept(c: Complaint, actor: User) -> None:
    """待受理 → 商家协商 (10 working days), or straight to 调解 when nobody runs the enterprise here;
    the merchant is mailed after the commit."""
    before, now, today = c.status, clock.utc_now(), _today()
    if c.enterprise.owner_id is None:
        _move(c, (S.NEW,), status=S.MEDIATING, accepted_at=now, mediation_at=now,
              mediation_due=clock.add_working_days(today, MEDIATION_DAYS), assignee_id=c.assignee_id or actor.id)
        _audit(c, "complaint.accept", actor, before, "企业未开通商家账号，直接调解",
               mediation_due=c.mediation_due.isoformat())
        return
    _move(c, (S.NEW,), status=S.NEGOTIATING, accepted_at=now,
          negotiation_due=clock.add_working_days(today, NEGOTIATION_DAYS), assignee_id=c.assignee_id or actor.id)
    _audit(c, "complaint.accept", actor, before, negotiation_due=c.negotiation_due.isoformat())
    _mail_merchant(c, f"投诉 {c.reference} 已受理，请在 {c.negotiation_due:%Y-%m-%d} 前协商处理",
                            f"消费者关于「{c.enterprise.name}」的投诉（{c.kind}，受理编号 {c.reference}）已受理。\n"
                            f"请在 {c.negotiation_due:%Y-%m-%d} 前（10 个工作日）与消费者协商处理，并在商家中心填写和解结果；"
                            "逾期未和解的投诉将转入工作人员调解。")


def refuse(c: Complaint, actor: User, reason: str) -> None:
    """待受理 → 不予受理, with a reason the consumer reads."""
    reason = _text(reason, "不予受理的理由")
    before = c.status
    _move(c, (S.NEW,), status=S.DISMISSED, resolution_note=reason, closed_at=clock.utc_now(),
          assignee_id=c.assignee_id or actor.id)
    _audit(c, "complaint.dismissed", actor, before, reason)


def start_mediation(c: Complaint, actor: User | None, note: str = "", *, as_of: date | None = None) -> None:
    """商家协商 → 调解中. ``as_of`` is the day the negotiation ended (default today)."""
    note = _text(note, "说明", required=False)
    start = as_of or _today()
    before = c.status
    _move(c, (S.NEGOTIATING,), status=S.MEDIATING, mediation_at=clock.utc_now(),
          mediation_due=clock.add_working_days(start, MEDIATION_DAYS))
    action = "complaint.negotiation_expired" if actor is None else "complaint.mediate"
    _audit(c, action, actor, before, note, mediation_due=c.mediation_due.isoformat())


def _closing_values(outcome: str, note: str) -> dict:
    now = clock.utc_now()
    return {"status": outcome, "resolution_note": note, "closed_at": now,
            "feedback_due": clock.add_working_days(_today(), FEEDBACK_DAYS)}


def close(c: Complaint, outcome: str, note: str, actor: User, upheld: bool | None = None) -> None:
    """办结 with the outcome (resolved or not) and whether the complaint proved true (查实).

    Staff may close at any open stage; a complaint closed before acceptance is accepted with it.
    """
    if outcome not in S.CLOSED:
        raise ServiceError("请选择办结结果：已解决或未解决。")
    if c.status not in S.OPEN:
        raise ServiceError("该投诉已办结，不能再操作。")
    note = _text(note, "处理说明")
    before = c.status
    values = _closing_values(outcome, note)
    _move(c, S.OPEN, upheld=upheld, accepted_at=c.accepted_at or values["closed_at"],
          assignee_id=c.assignee_id or actor.id, **values)
    _audit(c, f"complaint.{outcome}", actor, before, note, upheld=upheld, feedback_due=c.feedback_due.isoformat())


def _owner_only(c: Complaint, user: User) -> None:
    if c.enterprise.owner_id != user.id:
        raise Forbidden("无权处理此投诉。")
    if c.status != S.NEGOTIATING:
        raise ServiceError("只有处于“商家协商”阶段的投诉可以填写协商结果。")


def merchant_settle(c: Complaint, user: User, outcome: str) -> None:
    """The merchant reports a settlement: 办结·已解决; the consumer may confirm or object."""
    _owner_only(c, user)
    outcome = _text(outcome, "和解结果")
    before = c.status
    _move(c, (S.NEGOTIATING,), **_closing_values(S.RESOLVED, f"商家协商和解：{outcome}"))
    _audit(c, "complaint.settled", user, before, outcome, feedback_due=c.feedback_due.isoformat())


def merchant_decline(c: Complaint, user: User, reason: str) -> None:
    """The merchant says the dispute cannot be settled between them: on to staff mediation."""
    _owner_only(c, user)
    reason = _text(reason, "协商未成的原因")
    db.session.add(ComplaintMessage(complaint=c, author_id=user.id, author_role="merchant", public=True,
                                    body=f"协商未能达成一致：{reason}", created_at=clock.utc_now()))
    start_mediation(c, user, reason)


def feedback_open(c: Complaint) -> bool:
    """True while the consumer may still confirm or object (办结, no answer yet, within 10 working days)."""
    return (c.status in S.CLOSED and not c.feedback and c.feedback_due is not None
            and _today() <= c.feedback_due)


def consumer_feedback(c: Complaint, satisfied: bool, note: str = "") -> None:
    """After 办结, the consumer confirms satisfaction or objects — once, within 10 working days.

    The caller has checked the feedback code (``complaints.code_matches``).
    """
    if c.status not in S.CLOSED:
        raise ServiceError("投诉办结后才能确认结果或提出异议。")
    if c.feedback:
        raise ServiceError("您已经对处理结果作出过确认或异议，不能重复提交。")
    if c.feedback_due is None or _today() > c.feedback_due:
        raise ServiceError("已超过办结后 10 个工作日的确认期限。")
    note = _text(note, "异议理由", required=not satisfied)
    value = ComplaintFeedback.SATISFIED if satisfied else ComplaintFeedback.OBJECTED
    result = db.session.execute(
        update(Complaint).where(Complaint.id == c.id, Complaint.feedback == "")
        .values(feedback=value, feedback_note=note, feedback_at=clock.utc_now(), version=Complaint.version + 1)
        .execution_options(synchronize_session=False))
    db.session.refresh(c)
    if result.rowcount != 1:
        raise ServiceError("您已经对处理结果作出过确认或异议，不能重复提交。")
    record("complaint.objection" if not satisfied else "complaint.confirmed", entity_kind="complaint",
           entity_id=c.id, enterprise_id=c.enterprise_id, after={"feedback": value}, note=note[:500])


def review_objection(c: Complaint, actor: User, reopen: bool, note: str = "") -> None:
    """Staff decide on an objection: mediate again (45 working days from today) or keep the result."""
    if c.feedback != ComplaintFeedback.OBJECTED:
        raise ServiceError("该投诉没有待复核的异议。")
    note = _text(note, "复核说明", required=not reopen)
    before = c.status
    if reopen:
        _move(c, S.CLOSED, Complaint.feedback == ComplaintFeedback.OBJECTED, status=S.MEDIATING, mediation_at=clock.utc_now(), closed_at=None,
              mediation_due=clock.add_working_days(_today(), MEDIATION_DAYS), feedback=ComplaintFeedback.REOPENED,
              assignee_id=c.assignee_id or actor.id)
    else:
        _move(c, S.CLOSED, Complaint.feedback == ComplaintFeedback.OBJECTED, feedback=ComplaintFeedback.MAINTAINED)
    _audit(c, "complaint.reopen" if reopen else "complaint.objection_reviewed", actor, before, note,
           feedback=c.feedback)


def sla_query():
    """Open complaints by deadline, soonest (or most overdue) first (the staff SLA view)."""
    due = current_due_column()
    return (select(Complaint).where(Complaint.status.in_(S.OPEN))
            .order_by(due.is_(None), due, Complaint.created_at, Complaint.id))


def objections_query():
    """Closed complaints whose consumer objected and that staff have not reviewed yet."""
    return (select(Complaint).where(Complaint.status.in_(S.CLOSED), Complaint.feedback == ComplaintFeedback.OBJECTED)
            .order_by(Complaint.feedback_at, Complaint.id))
