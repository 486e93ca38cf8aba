"""公示 (issue 13 §4): an approved first certification waits on /gongshi for N working days, anyone
can object, staff uphold or dismiss, and the periodic command lets it take effect."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import chinese_calendar
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import (
    Application, AuditLog, Certification, CertificationEvent, Enterprise, Image, NoticeObjection, PublicNotice, Role,
    Shop, enterprise_is_public,
)
from marketplace.services import AlreadyDecided, gongshi, review
from marketplace.services.mail import read_outbox
from tests.factories import all_codes_verified, make_application, make_enterprise, make_shop, make_user

# 10:00 on 29 September 2026 in China, the day before the National Day holidays.
APPROVED_AT = datetime(2026, 9, 29, 2, 0)


def _png(size=(80, 60), color=(30, 120, 200)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _approved(name="广东公示测试有限公司", url=None, at: datetime | None = None):
    """A merchant's new enterprise with one shop, approved by staff (so it goes on 公示)."""
    owner = make_user()
    ent = make_enterprise(name, status="pending", owner=owner, certificate=False)
    shop = make_shop(ent, status="pending", url=url or f"https://gs{ent.id}.tmall.com/")
    app_row = make_application(ent)
    staff = make_user(Role.STAFF)
    db.session.commit()
    if at is None:
        review.approve(app_row.id, staff, shop_checks=all_codes_verified(app_row))
    else:
        with clock.frozen(at):
            review.approve(app_row.id, staff, shop_checks=all_codes_verified(app_row))
    db.session.commit()
    notice = db.session.scalar(select(PublicNotice).where(PublicNotice.enterprise_id == ent.id))
    return ent, shop, app_row, staff, notice


def _verify(client, **query) -> dict:
    resp = client.get("/api/v1/verify", query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _token(client, notice) -> str:
    html = client.get(f"/gongshi/{notice.id}").get_data(as_text=True)
    return re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1)


def _object(client, notice, token=None, image: bytes | None = None, **fields):
    data = {"reason": "该企业登记的天猫店铺实际属于另一家公司，名称与营业执照不符。", "contact_name": "李先生",
            "contact_phone": "13800138000", "contact_email": "objector@example.com",
            "form_token": token or _token(client, notice), **fields}
    if image is not None:
        data["evidence"] = (io.BytesIO(image), "photo.png")
    return client.post(f"/gongshi/{notice.id}", data=data, content_type="multipart/form-data")


