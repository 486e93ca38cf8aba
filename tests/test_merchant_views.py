"""Merchant area over HTTP: authorization, CSRF, escaping, the status contract, the journey."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image as PILImage
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import (
    AppKind, Application, AppStatus, ClickEvent, Complaint, Enterprise, Image, Role, Shop, ShopType,
    Status, User,
)
from marketplace.clock import utc_now
from marketplace.validation.uscc import check_character
from tests import factories as f


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)


def uscc(n: int, area: str = "440104") -> str:
    body = f"91{area}{n:09d}"[:17]
    return body + check_character(body)


def png_bytes(size=(64, 48), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def ent_form(**over) -> dict:
    data = {"name": "广州岭南风食品有限公司", "uscc": uscc(880001), "brands": "岭南风",
            "city_id": "", "industry_ids": [str(f.industry("家电").id)], "description": "好吃的点心。",
            "website": "https://www.lingnanfeng.cn/", "founded_year": "2010"}
    data.update(over)
    return data


def shop_form(slug="tmall", url="https://lnf.tmall.com/", **over) -> dict:
    data = {"platform_id": str(f.platform(slug).id), "name": "岭南风旗舰店", "url": url,
            "shop_type": ShopType.FLAGSHIP}
    data.update(over)
    return data


@pytest.fixture
def merchant(app, login_as):
    user = f.make_user()
    db.session.commit()
    login_as(user)
    return user


def text(resp) -> str:
    return resp.get_data(as_text=True)


# --------------------------------------------------------------------------- access


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/merchant/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    resp = client.post("/merchant/enterprises/new", data=ent_form())
    assert resp.status_code in (302, 401)
    assert db.session.scalar(select(Enterprise)) is None


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_get_403_in_merchant_area(client, login_as, role):
    login_as(f.make_user(role=role))
    db.session.commit()
    assert client.get("/merchant/").status_code == 403
    assert client.post("/merchant/enterprises/new", data=ent_form()).status_code == 403
    assert db.session.scalar(select(Enterprise)) is None


def test_dashboard_empty_state_and_checklist(client, merchant):
    resp = client.get("/merchant/")
    assert resp.status_code == 200
    body = text(resp)
    assert "商家中心" in body and "下一步做什么" in body and "创建或认领企业" in body
    assert "还没有企业" in body


def _other_merchants_objects():
    other = f.make_user()
    ent = f.make_enterprise(owner=other, status=Status.DRAFT, name="别人的草稿有限公司")
    shop = f.make_shop(ent, status=Status.DRAFT, url="https://others.tmall.com/")
    cert_ent = f.make_enterprise(owner=other, status=Status.CERTIFIED)
    cert_shop = f.make_shop(cert_ent, url="https://others-cert.tmall.com/")
    app_ = Application(kind=AppKind.ENTERPRISE_EDIT, enterprise_id=cert_ent.id, applicant_id=other.id,
                       payload={"description": "别人的待审修改"})
    db.session.add(app_)
    db.session.commit()
    return other, ent, shop, cert_ent, cert_shop, app_


def test_other_merchants_objects_refused_and_unchanged(client, merchant):
    other, ent, shop, cert_ent, cert_shop, app_ = _other_merchants_objects()
    gets = [
        f"/merchant/enterprises/{ent.id}", f"/merchant/enterprises/{ent.id}/edit",
        f"/merchant/enterprises/{ent.id}/logo", f"/merchant/enterprises/{ent.id}/submit",
        f"/merchant/enterprises/{ent.id}/shops/new", f"/merchant/shops/{shop.id}/edit",
        f"/merchant/shops/{shop.id}/delete", f"/merchant/applications/{app_.id}",
        f"/merchant/enterprises/{cert_ent.id}", f"/merchant/shops/{cert_shop.id}/edit",
    ]
    for url in gets:
        resp = client.get(url)
        assert resp.status_code in (403, 404), url
        assert "别人的" not in text(resp)
    posts = [
        (f"/merchant/enterprises/{ent.id}/edit", ent_form(name="被篡改有限公司", uscc=ent.uscc)),
        (f"/merchant/enterprises/{cert_ent.id}/edit", ent_form(name="被篡改有限公司")),
        (f"/merchant/enterprises/{ent.id}/logo", {"logo": (io.BytesIO(png_bytes()), "x.png")}),
        (f"/merchant/enterprises/{ent.id}/submit", {}),
        (f"/merchant/enterprises/{ent.id}/shops/new", shop_form(url="https://sneaky.tmall.com/")),
        (f"/merchant/shops/{shop.id}/edit", shop_form(url="https://sneaky2.tmall.com/")),
        (f"/merchant/shops/{cert_shop.id}/edit", shop_form(url="https://sneaky3.tmall.com/")),
        (f"/merchant/shops/{shop.id}/delete", {}),
        (f"/merchant/shops/{cert_shop.id}/delete", {}),
        (f"/merchant/shops/{shop.id}/submit", {}),
        (f"/merchant/applications/{app_.id}/withdraw", {}),
    ]
    for url, data in posts:
        resp = client.post(url, data=data, content_type="multipart/form-data" if "logo" in data else None)
        assert resp.status_code in (403, 404), url
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).name == "别人的草稿有限公司"
    assert db.session.get(Enterprise, ent.id).status == Status.DRAFT
    assert db.session.get(Enterprise, ent.id).logo_sha256 is None
    assert db.session.get(Shop, shop.id).url == "https://others.tmall.com/"
    assert db.session.get(Shop, cert_shop.id).url == "https://others-cert.tmall.com/"
    assert db.session.get(Application, app_.id).status == AppStatus.PENDING
    assert db.session.scalar(select(db.func.count(Application.id))) == 1
    assert db.session.scalar(select(db.func.count(Shop.id))) == 2
    assert db.session.scalar(select(db.func.count(Image.sha256))) == 0


def test_unknown_ids_404(client, merchant):
    for url in ("/merchant/enterprises/999999", "/merchant/shops/999999/edit",
                "/merchant/applications/999999", "/merchant/claim/999999"):
        assert client.get(url).status_code == 404


def test_forms_without_csrf_token_refused(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    shop = f.make_shop(ent, status=Status.DRAFT)
    db.session.commit()
    cases = [
        ("/merchant/enterprises/new", ent_form(uscc=uscc(880099))),
        (f"/merchant/enterprises/{ent.id}/edit", ent_form(name="无令牌有限公司")),
        (f"/merchant/enterprises/{ent.id}/shops/new", shop_form(url="https://nocsrf.tmall.com/")),
        (f"/merchant/shops/{shop.id}/delete", {}),
        (f"/merchant/enterprises/{ent.id}/submit", {}),
    ]
    for url, data in cases:
        resp = client.post(url, data=data, csrf=False)
        assert resp.status_code == 400, url
        assert "CSRF" in text(resp)
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(Enterprise.id))) == 1
    assert db.session.get(Enterprise, ent.id).status == Status.DRAFT
    assert db.session.get(Shop, shop.id) is not None
    assert len(db.session.get(Enterprise, ent.id).shops) == 1


def test_extra_fields_are_ignored(client, merchant):
    resp = client.post("/merchant/enterprises/new", data=ent_form(
        status="certified", owner_id="999", featured="1", id="4242", role="admin", source="import"))
    assert resp.status_code == 302
    ent = db.session.scalars(select(Enterprise)).one()
    assert ent.status == Status.DRAFT and ent.owner_id == merchant.id and ent.id != 4242
    assert ent.source == "merchant"
    assert db.session.get(User, merchant.id).role == Role.MERCHANT
    shop_resp = client.post(f"/merchant/enterprises/{ent.id}/shops/new",
                            data=shop_form(status="certified", enterprise_id="1", click_count="99"))
    assert shop_resp.status_code == 302
    shop = db.session.scalars(select(Shop)).one()
    assert shop.status == Status.DRAFT and shop.click_count == 0 and shop.enterprise_id == ent.id


# --------------------------------------------------------------------------- forms and messages


@pytest.mark.parametrize("field, value, message", [
    ("uscc", uscc(880002)[:-1] + ("0" if uscc(880002)[-1] != "0" else "1"), "校验位"),
    ("uscc", "91440104MA5O00001X", "不允许的字符"),
    ("name", "广州\u202e司公限有", "方向控制"),
    ("name", "广州\x00公司", "空字符"),
    ("website", "javascript:alert(1)", "http"),
    ("founded_year", "1066", "成立年份"),
])
def test_enterprise_form_errors_shown_and_input_kept(client, merchant, field, value, message):
    resp = client.post("/merchant/enterprises/new", data=ent_form(**{field: value}))
    assert resp.status_code == 200
    body = text(resp)
    assert message in body
    assert 'value="广州岭南风食品有限公司"' in body or field == "name"
    assert db.session.scalar(select(Enterprise)) is None


def test_existing_uscc_hints(client, merchant):
    imported = f.make_enterprise(owner=None)
    owned = f.make_enterprise(owner=f.make_user(), status=Status.DRAFT, name="他人企业有限公司")
    db.session.commit()
    body = text(client.post("/merchant/enterprises/new", data=ent_form(uscc=imported.uscc)))
    assert "认领" in body
    body = text(client.post("/merchant/enterprises/new", data=ent_form(uscc=owned.uscc)))
    assert "联系工作人员" in body and "他人企业有限公司" not in body


def test_city_preselected_from_uscc(client, merchant):
    resp = client.post("/merchant/enterprises/new", data=ent_form(uscc=uscc(880003, area="440306"), name=""))
    body = text(resp)
    shenzhen = f.city("深圳")
    assert re.search(rf'<option value="{shenzhen.id}" data-code="440300" selected>', body)
    assert "建议选择：深圳市" in body
    assert "js/merchant.js" in body


def test_xss_stored_and_shown_escaped(client, merchant):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7}}'
    resp = client.post("/merchant/enterprises/new", data=ent_form(
        name="广州" + payload, brands="品牌<script>alert(1)</script>", description=payload))
    assert resp.status_code == 302, text(resp)
    ent = db.session.scalars(select(Enterprise)).one()
    assert ent.description == payload  # stored as typed
    client.post(f"/merchant/enterprises/{ent.id}/shops/new", data=shop_form(name="店" + payload))
    for url in ("/merchant/", f"/merchant/enterprises/{ent.id}", f"/merchant/enterprises/{ent.id}/edit"):
        body = text(client.get(url))
        assert "<script>alert(1)</script>" not in body
        assert "<img src=x onerror" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "{{7*7}}" in body and ">49<" not in body


def test_shop_url_rules_over_http(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    f.make_shop(f.make_enterprise(owner=None), url="https://taken.tmall.com/")
    db.session.commit()
    for url, message in [
        ("https://mall.jd.com/index-1.html", "不属于天猫"),
        ("javascript:alert(1)", "http"),
        ("data:text/html,x", "http"),
        ("https://taken.tmall.com/?spm=abc", "已被"),
    ]:
        resp = client.post(f"/merchant/enterprises/{ent.id}/shops/new", data=shop_form(url=url))
        assert resp.status_code == 200
        assert message in text(resp), url
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).shops == []


def test_logo_upload_rejects_non_images(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    db.session.commit()
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(b"<?php echo 1; ?>"), "evil.png")})
    assert resp.status_code == 200 and "图片" in text(resp)
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"/>'), "a.svg")})
    assert "SVG" in text(resp)
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", content_type="multipart/form-data", data={})
    assert "请选择" in text(resp)
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).logo_sha256 is None


def multipart_body(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body built by hand: werkzeug's test encoder leaves a temp file open for big files."""
    boundary = "----h4bboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="logo"; filename="{filename}"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_logo_over_5mb_refused(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    db.session.commit()
    big = png_bytes() + b"\0" * (5 * 1024 * 1024 + 10)
    body, content_type = multipart_body({"csrf_token": client.csrf_token()}, "big.png", big)
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", data=body, content_type=content_type,
                       csrf=False)
    assert resp.status_code == 200 and "5 MB" in text(resp)
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).logo_sha256 is None


