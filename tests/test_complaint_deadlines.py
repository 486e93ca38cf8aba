"""Complaint deadlines on Chinese working days, across the 2026 National Day holidays and 调休.

The 2026 calendar (State Council notice, as in chinese-calendar): 中秋 25–27 September off;
国庆 1–7 October off; Sunday 20 September and Saturday 10 October are working days (调休).
Every expected date below is counted by hand from that calendar, not computed by the code under test.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, Complaint, ReminderSent, Role
from marketplace.services import complaint_process as process
from marketplace.services import complaint_reminders
from marketplace.services.complaint_record import handled_in_time
from marketplace.services.mail import queued_mail, read_outbox
from tests.factories import make_complaint, make_enterprise, make_shop, make_user
from tests.test_complaints import _receipt, _report


def china(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=clock.CHINA_TZ)


def _steps(c):
    return {s.label: s for s in process.timeline(c)}


def test_complaint_filed_2026_09_28_every_deadline_across_national_day(app, client, login_as, runner):
    merchant = make_user(email="owner@shop.example")
    staff = make_user(Role.STAFF, email="staff@gdws.example")
    ent = make_enterprise(owner=merchant)
    shop = make_shop(ent)
    db.session.commit()

    # Monday 28 September 2026, 10:00 China time: filed through the form.
    with clock.frozen(china(2026, 9, 28)):
        assert _report(client, ent, shop).status_code == 303
        ref, _code = _receipt(client)
        receipt = client.get("/report/submitted").get_data(as_text=True)
    c = db.session.scalar(select(Complaint).where(Complaint.reference == ref))
    assert ref.startswith("TS-20260928-")
    # 7 working days: 29, 30 Sep | 1–7 Oct off | 8, 9, 10 (Sat, 调休), 12, 13 Oct
    assert c.accept_due == date(2026, 10, 13)
    assert "2026-10-13" in receipt and "7 个工作日" in receipt
    with clock.frozen(china(2026, 9, 28, 11)):
        steps = _steps(c)
        assert steps["受理"].due == date(2026, 10, 13) and steps["受理"].state == "current"
        # projected: 10 working days after 13 Oct = 27 Oct; 45 more (no holiday until 1 Jan) = 29 Dec
        assert steps["商家协商"].due == date(2026, 10, 27) and steps["商家协商"].projected
        assert steps["调解（如协商未解决）"].due == date(2026, 12, 29)
        # on a holiday the remaining working days skip the holiday and count the 调休 Saturday
    assert process.due_state(c.accept_due, date(2026, 10, 3)).days == 5  # 8, 9, 10, 12, 13 Oct

    # Wednesday 30 September: accepted. 10 working days: 8, 9, 10 (Sat), 12–16, 19, 20 Oct.
    with clock.frozen(china(2026, 9, 30, 15)):
        process.accept(c, staff)
        db.session.commit()
    assert c.status == "negotiating" and c.negotiation_due == date(2026, 10, 20)

    # Reminders: 15 Oct is 3 working days before (16, 19, 20): nothing; 16 Oct is 2: one mail to
    # the merchant; running again the same day (or the next) sends nothing more.
    def run_on(day):
        with clock.frozen(china(*day, 8)):
            result = runner.invoke(args=["complaint-deadlines"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return [m for m in read_outbox() if "期限" in m["Subject"]]

    assert run_on((2026, 10, 15)) == []
    mails = run_on((2026, 10, 16))
    assert len(mails) == 1 and mails[0]["To"] == merchant.email and "2026-10-20" in mails[0].get_content()
    assert len(run_on((2026, 10, 16))) == 1 and len(run_on((2026, 10, 19))) == 1

    # 21 Oct: the negotiation ran out on 20 Oct and goes to mediation as of that day:
    # 45 working days after 20 Oct (21 Oct – 22 Dec, weekdays, no holiday) = 22 December.
    run_on((2026, 10, 21))
    c = db.session.get(Complaint, c.id)
    assert c.status == "mediating" and c.mediation_due == date(2026, 12, 22)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "complaint.negotiation_expired"))
    run_on((2026, 10, 21))  # safe to repeat: still one move
    assert db.session.query(AuditLog).filter_by(action="complaint.negotiation_expired").count() == 1

    # Tuesday 8 December: closed unresolved. The consumer has 10 working days: 9–11, 14–18, 21, 22 Dec.
    with clock.frozen(china(2026, 12, 8, 16)):
        process.close(c, "unresolved", "双方未能达成一致。", staff)
        db.session.commit()
    assert c.feedback_due == date(2026, 12, 22)
    assert not handled_in_time(c)  # the merchant let its 10 working days run out
    with clock.frozen(china(2026, 12, 22, 23, 30)):
        assert process.feedback_open(c)
    with clock.frozen(china(2026, 12, 23, 0, 5)):
        assert not process.feedback_open(c)


def test_the_filing_day_is_the_china_date(app):
    """20:00 UTC on 30 September is 04:00 on 1 October in China: the period starts after 1 October.
    7 working days: 8, 9, 10 (Sat, 调休), 12, 13, 14, 15 October."""
    ent = make_enterprise()
    with clock.frozen(datetime(2026, 9, 30, 20, 0)):
        c = make_complaint(ent)
    assert process.filed_on(c) == date(2026, 10, 1)
    assert c.accept_due == date(2026, 10, 15)


def test_negotiation_and_mediation_count_from_their_own_start(app):
    """Acceptance on the 调休 Saturday (10 Oct): 10 working days = 12–16, 19–23 Oct → 23 Oct.
    Mediation started by staff on 23 Oct: 45 working days → 25 Dec (weekdays 26 Oct – 25 Dec)."""
    staff = make_user(Role.STAFF)
    ent = make_enterprise(owner=make_user())
    with clock.frozen(china(2026, 10, 9)):
        c = make_complaint(ent)
    with clock.frozen(china(2026, 10, 10)):
        process.accept(c, staff)
    assert c.negotiation_due == date(2026, 10, 23)
    with clock.frozen(china(2026, 10, 23)):
        process.start_mediation(c, staff, "商家拒绝退款")
    assert c.mediation_due == date(2026, 12, 25)


def test_enterprise_without_merchant_goes_straight_to_mediation(app):
    staff = make_user(Role.STAFF)
    c = make_complaint(make_enterprise(owner=None))
    with clock.frozen(china(2026, 9, 29)):
        process.accept(c, staff)
    assert queued_mail() == [] and c.status == "mediating" and c.negotiation_due is None
    # 45 working days after 29 Sep: 30 Sep, 8, 9, 10 (Sat) Oct = 4; 12 Oct – 4 Dec weekdays = 40; 7 Dec
    assert c.mediation_due == date(2026, 12, 7)
    assert _steps(c)["商家协商"].state == "skipped"


def test_staff_lists_show_deadlines_overdue_in_red_and_sla_sorted(app, client, login_as):
    ent = make_enterprise()
    with clock.frozen(china(2026, 9, 28)):
        late = make_complaint(ent)  # due 13 Oct
    with clock.frozen(china(2026, 10, 9)):
        soon = make_complaint(ent)  # 10 (Sat, 调休), 12–16, 19 Oct → due 19 Oct
    with clock.frozen(china(2026, 10, 13)):
        later = make_complaint(ent)  # 14–16, 19–22 Oct → due 22 Oct
    login_as(make_user(Role.STAFF))
    db.session.commit()
    assert (late.accept_due, soon.accept_due, later.accept_due) == (
        date(2026, 10, 13), date(2026, 10, 19), date(2026, 10, 22))
    with clock.frozen(china(2026, 10, 15)):
        html = client.get("/staff/complaints/deadlines").get_data(as_text=True)
        listing = client.get("/staff/complaints").get_data(as_text=True)
    order = [m for m in re.findall(r"TS-\d{8}-\d{8}", html)]
    assert order == [late.reference, soon.reference, later.reference]
    assert html.count('class="row-overdue"') == 1 and "已超期 2 个工作日" in html
    assert "剩 2 个工作日" in html and "剩 5 个工作日" in html  # 16, 19 Oct | 16, 19–22 Oct
    assert "row-overdue" in listing and "已超期 2 个工作日" in listing


def test_reminders_go_to_staff_for_their_stages_once(app, runner):
    staff = make_user(Role.STAFF, email="a-staff@gdws.example")
    make_user(Role.ADMIN, email="b-admin@gdws.example")
    ent = make_enterprise()
    with clock.frozen(china(2026, 9, 28)):
        c = make_complaint(ent)  # due 13 Oct
    db.session.commit()
    with clock.frozen(china(2026, 10, 9)):  # 10, 12, 13 Oct left: 3 → nothing yet
        counts = complaint_reminders.run()
    assert counts["reminded"] == 0 and queued_mail() == []
    with clock.frozen(china(2026, 10, 10)):  # 调休 Saturday: 12, 13 Oct left
        counts = complaint_reminders.run()
        notices = queued_mail()  # sent when the command commits
        db.session.commit()
    assert counts["reminded"] == 1 and {n.to for n in notices} == {staff.email, "b-admin@gdws.example"}
    assert c.reference in notices[0].body and "受理决定" in notices[0].body
    with clock.frozen(china(2026, 10, 14)):  # overdue: one more mail, once
        counts = complaint_reminders.run()
        notices = queued_mail()
        db.session.commit()
        again = complaint_reminders.run()
    assert counts["reminded"] == 1 and "超期" in notices[0].subject and again["reminded"] == 0
    assert db.session.query(ReminderSent).count() == 2
