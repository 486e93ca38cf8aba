"""The report form asks what 12315 asks, keeps what was typed, counts only real filings and never
files twice (one-time form token + POST-redirect-GET)."""
from __future__ import annotations

import re
import threading
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import Complaint, UsedFormToken
from marketplace.services import formtoken
from marketplace.validation import ValidationError
from marketplace.validation.phone import normalize_phone
from tests.factories import make_enterprise
from tests.test_complaints import _receipt, _report, form_token, report_url

import pytest

FULL = {"order_number": "２０２６０９２８ 1234-A", "purchase_date": "2026/9/20", "amount": "¥1,299.5 元",
        "desired_outcome": "退款", "phone": "+86 139-1234-5678"}


def test_12315_fields_are_stored_normalised(app, client):
    ent = make_enterprise()
    db.session.commit()
    with clock.frozen(clock.china_local_to_utc(datetime(2026, 9, 28, 9))):
        assert _report(client, ent, **FULL).status_code == 303
    c = db.session.scalar(select(Complaint))
    assert c.order_number == "202609281234-A" and c.purchase_date == date(2026, 9, 20)
    assert c.amount == Decimal("1299.50") and c.desired_outcome == "退款" and c.phone == "13912345678"


@pytest.mark.parametrize("raw,stored", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("８６１３８１２３４５６７８", "13812345678"),
    ("020-87654321", "020-87654321"), ("(0755) 2345 6789", "0755-23456789"), ("0203-4567890", "020-34567890"),
])
def test_phone_numbers_accepted(raw, stored):
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "abc", "110", "+1 415 555 0100"])
def test_phone_numbers_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_bad_fields_explained_in_chinese_and_everything_typed_kept(app, client):
    ent = make_enterprise()
    db.session.commit()
    typed = {"description": "商品与宣传不符，要求退款，已多次联系客服。", "order_number": "订单#1",
             "purchase_date": "2026-13-45", "amount": "一百元", "phone": "12345", "contact": "me@example.com",
             "desired_outcome": "退款"}
    resp = _report(client, ent, **typed)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for message in ("订单号只能包含字母、数字", "请按“年-月-日”填写日期", "金额请填写数字", "请填写正确的手机号"):
        assert message in html
    for value in ("商品与宣传不符，要求退款，已多次联系客服。", "订单#1", "2026-13-45", "一百元", "12345", "me@example.com"):
        assert value in html
    assert '<option selected value="退款">' in html or 'value="退款" selected' in html
    future = _report(client, ent, purchase_date="2999-01-01", amount="-5")
    assert "购买日期不能晚于今天" in future.get_data(as_text=True)
    assert "金额请填写数字" in future.get_data(as_text=True) or "涉及金额应大于 0 元" in future.get_data(as_text=True)
    assert db.session.query(Complaint).count() == 0


def test_failed_submissions_do_not_count_toward_the_limit(app, client):
    """Two mistakes, then five real complaints: all five are filed (the limit is 5 per hour)."""
    ent = make_enterprise()
    db.session.commit()
    assert _report(client, ent, description="太短").status_code == 200
    assert _report(client, ent, phone="123").status_code == 200
    codes = [_report(client, ent).status_code for _ in range(5)]
    assert codes == [303] * 5
    assert db.session.query(Complaint).count() == 5
    # the sixth real one is over the limit: 429, and the form comes back with the text typed
    resp = _report(client, ent, description="第六次投诉的内容必须原样保留在表单里。")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429 and "第六次投诉的内容必须原样保留在表单里。" in html and "提交过于频繁" in html
    assert 'name="form_token"' in html


def test_reload_and_double_click_file_once(app, client):
    ent = make_enterprise()
    db.session.commit()
    token = form_token(client, report_url(ent))
    first = _report(client, ent, token=token)
    assert first.status_code == 303 and first.headers["Location"].endswith("/report/submitted")
    ref, _code = _receipt(client)
    # the browser re-sends the same POST (reload after a lost response, a double click)
    again = _report(client, ent, token=token)
    assert again.status_code == 303 and again.headers["Location"].endswith("/report/submitted")
    assert db.session.query(Complaint).count() == 1
    # reloading the receipt (a GET) files nothing either
    assert ref in client.get("/report/submitted").get_data(as_text=True)
    assert db.session.query(Complaint).count() == 1
    # another browser replaying the token is shown the status page, not a new filing
    other = app.test_client()
    replay = _report(other, ent, token=token)
    assert replay.status_code == 303 and f"ref={ref}" in replay.headers["Location"]
    assert db.session.query(Complaint).count() == 1
    # the token is reusable until it succeeds: a refused submission does not spend it
    token2 = form_token(client, report_url(ent))
    assert _report(client, ent, token=token2, description="短").status_code == 200
    assert _report(client, ent, token=token2).status_code == 303
    assert db.session.query(Complaint).count() == 2


def test_missing_forged_or_foreign_tokens_refused_with_input_kept(app, client):
    ent = make_enterprise()
    db.session.commit()
    foreign = formtoken.issue("objection")
    for token in ("", "forged-token", foreign):
        resp = client.post(report_url(ent), content_type="multipart/form-data", data={
            "kind": "其他", "description": "令牌不对时填写的内容要保留下来。", "form_token": token})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "表单已失效" in html and "令牌不对时填写的内容要保留下来。" in html
        fresh = re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1)
        formtoken.check(fresh, "complaint")  # the form comes back with a usable token
    assert db.session.query(Complaint).count() == 0


def test_expired_token_refused(app, client, monkeypatch):
    ent = make_enterprise()
    db.session.commit()
    token = form_token(client, report_url(ent))
    monkeypatch.setattr(formtoken, "MAX_AGE", -1)
    html = _report(client, ent, token=token).get_data(as_text=True)
    assert "表单打开时间过长已失效" in html
    assert db.session.query(Complaint).count() == 0


def test_simultaneous_submissions_of_one_form_file_once(app, client, tmp_path):
    """Two requests with the same token at the same instant (a double tap on a slow phone)."""
    ent = make_enterprise()
    db.session.commit()
    token = form_token(client, report_url(ent))
    db.session.refresh(ent)  # the GET's commit expired it; the threads have no app context to load it
    results = []
    barrier = threading.Barrier(2)

    def send(c):
        barrier.wait()
        results.append(_report(c, ent, token=token).status_code)

    clients = [app.test_client(), app.test_client()]
    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert results == [303, 303]
    assert db.session.query(Complaint).count() == 1
    assert db.session.query(UsedFormToken).count() == 1


def test_receipt_has_copy_button_and_says_when_to_expect_an_answer(app, client):
    ent = make_enterprise()
    db.session.commit()
    with clock.frozen(clock.china_local_to_utc(datetime(2026, 9, 28, 9))):
        _report(client, ent)
        resp = client.get("/report/submitted")
    html = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert 'data-copy="#receipt-ref"' in html and "js/copy.js" in html
    assert "2026-10-13" in html and "决定是否受理" in html
    with client.get("/static/js/copy.js") as script:
        assert script.status_code == 200
    # without a receipt in the session the page sends you to the lookup
    assert app.test_client().get("/report/submitted").status_code == 302
