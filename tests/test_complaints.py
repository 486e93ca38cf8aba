"""Complaints end to end: report → lookup by reference → staff reply → merchant response →
resolve; rate limit; evidence image re-encoded; contact never public; flags; authorization."""
import io
import re

from PIL import Image as PILImage
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Complaint, Image, Role
from marketplace.services.mail import read_outbox
from tests.factories import make_complaint, make_enterprise, make_shop, make_user


def _jpeg_with_gps() -> bytes:
    im = PILImage.new("RGB", (120, 80), (10, 120, 200))
    exif = PILImage.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (22.0, 32.0, 0.0), 3: "E", 4: (113.0, 7.0, 0.0)}  # GPS IFD
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def form_token(client, url: str) -> str:
    """The one-time token of the report form at ``url``, as a browser would get it."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1)


def report_url(ent, shop=None) -> str:
    return f"/report?enterprise_id={ent.id}" + (f"&shop_id={shop.id}" if shop else "")


def _report(client, ent, shop=None, token=None, **data):
    """Post the report form like a browser: with the token of a freshly opened form."""
    form = {"kind": "假冒伪劣", "description": "收到的货品做工粗糙，包装印刷模糊，疑似假冒。", "contact": "13912345678"}
    form.update(data)
    url = report_url(ent, shop)
    form["form_token"] = token or form_token(client, url)
    return client.post(url, data=form, content_type="multipart/form-data")


def _receipt(client) -> tuple[str, str]:
    """The reference and feedback code on the receipt page (the GET after the POST)."""
    html = client.get("/report/submitted").get_data(as_text=True)
    ref = re.search(r'id="receipt-ref">(TS-\d{8}-[A-Z0-9]{8})<', html).group(1)
    code = re.search(r'id="receipt-code">([A-Z0-9]{8})<', html).group(1)
    return ref, code


def test_complaint_flow_end_to_end(app, client, login_as):
    merchant = make_user()
    ent = make_enterprise(owner=merchant, brands=["投诉测试牌"])
    shop = make_shop(ent)
    staff = make_user(Role.STAFF)
    db.session.commit()

    page = client.get(f"/report?enterprise_id={ent.id}&shop_id={shop.id}")
    assert page.status_code == 200 and "投诉类型" in page.get_data(as_text=True)
    resp = _report(client, ent, shop, evidence=(io.BytesIO(_jpeg_with_gps()), "证据.jpg"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/report/submitted")
    ref, code = _receipt(client)
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == ref))
    assert complaint.shop_id == shop.id and complaint.status == "new" and complaint.feedback_code_hash
    assert code not in complaint.feedback_code_hash
    assert any("收到一条投诉" in m["Subject"] and m["To"] == merchant.email for m in read_outbox())

    # public status page: status shown, contact never
    anon = app.test_client()
    status = anon.get(f"/complaints/lookup?ref={ref.lower()}")
    body = status.get_data(as_text=True)
    assert status.status_code == 200 and "待受理" in body and "13912345678" not in body
    assert "没有找到" in anon.get("/complaints/lookup?ref=TS-20200101-XXXXXXXX").get_data(as_text=True)

    # staff: internal note (not public), public reply, assignment, acceptance
    login_as(staff)
    assert "13912345678" in client.get(f"/staff/complaints/{complaint.id}").get_data(as_text=True)
    client.post(f"/staff/complaints/{complaint.id}/reply", data={"body": "内部备注需核查店铺资质"})
    client.post(f"/staff/complaints/{complaint.id}/reply", data={"body": "已受理正在联系商家核实。", "public": "y"})
    client.post(f"/staff/complaints/{complaint.id}/assign", data={"assignee_id": staff.id})
    client.post(f"/staff/complaints/{complaint.id}/accept")
    body = anon.get(f"/complaints/lookup?ref={ref}").get_data(as_text=True)
    assert "已受理正在联系商家核实。" in body and "内部备注需核查店铺资质" not in body and "商家协商" in body
    assert any("已受理" in m["Subject"] and m["To"] == merchant.email for m in read_outbox())

    # merchant reads, responds and reports the settlement
    m_client = app.test_client()
    login_as(merchant, m_client)
    view = m_client.get(f"/merchant/complaints/{complaint.id}").get_data(as_text=True)
    assert "已受理正在联系商家核实。" in view and "内部备注需核查店铺资质" not in view and "13912345678" not in view
    assert ref in m_client.get("/merchant/complaints").get_data(as_text=True)
    m_client.post(f"/merchant/complaints/{complaint.id}", data={"body": "我司已下架该批次并联系买家退款。"})
    assert "我司已下架该批次" in anon.get(f"/complaints/lookup?ref={ref}").get_data(as_text=True)
    m_client.post(f"/merchant/complaints/{complaint.id}/settle", data={"outcome": "已为买家全额退款。"})
    body = anon.get(f"/complaints/lookup?ref={ref}").get_data(as_text=True)
    assert "办结·已解决" in body and "已为买家全额退款。" in body
    # closed: no more responses
    m_client.post(f"/merchant/complaints/{complaint.id}", data={"body": "再补充一句"})
    # the consumer confirms with the feedback code
    anon.post(f"/complaints/{ref}/feedback", data={"code": code.lower(), "answer": "satisfied"})
    db.session.expire_all()
    c = db.session.get(Complaint, complaint.id)
    assert c.status == "resolved" and c.closed_at is not None and len(c.messages) == 3
    assert c.feedback == "satisfied"
    actions = {a.action for a in db.session.scalars(select(AuditLog))}
    assert {"complaint.create", "complaint.reply", "complaint.assign", "complaint.accept",
            "complaint.merchant_response", "complaint.settled", "complaint.confirmed"} <= actions


def test_evidence_image_reencoded_without_exif(app, client):
    ent = make_enterprise()
    db.session.commit()
    original = _jpeg_with_gps()
    _report(client, ent, evidence=(io.BytesIO(original), "a.jpg"))
    c = db.session.scalar(select(Complaint))
    img = db.session.get(Image, c.evidence_sha256)
    assert img.data != original
    stored = PILImage.open(io.BytesIO(img.data))
    assert not stored.getexif() and 0x8825 not in stored.getexif()
    assert b"TestCam" not in img.data


def test_bad_evidence_refused_nothing_written(app, client):
    ent = make_enterprise()
    db.session.commit()
    resp = _report(client, ent, evidence=(io.BytesIO(b"<?php echo 1; ?>"), "shell.png"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "PNG" in html and "收到的货品做工粗糙" in html
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    resp = _report(client, ent, evidence=(io.BytesIO(svg), "x.png"))
    assert "SVG" in resp.get_data(as_text=True)
    assert db.session.query(Complaint).count() == 0


def test_form_errors_keep_input(app, client):
    ent = make_enterprise()
    db.session.commit()
    resp = _report(client, ent, description="太短", contact="我的邮箱 a@b.cn")
    html = resp.get_data(as_text=True)
    assert "10 到 2000" in html and "我的邮箱 a@b.cn" in html
    resp = _report(client, ent, kind="不存在的类型")
    assert resp.status_code == 200
    resp = _report(client, ent, description="含有空字符\x00的描述内容足够长了吧")
    assert resp.status_code in (200, 400)
    assert db.session.query(Complaint).count() == 0


def test_escaped_output(app, client, login_as):
    ent = make_enterprise()
    db.session.commit()
    _report(client, ent, description='"><img src=x onerror=alert(1)> {{7*7}} 假货很多很多')
    c = db.session.scalar(select(Complaint))
    login_as(make_user(Role.STAFF))
    db.session.commit()
    html = client.get(f"/staff/complaints/{c.id}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; {{7*7}}" in html


def test_only_public_enterprises_can_be_reported(app, client):
    draft = make_enterprise(status="draft", certificate=False)
    ent = make_enterprise()
    other_shop = make_shop(make_enterprise())
    db.session.commit()
    assert client.get(f"/report?enterprise_id={draft.id}").status_code == 404
    assert client.get("/report?enterprise_id=abc").status_code == 404
    assert client.get("/report").status_code == 404
    assert client.get(f"/report?enterprise_id={ent.id}&shop_id={other_shop.id}").status_code == 404


def test_report_rate_limited_per_address(app, client):
    ent = make_enterprise()
    db.session.commit()
    codes = [_report(client, ent).status_code for _ in range(6)]
    assert codes[:5] == [303] * 5 and codes[5] == 429
    assert db.session.query(Complaint).count() == 5
    other = app.test_client()
    token = form_token(other, report_url(ent))
    resp = other.post(report_url(ent), data={"kind": "其他", "description": "另一个地址的举报内容足够长",
                                             "form_token": token},
                      environ_base={"REMOTE_ADDR": "10.9.8.7"}, content_type="multipart/form-data")
    assert resp.status_code == 303


def test_csrf_required(app, client):
    ent = make_enterprise()
    db.session.commit()
    resp = client.post(f"/report?enterprise_id={ent.id}", data={
        "kind": "其他", "description": "没有令牌的举报内容足够长", "form_token": form_token(client, report_url(ent))},
        csrf=False)
    assert resp.status_code == 400
    assert db.session.query(Complaint).count() == 0


def test_merchant_sees_only_own_complaints(app, client, login_as):
    alice, bob = make_user(), make_user()
    c = make_complaint(make_enterprise(owner=alice))
    db.session.commit()
    login_as(bob)
    assert client.get(f"/merchant/complaints/{c.id}").status_code == 404
    assert client.post(f"/merchant/complaints/{c.id}", data={"body": "冒名回复"}).status_code == 404
    assert c.reference not in client.get("/merchant/complaints").get_data(as_text=True)
    login_as(make_user(Role.STAFF))
    db.session.commit()
    assert client.get(f"/merchant/complaints/{c.id}").status_code == 403
    anon = app.test_client()
    assert anon.get(f"/merchant/complaints/{c.id}").status_code == 302
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).messages == []


def test_repeated_counterfeit_reports_flagged(app, client, login_as):
    ent = make_enterprise()
    bad_shop, ok_shop = make_shop(ent), make_shop(ent)
    make_complaint(ent, shop=bad_shop)
    make_complaint(ent, shop=bad_shop)
    make_complaint(ent, shop=ok_shop)
    make_complaint(ent, shop=ok_shop, kind="售后问题")
    login_as(make_user(Role.STAFF))
    db.session.commit()
    html = client.get("/staff/complaints").get_data(as_text=True)
    assert "被举报假冒 2 次" in html
    flagged = client.get("/staff/complaints?flagged=1").get_data(as_text=True)
    assert flagged.count("<tr class=\"flagged\">") == 2
    by_kind = client.get("/staff/complaints?kind=售后问题&status=all").get_data(as_text=True)
    assert by_kind.count("TS-") == 1


def test_refusal_requires_a_reason(app, client, login_as):
    c = make_complaint(make_enterprise())
    login_as(make_user(Role.STAFF))
    db.session.commit()
    client.post(f"/staff/complaints/{c.id}/refuse", data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).status == "new"
    client.post(f"/staff/complaints/{c.id}/refuse", data={"reason": "与本平台认证店铺无关"})
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.status == "dismissed" and c.resolution_note == "与本平台认证店铺无关" and c.closed_at
    # a refused complaint cannot be closed afterwards
    client.post(f"/staff/complaints/{c.id}/close", data={"outcome": "resolved", "note": "晚了"})
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).status == "dismissed"
