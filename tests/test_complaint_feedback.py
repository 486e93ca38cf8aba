"""After 办结: the consumer confirms or objects once within 10 working days (with the feedback code
only they were shown); staff review an objection; an unresolved complaint gets a 12315 referral."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, Complaint, Role
from marketplace.services import complaint_process as process
from tests.factories import make_enterprise, make_shop, make_user
from tests.test_complaints import _receipt, _report


def china(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=clock.CHINA_TZ)


def _filed_and_closed(app, client, outcome="resolved", **fields):
    """A complaint filed through the form, closed by staff on Tuesday 8 December 2026."""
    merchant = make_user()
    staff = make_user(Role.STAFF)
    ent = make_enterprise(owner=merchant, name="广东反馈测试有限公司")
    shop = make_shop(ent)
    db.session.commit()
    with clock.frozen(china(2026, 12, 1)):
        _report(client, ent, shop, **fields)
        ref, code = _receipt(client)
    c = db.session.scalar(select(Complaint).where(Complaint.reference == ref))
    with clock.frozen(china(2026, 12, 8)):
        process.close(c, outcome, "工作人员调解后的处理说明。", staff, upheld=True)
        db.session.commit()
    return c, code, merchant, staff


def test_consumer_confirms_once_with_the_code(app, client):
    c, code, _merchant, _staff = _filed_and_closed(app, client)
    anon = app.test_client()
    with clock.frozen(china(2026, 12, 10)):
        page = anon.get(f"/complaints/lookup?ref={c.reference}").get_data(as_text=True)
        assert "2026-12-22" in page and "提交确认" in page
        wrong = anon.post(f"/complaints/{c.reference}/feedback", data={"code": "AAAAAAAA", "answer": "satisfied"},
                          follow_redirects=True)
        assert "反馈码不正确" in wrong.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(Complaint, c.id).feedback == ""
        ok = anon.post(f"/complaints/{c.reference}/feedback", data={"code": f" {code.lower()} ", "answer": "satisfied"})
        assert ok.status_code == 303
        again = anon.post(f"/complaints/{c.reference}/feedback",
                          data={"code": code, "answer": "objection", "note": "其实不满意"}, follow_redirects=True)
        assert "不能重复提交" in again.get_data(as_text=True)
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.feedback == "satisfied" and c.feedback_note == ""
    assert "您已确认满意" in anon.get(f"/complaints/lookup?ref={c.reference}").get_data(as_text=True)


def test_objection_needs_a_reason_and_staff_review_it(app, client, login_as):
    c, code, _merchant, staff = _filed_and_closed(app, client)
    anon = app.test_client()
    with clock.frozen(china(2026, 12, 22, 20)):  # the last day of the 10 working days
        no_reason = anon.post(f"/complaints/{c.reference}/feedback", data={"code": code, "answer": "objection"},
                              follow_redirects=True)
        assert "请填写异议理由" in no_reason.get_data(as_text=True)
        anon.post(f"/complaints/{c.reference}/feedback",
                  data={"code": code, "answer": "objection", "note": "商家并未退款。"})
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.feedback == "objected" and c.feedback_note == "商家并未退款。"
    login_as(staff)
    assert c.reference in client.get("/staff/complaints/deadlines").get_data(as_text=True)
    page = client.get(f"/staff/complaints/{c.id}").get_data(as_text=True)
    assert "复核消费者异议" in page and "商家并未退款。" in page
    with clock.frozen(china(2026, 12, 23)):
        client.post(f"/staff/complaints/{c.id}/objection", data={"decision": "reopen"})
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    # mediation again: 45 working days from 23 Dec (the 2027 calendar: 1 Jan off) — at least 24 Feb
    assert c.status == "mediating" and c.feedback == "reopened" and c.mediation_due > c.feedback_due
    assert c.reference not in [r.reference for r in db.session.scalars(process.objections_query())]
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "complaint.reopen"))


def test_staff_can_keep_the_result_with_a_note(app, client, login_as):
    c, code, _merchant, staff = _filed_and_closed(app, client)
    with clock.frozen(china(2026, 12, 9)):
        app.test_client().post(f"/complaints/{c.reference}/feedback",
                               data={"code": code, "answer": "objection", "note": "不满意"})
    login_as(staff)
    client.post(f"/staff/complaints/{c.id}/objection", data={"decision": "maintain"})
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).feedback == "objected"  # a note is required to keep it
    client.post(f"/staff/complaints/{c.id}/objection", data={"decision": "maintain", "review_note": "已核实退款凭证。"})
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.status == "resolved" and c.feedback == "maintained"


def test_feedback_window_closes_after_ten_working_days(app, client):
    c, code, _merchant, _staff = _filed_and_closed(app, client)
    with clock.frozen(china(2026, 12, 23, 9)):
        page = app.test_client().get(f"/complaints/lookup?ref={c.reference}").get_data(as_text=True)
        assert "确认期限（2026-12-22）已过" in page
        resp = app.test_client().post(f"/complaints/{c.reference}/feedback",
                                      data={"code": code, "answer": "satisfied"}, follow_redirects=True)
        assert "已超过办结后 10 个工作日" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).feedback == ""


def test_the_merchant_cannot_answer_for_the_consumer(app, client, login_as):
    """The merchant sees the reference number but never the feedback code."""
    c, code, merchant, _staff = _filed_and_closed(app, client)
    m = app.test_client()
    login_as(merchant, m)
    page = m.get(f"/merchant/complaints/{c.id}").get_data(as_text=True)
    assert code not in page
    with clock.frozen(china(2026, 12, 9)):
        m.post(f"/complaints/{c.reference}/feedback", data={"code": c.reference[-8:], "answer": "satisfied"})
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).feedback == ""


def test_unresolved_complaint_gets_a_12315_referral_text(app, client):
    c, code, _merchant, _staff = _filed_and_closed(
        app, client, outcome="unresolved", order_number="123456789012345678", purchase_date="2026-11-11",
        amount="599", desired_outcome="退款")
    anon = app.test_client()
    page = anon.get(f"/complaints/lookup?ref={c.reference}").get_data(as_text=True)
    assert "下载 12315 投诉材料" in page
    assert anon.post(f"/complaints/{c.reference}/referral", data={"code": "WRONG123"}).status_code == 303
    resp = anon.post(f"/complaints/{c.reference}/referral", data={"code": code})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in resp.headers["Content-Disposition"] and c.reference in resp.headers["Content-Disposition"]
    text = resp.data.decode("utf-8-sig")
    for part in ("广东反馈测试有限公司", c.enterprise.uscc, "123456789012345678", "2026-11-11", "599.00 元", "退款",
                 "收到的货品做工粗糙", c.reference, "未解决", "www.12315.cn"):
        assert part in text, part
    assert "13912345678" not in text  # the contact stays with staff


def test_resolved_complaint_has_no_referral(app, client):
    c, code, _merchant, _staff = _filed_and_closed(app, client)
    page = app.test_client().get(f"/complaints/lookup?ref={c.reference}").get_data(as_text=True)
    assert "下载 12315 投诉材料" not in page
    resp = app.test_client().post(f"/complaints/{c.reference}/referral", data={"code": code}, follow_redirects=True)
    assert "只有“办结·未解决”的投诉" in resp.get_data(as_text=True)