def test_huge_body_is_413(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    db.session.commit()
    body = b"\0" * (20 * 1024 * 1024)
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", data=body, csrf=False,
                       content_type="multipart/form-data; boundary=xyz")
    assert resp.status_code == 413
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).logo_sha256 is None


def test_certified_logo_goes_to_review(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    db.session.commit()
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(png_bytes()), "logo.png")})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).logo_sha256 is None
    app_ = db.session.scalars(select(Application)).one()
    assert app_.kind == AppKind.ENTERPRISE_EDIT and len(app_.payload["logo_sha256"]) == 64
    assert db.session.get(Image, app_.payload["logo_sha256"]) is not None


# --------------------------------------------------------------------------- the status contract


def _approve_shop_edit(app_id: int) -> None:
    """What staff approval does per the status contract (applied directly in the test)."""
    app_ = db.session.get(Application, app_id)
    res = db.session.execute(update(Application).where(Application.id == app_id,
                                                       Application.status == AppStatus.PENDING)
                             .values(status=AppStatus.APPROVED, decided_at=utc_now()))
    assert res.rowcount == 1
    shop = db.session.get(Shop, app_.shop_id)
    for key, value in app_.payload.items():
        setattr(shop, key, value)
    db.session.commit()


def test_pending_shop_url_edit_not_public_until_approved(app, client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED, brands=["岭南风"])
    shop = f.make_shop(ent, url="https://approved.tmall.com/")
    db.session.commit()
    resp = client.post(f"/merchant/shops/{shop.id}/edit",
                       data=shop_form(url="https://changed.tmall.com/", name=shop.name))
    assert resp.status_code == 302
    dash = text(client.get("/merchant/"))
    assert "https://changed.tmall.com/" in dash and "待审核的修改" in dash
    # Consumers (a fresh, anonymous client) still see and follow the approved URL.
    public = app.test_client()
    page = public.get(f"/enterprises/{ent.id}")
    assert page.status_code == 200
    assert "changed.tmall.com" not in text(page)
    go = public.get(f"/go/{shop.id}")
    assert go.status_code == 302 and go.headers["Location"] == "https://approved.tmall.com/"
    app_ = db.session.scalars(select(Application).where(Application.kind == AppKind.SHOP_EDIT)).one()
    _approve_shop_edit(app_.id)
    assert public.get(f"/go/{shop.id}").headers["Location"] == "https://changed.tmall.com/"