def _run(runner, day: date | None = None):
    args = ["gongshi-take-effect"] + (["--today", day.isoformat()] if day else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def _staff_client(app, login_as_user):
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as_user(staff)
    return staff


# --------------------------------------------------------------------------- the calendar

def test_national_day_approval_ends_on_the_calendar_date(app, client, runner):
    """Approved on 2026-09-29 with N=5: the working days after it, by chinese-calendar, are 30 Sep,
    8 Oct, 9 Oct, Saturday 10 Oct (调休) and 12 Oct — the 公示 ends on 12 October."""
    assert app.config["GONGSHI_WORKING_DAYS"] == 5
    ent, shop, _app, _staff, notice = _approved(at=APPROVED_AT)
    expected = chinese_calendar.get_workdays(date(2026, 9, 30), date(2026, 10, 31))[4]
    assert expected == date(2026, 10, 12)
    assert notice.starts_on == date(2026, 9, 29) and notice.ends_on == expected
    for day in (date(2026, 9, 30), date(2026, 10, 7), date(2026, 10, 11)):
        with clock.frozen(datetime.combine(day, datetime.min.time()) + timedelta(hours=2)):
            assert "生效 0 条" in _run(runner)
            assert _verify(client, uscc=ent.uscc)["result"] == "in_notice"
            answer = _verify(client, url=shop.url)
            assert answer["result"] == "in_notice" and answer["result_label"] == "公示中"
            assert "公示中" in client.get("/verify", query_string={"q": shop.url}).get_data(as_text=True)
    with clock.frozen(datetime(2026, 10, 12, 1, 0)):  # 09:00 on 12 October in China
        assert "生效 1 条" in _run(runner)
        assert _verify(client, uscc=ent.uscc)["result"] == "certified"
        assert _verify(client, url=shop.url)["result"] == "certified"
    cert = db.session.scalar(select(Certification).where(Certification.enterprise_id == ent.id))
    assert cert.issued_on == date(2026, 10, 12)  # validity starts when it takes effect
    assert (cert.valid_until - cert.issued_on).days == app.config["CERTIFICATE_VALID_DAYS"]


def test_n_is_a_setting(app_config, tmp_path):
    from marketplace import create_app

    app_config["GONGSHI_WORKING_DAYS"] = 2
    app = create_app(app_config)
    with app.app_context():
        assert gongshi.end_date(date(2026, 9, 29)) == date(2026, 10, 8)


# --------------------------------------------------------------------------- not public meanwhile

def test_not_public_during_gongshi_then_public(app, client, runner):
    ent, shop, app_row, _staff, notice = _approved()
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.status == "notice" and db.session.get(Shop, shop.id).status == "notice"
    assert db.session.get(Application, app_row.id).status == "approved"
    assert db.session.scalar(select(func.count()).select_from(Enterprise).where(enterprise_is_public())) == 0
    assert db.session.query(Certification).count() == 0
    assert client.get(f"/enterprises/{ent.id}").status_code == 404
    assert client.get(f"/go/{shop.id}").status_code == 404
    assert f"/enterprises/{ent.id}" not in client.get("/search", query_string={"q": ent.name}).get_data(as_text=True)
    assert db.session.query(CertificationEvent).count() == 0  # the approval is no "certified" event
    page = client.get("/gongshi").get_data(as_text=True)
    for text in (ent.name, ent.uscc, shop.name, shop.url, f"{notice.starts_on:%Y-%m-%d}"[:4]):
        assert text in page
    atom = client.get("/gongshi.atom")
    assert atom.status_code == 200 and atom.mimetype == "application/atom+xml"
    assert ent.name in atom.get_data(as_text=True) and f"/gongshi/{notice.id}" in atom.get_data(as_text=True)
    with clock.frozen(datetime.combine(notice.ends_on, datetime.min.time()) + timedelta(hours=1)):
        _run(runner)
    assert client.get(f"/enterprises/{ent.id}").status_code == 200
    events = client.get("/api/v1/changes").get_json()["events"]
    assert [e["type"] for e in events] == ["certified"]
    assert events[0]["certificate"] == db.session.get(Enterprise, ent.id).certificate.number
    assert "已结束" in client.get("/gongshi?state=ended").get_data(as_text=True)
    assert ent.name in client.get("/gongshi?state=ended").get_data(as_text=True)


def test_merchant_cannot_edit_while_on_notice(app, client, login_as):
    ent, shop, *_ = _approved()
    login_as(ent.owner)
    resp = client.post(f"/merchant/shops/{shop.id}/delete", data={}, follow_redirects=True)
    assert "公示" in resp.get_data(as_text=True)
    assert db.session.get(Shop, shop.id) is not None
    assert "公示中" in client.get("/merchant/").get_data(as_text=True)


def test_command_is_idempotent(app, client, runner):
    _ent, _shop, _app, _staff, notice = _approved()
    end = notice.ends_on + timedelta(days=3)
    assert "生效 1 条" in _run(runner, end)
    for _ in range(2):
        assert "生效 0 条" in _run(runner, end)
    assert db.session.query(Certification).count() == 1
    assert db.session.query(CertificationEvent).count() == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "gongshi.effective")) == 1
    assert "13-13" not in _run(runner, None)  # today (before the end) is fine too
    assert runner.invoke(args=["gongshi-take-effect", "--today", "2026-13-45"]).exit_code != 0


def test_new_shop_of_certified_enterprise_goes_on_notice(app, client, runner):
    owner = make_user()
    ent = make_enterprise(owner=owner)
    shop = make_shop(ent, status="pending")
    app_row = make_application(ent, "shop", shop=shop)
    db.session.commit()
    review.approve(app_row.id, make_user(Role.STAFF), shop_checks=all_codes_verified(app_row))
    db.session.commit()
    assert db.session.get(Shop, shop.id).status == "notice"
    assert _verify(client, url=shop.url)["result"] == "in_notice"
    assert _verify(client, uscc=ent.uscc)["result"] == "certified"  # the enterprise stays certified
    notice = db.session.scalar(select(PublicNotice).where(PublicNotice.shop_id == shop.id))
    _run(runner, notice.ends_on)
    assert db.session.get(Shop, shop.id).status == "certified"
    assert [e["type"] for e in client.get("/api/v1/changes").get_json()["events"]] == ["certified"]


# --------------------------------------------------------------------------- objections

