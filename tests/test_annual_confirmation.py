"""Annual confirmation (issue 13 §5): asked 30 days before each certificate anniversary, suspended
30 days after it when not confirmed (reason, audit entry, mail), reinstated on confirmation plus a
staff check; the daily job is safe to repeat. Time is pinned with ``clock.frozen``."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AnnualConfirmation, AuditLog, CertificationEvent, Enterprise, Role
from marketplace.services import annual_confirmation
from marketplace.services.annual_confirmation import anniversary_due
from marketplace.services.mail import read_outbox
from tests.factories import make_enterprise, make_shop, make_user

ISSUED = date(2025, 3, 10)


def at(day: date, hour: int = 2):
    """A moment on a China date (02:00 UTC is 10:00 in China, same day)."""
    return clock.frozen(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def world(app):
    owner = make_user(email="owner@example.com")
    ent = make_enterprise("广东年度确认有限公司", owner=owner)
    make_shop(ent)
    cert = ent.certificate
    cert.issued_on, cert.valid_until = ISSUED, date(2027, 3, 10)
    staff = make_user(Role.STAFF)
    db.session.commit()
    return {"owner": owner, "ent": ent, "cert": cert, "staff": staff}


def _run(runner, day: date) -> str:
    with at(day):
        result = runner.invoke(args=["dynamic-management"])
    assert result.exit_code == 0, result.output
    return result.output


def _row() -> AnnualConfirmation:
    db.session.expire_all()
    return db.session.scalar(select(AnnualConfirmation))


def test_anniversaries_stop_before_the_certificate_expires(world):
    cert = world["cert"]
    assert anniversary_due(cert, date(2026, 2, 7)) is None
    assert anniversary_due(cert, date(2026, 2, 8)) == date(2026, 3, 10)
    assert anniversary_due(cert, date(2027, 3, 1)) == date(2026, 3, 10)  # 2027-03-10 is the expiry: renewal instead
    cert.issued_on, cert.valid_until = date(2024, 2, 29), date(2027, 2, 28)
    assert anniversary_due(cert, date(2026, 2, 1)) == date(2026, 2, 28)


def test_lapse_suspends_then_confirmation_and_staff_check_reinstate(app, client, login_as, runner, world):
    ent = world["ent"]
    assert "新发出提醒 0 家" in _run(runner, date(2026, 2, 7))
    assert "新发出提醒 1 家" in _run(runner, date(2026, 2, 8))
    assert "新发出提醒 0 家" in _run(runner, date(2026, 2, 20))  # asked once
    row = _row()
    assert (row.anniversary, row.due_on, row.status) == (date(2026, 3, 10), date(2026, 4, 9), "open")
    mail = read_outbox()[-1]
    assert mail["To"] == "owner@example.com" and "2026-04-09 前完成年度确认" in mail["Subject"]

    with at(date(2026, 3, 1)):
        login_as(world["owner"])
        assert "请在 <strong>2026-04-09</strong> 前核对资料并确认" in client.get("/merchant/").get_data(as_text=True)

    assert "逾期暂停 0 家" in _run(runner, date(2026, 4, 9))  # the last day still counts
    assert "逾期暂停 1 家" in _run(runner, date(2026, 4, 10))
    assert "逾期暂停 0 家" in _run(runner, date(2026, 4, 11))
    row = _row()
    ent = db.session.get(Enterprise, ent.id)
    assert row.status == "overdue" and row.suspended_at is not None
    assert ent.status == "suspended" and "未在 2026-04-09 前完成年度确认" in ent.status_reason
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action.in_(("enterprise.suspended", "annual_confirmation.lapse")))) == 2
    assert "已被暂停" in read_outbox()[-1]["Subject"]
    assert app.test_client().get(f"/enterprises/{ent.id}").status_code == 404

    with at(date(2026, 4, 12)):
        login_as(world["owner"])
        page = client.get(f"/merchant/enterprises/{ent.id}/annual-confirmation").get_data(as_text=True)
        assert "已逾期，企业认证已暂停" in page and "广东年度确认有限公司" in page
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        resp = client.post(f"/merchant/enterprises/{ent.id}/annual-confirmation", data={"version": version})
        assert "请勾选确认" in resp.get_data(as_text=True)
        assert _row().status == "overdue"
        resp = client.post(f"/merchant/enterprises/{ent.id}/annual-confirmation",
                           data={"version": version, "confirmed": "y", "note": "联系电话已更新"})
        assert resp.status_code == 302
        assert _row().status == "submitted" and db.session.get(Enterprise, ent.id).status == "suspended"

        login_as(world["staff"])
        listing = client.get("/staff/annual-confirmations").get_data(as_text=True)
        assert "广东年度确认有限公司" in listing and "联系电话已更新" in listing
        version = re.search(r'name="version"[^>]*value="(\d+)"', listing).group(1)
        client.post(f"/staff/annual-confirmations/{_row().id}/check", data={"decision": "accept", "version": version})
    row = _row()
    assert row.status == "confirmed" and row.checked_by_id == world["staff"].id
    assert db.session.get(Enterprise, ent.id).status == "certified"
    assert "认证已恢复" in read_outbox()[-1]["Subject"]
    types = [e.type for e in db.session.scalars(select(CertificationEvent).order_by(CertificationEvent.id))]
    assert types[-2:] == ["suspended", "reinstated"]
    assert "新发出提醒 0 家" in _run(runner, date(2026, 5, 1))


def test_confirmed_in_time_is_never_suspended_and_a_return_asks_again(app, client, login_as, runner, world):
    ent = world["ent"]
    _run(runner, date(2026, 2, 8))
    with at(date(2026, 3, 20)):
        login_as(world["owner"])
        client.post(f"/merchant/enterprises/{ent.id}/annual-confirmation", data={"confirmed": "y"})
    assert _row().status == "submitted"
    assert "逾期暂停 0 家" in _run(runner, date(2026, 4, 20))  # submitted in time: no lapse while staff check it
    with at(date(2026, 4, 20)):
        login_as(world["staff"])
        resp = client.post(f"/staff/annual-confirmations/{_row().id}/check", data={"decision": "return", "note": ""},
                           follow_redirects=True)
        assert "请填写退回理由" in resp.get_data(as_text=True)
        client.post(f"/staff/annual-confirmations/{_row().id}/check",
                    data={"decision": "return", "note": "请更新营业执照"})
    row = _row()
    assert row.status == "open" and row.due_on == date(2026, 4, 27)  # returned late: one more week
    assert "年度确认需要补充" in read_outbox()[-1]["Subject"]
    assert "逾期暂停 0 家" in _run(runner, date(2026, 4, 27))
    assert "逾期暂停 1 家" in _run(runner, date(2026, 4, 28))


def test_when_the_rule_starts_late_the_owner_still_gets_thirty_days(runner, world):
    _run(runner, date(2026, 3, 25))  # 15 days after the anniversary
    assert _row().due_on == date(2026, 4, 24)


def test_enterprises_without_owner_or_valid_certificate_are_not_asked(runner, world):
    unowned = make_enterprise("广东未认领年度有限公司")
    unowned.certificate.issued_on = ISSUED
    suspended = make_enterprise("广东已暂停年度有限公司", owner=make_user(), status="suspended")
    make_enterprise("广东无证书年度有限公司", owner=make_user(), certificate=False)
    db.session.commit()
    assert suspended.status == "suspended"
    assert "新发出提醒 1 家" in _run(runner, date(2026, 2, 8))
    assert db.session.scalar(select(AnnualConfirmation.enterprise_id)) == world["ent"].id


def test_only_the_owner_confirms_and_staff_only_check(app, client, login_as, runner, world):
    _run(runner, date(2026, 2, 8))
    ent = world["ent"]
    stranger = make_user()
    db.session.commit()
    login_as(stranger)
    assert client.get(f"/merchant/enterprises/{ent.id}/annual-confirmation").status_code == 404
    assert client.post(f"/merchant/enterprises/{ent.id}/annual-confirmation", data={"confirmed": "y"}).status_code == 404
    assert client.get("/staff/annual-confirmations").status_code == 403
    assert client.post(f"/staff/annual-confirmations/{_row().id}/check", data={"decision": "accept"}).status_code == 403
    assert app.test_client().get(f"/merchant/enterprises/{ent.id}/annual-confirmation").status_code in (302, 401)
    assert _row().status == "open"
    login_as(world["owner"])
    resp = client.post(f"/staff/annual-confirmations/{_row().id}/check", data={"decision": "accept"})
    assert resp.status_code == 403


def test_nothing_to_confirm_says_so(client, login_as, world):
    login_as(world["owner"])
    page = client.get(f"/merchant/enterprises/{world['ent'].id}/annual-confirmation").get_data(as_text=True)
    assert "当前没有需要完成的年度确认" in page
    resp = client.post(f"/merchant/enterprises/{world['ent'].id}/annual-confirmation", data={"confirmed": "y"})
    assert "当前没有需要完成的年度确认" in resp.get_data(as_text=True)
    assert annual_confirmation.waiting_for(world["ent"]) is None