def test_certified_enterprise_edit_leaves_live_row(app, client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED, name="广州已认证食品有限公司",
                            brands=["老字号"], description="原来的简介")
    db.session.commit()
    form = text(client.get(f"/merchant/enterprises/{ent.id}/edit"))
    assert "提交修改审核" in form
    resp = client.post(f"/merchant/enterprises/{ent.id}/edit", data=ent_form(
        name="广州已认证食品有限公司", brands="老字号", city_id=str(ent.city_id),
        industry_ids=[str(i.id) for i in ent.industries], description="全新的简介内容", website="",
        founded_year=""))
    assert resp.status_code == 302
    db.session.expire_all()
    live = db.session.get(Enterprise, ent.id)
    assert live.description == "原来的简介" and live.status == Status.CERTIFIED
    app_ = db.session.scalars(select(Application)).one()
    assert app_.payload == {"description": "全新的简介内容"}
    page = text(app.test_client().get(f"/enterprises/{ent.id}"))
    assert "原来的简介" in page and "全新的简介内容" not in page
    dash = text(client.get("/merchant/"))
    assert "全新的简介内容" in dash and "原来的简介" in dash and "待审核的企业信息变更" in dash
    # The edit form shows the pending values so the merchant keeps editing what they asked for.
    assert "全新的简介内容" in text(client.get(f"/merchant/enterprises/{ent.id}/edit"))