def test_objection_blocks_taking_effect_until_dismissed(app, client, runner, login_as):
    ent, _shop, _app, _staff, notice = _approved()
    resp = _object(client, notice, image=_png())
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/gongshi/objection/received")
    receipt = client.get("/gongshi/objection/received")
    objection = db.session.scalar(select(NoticeObjection))
    assert objection.reference in receipt.get_data(as_text=True) and "复制编号" in receipt.get_data(as_text=True)
    assert receipt.headers["Cache-Control"] == "private, no-store"
    assert re.fullmatch(r"YY-\d{8}-[2-9A-HJ-NP-Z]{8}", objection.reference)
    out = _run(runner, notice.ends_on + timedelta(days=1))
    assert "生效 0 条" in out and "暂缓 1 条" in out
    assert db.session.get(Enterprise, ent.id).status == "notice"
    _staff_client(app, login_as)
    assert objection.reference in client.get("/staff/objections").get_data(as_text=True)
    assert client.post(f"/staff/objections/{objection.id}/dismiss", data={"reason": ""}).status_code == 400
    resp = client.post(f"/staff/objections/{objection.id}/dismiss", data={"reason": "经核实，店铺确属该企业。"})
    assert resp.status_code == 303
    mail = read_outbox()[-1]
    assert mail["To"] == "objector@example.com" and "不成立" in mail["Subject"]
    assert "经核实，店铺确属该企业。" in mail.get_content()
    again = client.post(f"/staff/objections/{objection.id}/uphold", data={"reason": "晚到的决定"})
    assert again.status_code == 400 and "已由其他工作人员处理" in again.get_data(as_text=True)
    assert "生效 1 条" in _run(runner, notice.ends_on + timedelta(days=1))
    assert db.session.get(Enterprise, ent.id).status == "certified"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "objection.dismiss")).after["status"] \
        == "dismissed"


def test_uphold_returns_application_to_review_and_mails_merchant(app, client, runner, login_as):
    ent, shop, app_row, _staff, notice = _approved()
    _object(client, notice, contact_email="")
    objection = db.session.scalar(select(NoticeObjection))
    staff = _staff_client(app, login_as)
    resp = client.post(f"/staff/objections/{objection.id}/uphold", data={"reason": "店铺并非该企业经营。"})
    assert resp.status_code == 303
    db.session.expire_all()
    app_row = db.session.get(Application, app_row.id)
    assert app_row.status == "pending" and "店铺并非该企业经营。" in app_row.reason
    assert db.session.get(Enterprise, ent.id).status == "pending"
    assert db.session.get(Shop, shop.id).status == "pending"
    assert db.session.get(PublicNotice, notice.id).status == "withdrawn"
    mails = [m for m in read_outbox() if m["To"] == ent.owner.email]
    assert "异议成立" in mails[-1]["Subject"] and "店铺并非该企业经营。" in mails[-1].get_content()
    assert not [m for m in read_outbox() if m["To"] == "objector@example.com"]  # no email given
    assert f"/staff/review/{app_row.id}" in client.get("/staff/review").get_data(as_text=True)
    assert _run(runner, notice.ends_on + timedelta(days=5)).startswith("公示期满生效 0 条")
    assert db.session.query(CertificationEvent).count() == 0
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "gongshi.withdraw"))
    assert entry.before == {"status": "notice"} and entry.after["status"] == "pending" and entry.actor_id == staff.id
    login_as(ent.owner)
    assert "店铺并非该企业经营。" in client.get("/merchant/").get_data(as_text=True)
    # approved again after the fix: a new 公示 starts
    review.approve(app_row.id, staff, shop_checks=all_codes_verified(app_row))
    db.session.commit()
    assert db.session.query(PublicNotice).count() == 2
    assert db.session.get(Enterprise, ent.id).status == "notice"


def test_two_staff_cannot_both_decide(app):
    _ent, _shop, _app, staff, notice = _approved()
    objection = gongshi.file_objection(notice.id, gongshi.ObjectionInput(
        reason="名称与营业执照不符，请核实清楚。", contact_name="王女士", contact_phone="13900139000"), None)
    db.session.commit()
    gongshi.dismiss(objection.id, staff, "已核实")
    db.session.commit()
    try:
        gongshi.uphold(objection.id, staff, "另一位工作人员")
    except AlreadyDecided:
        pass
    else:
        raise AssertionError("a second decision must be refused")
    db.session.rollback()
    assert db.session.get(PublicNotice, notice.id).open_objections == 0
    assert db.session.get(PublicNotice, notice.id).status == "open"
    assert db.session.get(NoticeObjection, objection.id).status == "dismissed"