def test_delete_needs_confirmation_and_is_post_only(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    shop = f.make_shop(ent, status=Status.DRAFT)
    db.session.commit()
    resp = client.get(f"/merchant/shops/{shop.id}/delete")
    assert resp.status_code == 200 and "确认删除" in text(resp)
    db.session.expire_all()
    assert db.session.get(Shop, shop.id) is not None
    resp = client.post(f"/merchant/shops/{shop.id}/delete")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Shop, shop.id) is None


def test_withdraw_over_http(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT)
    f.make_shop(ent, status=Status.DRAFT)
    db.session.commit()
    f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/submit")
    app_ = db.session.scalars(select(Application)).one()
    page = text(client.get(f"/merchant/applications/{app_.id}"))
    assert "撤回申请" in page and "第 <strong class=\"queue-position\">1</strong> 位" in page
    assert client.get(f"/merchant/applications/{app_.id}/withdraw").status_code == 405
    resp = client.post(f"/merchant/applications/{app_.id}/withdraw")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app_.id).status == AppStatus.WITHDRAWN
    assert db.session.get(Enterprise, ent.id).status == Status.DRAFT


def test_rejection_reason_and_history_shown(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.REJECTED)
    ent.status_reason = "营业执照信息与名称不符"
    f.make_shop(ent, status=Status.REJECTED)
    db.session.add(Application(kind=AppKind.ENTERPRISE, enterprise_id=ent.id, applicant_id=merchant.id,
                               status=AppStatus.REJECTED, decided_at=utc_now(), reason="营业执照信息与名称不符"))
    db.session.commit()
    body = text(client.get("/merchant/"))
    assert "未通过" in body and "营业执照信息与名称不符" in body and "企业认证" in body
    assert "提交认证申请" in body


def test_claim_over_http(client, merchant):
    imported = f.make_enterprise(owner=None, name="潮州凤凰单丛茶业有限公司")
    owned = f.make_enterprise(owner=f.make_user(), name="潮州别人家茶业有限公司")
    db.session.commit()
    body = text(client.get("/merchant/claim?q=潮州"))
    assert "潮州凤凰单丛茶业有限公司" in body and "潮州别人家茶业有限公司" not in body
    assert client.get(f"/merchant/claim/{owned.id}").status_code == 404
    resp = f.post_with_evidence(client, f"/merchant/claim/{imported.id}", {"note": "我是总经理，电话 123"})
    assert resp.status_code == 303
    app_ = db.session.scalars(select(Application)).one()
    assert app_.kind == AppKind.CLAIM and app_.applicant_id == merchant.id
    db.session.expire_all()
    assert db.session.get(Enterprise, imported.id).owner_id is None
    dash = text(client.get("/merchant/"))
    assert "认领申请" in dash and "潮州凤凰单丛茶业有限公司" in dash
    assert client.get("/merchant/claim?q=" + "（" * 200).status_code == 200
    from marketplace.services import review

    review.approve(app_.id, f.make_user(role=Role.STAFF), shop_checks=_codes(app_))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Enterprise, imported.id).owner_id == merchant.id
    assert client.get(f"/merchant/enterprises/{imported.id}").status_code == 200
    assert "潮州凤凰单丛茶业有限公司" in text(client.get("/merchant/"))