def test_objection_on_ended_notice_is_refused(app, client, runner):
    _ent, _shop, _app, _staff, notice = _approved()
    token = _token(client, notice)
    _run(runner, notice.ends_on)
    resp = _object(client, notice, token=token)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/gongshi/{notice.id}")
    assert db.session.query(NoticeObjection).count() == 0
    assert "提出异议" not in client.get(f"/gongshi/{notice.id}").get_data(as_text=True).split("</article>")[1]


# --------------------------------------------------------------------------- bad input, limits, privacy

def test_bad_input_stores_nothing_and_keeps_what_was_typed(app, client):
    _ent, _shop, _app, _staff, notice = _approved()
    resp = _object(client, notice, reason="太短", contact_phone="123", contact_email="not-an-email",
                   contact_name="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for message in ("至少 10 个字", "请填写正确的手机号", "邮箱格式不正确", "请填写联系人姓名"):
        assert message in html
    assert "太短" in html and "not-an-email" in html
    resp = _object(client, notice, contact_phone="", contact_email="")
    assert "请至少留下手机号或邮箱" in resp.get_data(as_text=True)
    resp = _object(client, notice, image=b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    assert resp.status_code == 200 and "SVG" in resp.get_data(as_text=True)
    resp = _object(client, notice, reason="原因里有\x00空字符，这是不允许的输入内容。")
    assert resp.status_code == 200
    assert db.session.query(NoticeObjection).count() == 0
    assert db.session.get(PublicNotice, notice.id).open_objections == 0
    assert client.get("/gongshi/999999").status_code == 404
    assert client.get("/gongshi?page=abc").status_code == 400
    assert client.get("/gongshi?state=bogus").status_code == 200


def test_rate_limit_counts_only_valid_objections(app, client):
    _ent, _shop, _app, _staff, notice = _approved()
    assert _object(client, notice, reason="短").status_code == 200
    assert _object(client, notice, contact_phone="1").status_code == 200
    assert [_object(client, notice).status_code for _ in range(5)] == [303] * 5
    resp = _object(client, notice, reason="第六条异议的内容必须原样保留在表单里。")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429 and "提交过于频繁" in html and "第六条异议的内容必须原样保留在表单里。" in html
    assert db.session.query(NoticeObjection).count() == 5


def test_reload_never_files_twice(app, client):
    _ent, _shop, _app, _staff, notice = _approved()
    token = _token(client, notice)
    first = _object(client, notice, token=token)
    again = _object(client, notice, token=token)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"].endswith("/gongshi/objection/received")
    assert db.session.query(NoticeObjection).count() == 1
    client.get("/gongshi/objection/received")
    assert db.session.query(NoticeObjection).count() == 1
    replay = _object(app.test_client(), notice, token=token)
    assert replay.status_code == 303 and db.session.query(NoticeObjection).count() == 1
    assert db.session.get(PublicNotice, notice.id).open_objections == 1


def test_evidence_image_is_private(app, client, login_as):
    ent, _shop, _app, _staff, notice = _approved()
    png = _png()
    _object(client, notice, image=png)
    objection = db.session.scalar(select(NoticeObjection))
    assert objection.has_evidence and objection.evidence_data != png  # re-encoded
    assert db.session.query(Image).count() == 0  # never in the public image table
    url = f"/staff/objections/{objection.id}/evidence"
    anon = app.test_client().get(url)
    assert anon.status_code in (302, 401, 403, 404) and not anon.mimetype.startswith("image/")
    login_as(ent.owner)  # the merchant the objection is about
    assert client.get(url).status_code in (403, 404)
    assert client.get(f"/staff/objections/{objection.id}").status_code in (403, 404)
    other = make_user()
    db.session.commit()
    login_as(other)
    assert client.get(url).status_code in (403, 404)
    page = app.test_client().get(f"/gongshi/{notice.id}").get_data(as_text=True)
    assert "objector@example.com" not in page and "13800138000" not in page
    assert "objector@example.com" not in app.test_client().get("/gongshi.atom").get_data(as_text=True)
    _staff_client(app, login_as)
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype.startswith("image/")
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert "objector@example.com" in client.get(f"/staff/objections/{objection.id}").get_data(as_text=True)