def test_dashboard_clicks_chart_and_complaints(client, merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    shop = f.make_shop(ent, name="点击测试旗舰店")
    for _ in range(3):
        db.session.add(ClickEvent(shop_id=shop.id, at=utc_now()))
    other_ent = f.make_enterprise(owner=f.make_user())
    db.session.add(Complaint(reference="TS-0001", enterprise_id=ent.id, shop_id=shop.id, kind="假冒伪劣",
                             description="疑似假货"))
    db.session.add(Complaint(reference="TS-0002", enterprise_id=other_ent.id, kind="其他",
                             description="别人的投诉"))
    db.session.commit()
    body = text(client.get("/merchant/"))
    assert "近 30 天点击 <strong>3</strong> 次" in body
    assert body.count('<svg class="click-chart"') == 1 and body.count("<rect ") == 30
    assert "TS-0001" in body and "TS-0002" not in body
    mine = db.session.scalars(select(Complaint).where(Complaint.reference == "TS-0001")).one()
    if "complaints.merchant_view" in client.application.view_functions:  # H5's complaint pages
        assert f'href="/merchant/complaints/{mine.id}"' in body


# --------------------------------------------------------------------------- the journey


def test_http_journey_from_fresh_database(client, auth):
    resp = auth.register("shop-owner@example.com", "a-long-secret-pass")
    assert resp.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "shop-owner@example.com")).one()
    if client.get("/merchant/").status_code != 200:  # registration may not log in by itself
        assert auth.login("shop-owner@example.com", "a-long-secret-pass").status_code == 302
    assert client.get("/merchant/").status_code == 200
    new_page = client.get("/merchant/enterprises/new")
    assert new_page.status_code == 200 and "统一社会信用代码" in text(new_page)
    resp = client.post("/merchant/enterprises/new", data=ent_form(uscc=" " + uscc(880010).lower()))
    assert resp.status_code == 302
    ent = db.session.scalars(select(Enterprise).where(Enterprise.owner_id == user.id)).one()
    assert ent.city.name == "广州"  # suggested from 440104
    resp = client.post(f"/merchant/enterprises/{ent.id}/logo", content_type="multipart/form-data",
                       data={"logo": (io.BytesIO(png_bytes((800, 600))), "我的标志.png")})
    assert resp.status_code == 302
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    image = db.session.get(Image, ent.logo_sha256)
    assert image is not None and max(image.width, image.height) <= 512
    for form in (shop_form(url="https://lnf.tmall.com/"),
                 shop_form("jd", url="https://mall.jd.com/index-1000.html", name="岭南风京东自营",
                           shop_type=ShopType.EXCLUSIVE)):
        assert client.post(f"/merchant/enterprises/{ent.id}/shops/new", data=form).status_code == 302
    assert len(db.session.get(Enterprise, ent.id).shops) == 2
    confirm = client.get(f"/merchant/enterprises/{ent.id}/submit")
    assert "确认提交" in text(confirm)
    resp = f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/submit", follow_redirects=True)
    assert resp.status_code == 200 and "第 1 位" in text(resp)
    db.session.expire_all()
    app_ = db.session.scalars(select(Application)).one()
    assert app_.kind == AppKind.ENTERPRISE and app_.status == AppStatus.PENDING
    assert db.session.get(Enterprise, ent.id).status == Status.PENDING
    assert {s.status for s in db.session.get(Enterprise, ent.id).shops} == {Status.PENDING}
    dash = text(client.get("/merchant/"))
    assert "审核中" in dash and '<strong class="queue-position">1</strong>' in dash
    assert f"/media/{ent.logo_sha256}" in dash
    # Until approved, the public page is not there for consumers.
    anon = client.application.test_client()
    assert anon.get(f"/enterprises/{ent.id}").status_code == 404


def test_review_round_trip_with_staff_service(client, merchant):
    """Reject → merchant sees the reason, fixes and resubmits → approve → certified, public."""
    from marketplace.services import review

    staff = f.make_user(role=Role.STAFF)
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, brands=["回程测试"])
    shop = f.make_shop(ent, status=Status.DRAFT, url="https://roundtrip.tmall.com/")
    db.session.commit()
    f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/submit")
    first = db.session.scalars(select(Application)).one()
    review.reject(first.id, staff, "简介需写明主营产品")
    db.session.commit()
    dash = text(client.get("/merchant/"))
    assert "未通过" in dash and "简介需写明主营产品" in dash
    form = ent_form(name=ent.name, uscc=ent.uscc, brands="回程测试", city_id=str(ent.city_id),
                    description="主营广式糕点。")
    assert client.post(f"/merchant/enterprises/{ent.id}/edit", data=form).status_code == 302
    assert f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/submit").status_code == 303
    second = db.session.scalars(select(Application).where(Application.status == AppStatus.PENDING)).one()
    review.approve(second.id, staff, shop_checks=_codes(second))
    db.session.commit()
    db.session.expire_all()
    assert "公示中" in text(client.get("/merchant/"))  # a first certification goes on 公示 first
    f.end_gongshi()
    db.session.expire_all()
    dash = text(client.get("/merchant/"))
    assert "已认证" in dash and "GDWS-" in dash
    assert db.session.get(Shop, shop.id).status == Status.CERTIFIED
    anon = client.application.test_client()
    assert anon.get(f"/go/{shop.id}").headers["Location"] == "https://roundtrip.tmall.com/"
    # A certified shop's URL change goes live only when staff approve it.
    client.post(f"/merchant/shops/{shop.id}/edit",
                data=shop_form(url="https://roundtrip2.tmall.com/", name=shop.name))
    assert anon.get(f"/go/{shop.id}").headers["Location"] == "https://roundtrip.tmall.com/"
    edit = db.session.scalars(select(Application).where(Application.kind == AppKind.SHOP_EDIT)).one()
    review.approve(edit.id, staff, shop_checks=_codes(edit))
    db.session.commit()
    assert anon.get(f"/go/{shop.id}").headers["Location"] == "https://roundtrip2.tmall.com/"
