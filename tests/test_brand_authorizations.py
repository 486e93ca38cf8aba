"""Brand authorizations (issue 13 §3): the brand owner grants and withdraws, the distributor links
its 专卖店 / 专营店 or uploads a letter staff check, consumers read the authorization on the
enterprise page, the platform's shop list and /verify, and a withdrawn or expired authorization
suspends the shops that depend on it, with a mail to both sides."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import (
    AuditLog, BrandAuthorization, CertificationEvent, Image, Role, Shop, ShopAuthorization, ShopType,
)
from marketplace.services.mail import read_outbox
from tests.factories import make_enterprise, make_shop, make_user, platform

PRIVATE = "private, no-store"


@pytest.fixture
def world(app):
    """A brand owner (慈海, certified) and a distributor with a certified tmall 专卖店 and a jd 旗舰店."""
    owner = make_user(email="brand@example.com")
    brand_ent = make_enterprise("潮州慈海陶瓷有限公司", brands=["慈海"], owner=owner)
    make_shop(brand_ent, url="https://cihai.tmall.com/", name="慈海旗舰店")
    dealer = make_user(email="dealer@example.com")
    dealer_ent = make_enterprise("广州粤联商贸有限公司", brands=["粤联"], owner=dealer)
    exclusive = make_shop(dealer_ent, url="https://yuelian-cihai.tmall.com/", name="慈海粤联专卖店",
                          shop_type=ShopType.EXCLUSIVE)
    flagship = make_shop(dealer_ent, platform_slug="jd", url="https://mall.jd.com/index-1000777.html",
                         name="粤联京东旗舰店")
    staff = make_user(Role.STAFF, email="staff@example.com")
    db.session.commit()
    return {"owner": owner, "brand_ent": brand_ent, "dealer": dealer, "dealer_ent": dealer_ent,
            "exclusive": exclusive, "flagship": flagship, "staff": staff}


def _grant_form(world, **changes) -> dict:
    today = clock.china_today()
    data = {"brand_id": world["brand_ent"].brands[0].id, "distributor_uscc": world["dealer_ent"].uscc,
            "platform_ids": [platform("tmall").id], "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat()}
    data.update(changes)
    return data


def _grant(client, login_as, world, **changes) -> BrandAuthorization:
    login_as(world["owner"])
    resp = client.post("/merchant/authorizations/new", data=_grant_form(world, **changes))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return db.session.scalars(select(BrandAuthorization).order_by(BrandAuthorization.id.desc())).first()


def _link(client, login_as, world, auth, shops) -> None:
    login_as(world["dealer"])
    resp = client.post(f"/merchant/authorizations/{auth.id}/shops", data={"shop_ids": [s.id for s in shops]})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def _png(size=(600, 800), color=(250, 250, 245)) -> bytes:
    im = PILImage.new("RGB", size, color)
    for x in range(50, 550):
        im.putpixel((x, 100), (200, 0, 0))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _expected_line(auth) -> str:
    return f"「慈海」品牌授权专卖店，授权方：潮州慈海陶瓷有限公司，有效期至 {auth.valid_until:%Y-%m-%d}"


# --------------------------------------------------------------------------- granting and showing

def test_owner_grants_distributor_links_and_consumers_see_the_authorization(app, client, login_as, world):
    auth = _grant(client, login_as, world)
    assert auth.status == "active" and auth.source == "grant" and auth.brand_name == "慈海"
    assert auth.grantor_uscc == world["brand_ent"].uscc and [p.slug for p in auth.platforms] == ["tmall"]
    assert "您获得了「慈海」品牌授权" in read_outbox()[-1]["Subject"]
    assert read_outbox()[-1]["To"] == "dealer@example.com"

    login_as(world["dealer"])
    page = client.get("/merchant/authorizations").get_data(as_text=True)
    assert "我获得的授权" in page and "「慈海」" in page and "潮州慈海陶瓷有限公司" in page
    form = client.get(f"/merchant/authorizations/{auth.id}/shops").get_data(as_text=True)
    assert "慈海粤联专卖店" in form and "粤联京东旗舰店" not in form  # only 专卖店/专营店 on the platforms
    _link(client, login_as, world, auth, [world["exclusive"]])

    anonymous = app.test_client()
    line = _expected_line(auth)
    assert line in anonymous.get(f"/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)
    assert line in anonymous.get("/platforms/tmall").get_data(as_text=True)
    verify_page = anonymous.get("/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"}).get_data(as_text=True)
    assert "认证有效" in verify_page and line in verify_page
    answer = anonymous.get("/api/v1/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"}).get_json()
    assert answer["result"] == "certified"
    assert answer["authorizations"] == [{"brand": "慈海", "grantor": "潮州慈海陶瓷有限公司",
                                         "valid_from": auth.valid_from.isoformat(),
                                         "valid_until": auth.valid_until.isoformat(), "text": line}]
    owner_page = anonymous.get(f"/enterprises/{world['brand_ent'].id}").get_data(as_text=True)
    assert "品牌授权网店" in owner_page and "慈海粤联专卖店" in owner_page


def test_an_authorization_not_yet_in_effect_is_not_shown(app, client, login_as, world):
    start = clock.china_today() + timedelta(days=10)
    auth = _grant(client, login_as, world, valid_from=start.isoformat())
    _link(client, login_as, world, auth, [world["exclusive"]])
    page = app.test_client().get(f"/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)
    assert "品牌授权专卖店" not in page
    answer = app.test_client().get("/api/v1/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"}).get_json()
    assert answer["authorizations"] == []


@pytest.mark.parametrize("changes, field_message", [
    ({"distributor_uscc": "91440101123456789X"}, "统一社会信用代码"),
    ({"distributor_uscc": "SELF"}, "不能是同一家企业"),
    ({"platform_ids": []}, "请选择授权的电商平台"),
    ({"valid_until": "2000-01-01"}, "截止日期不能早于今天"),
    ({"valid_until": "明年"}, "请按“年-月-日”填写日期"),
    ({"valid_from": ""}, "请填写授权开始日期"),
    ({"valid_from": "2099-01-01"}, "截止日期不能早于开始日期"),
    ({"valid_until": "2099-01-01"}, "授权期限最长 10 年"),
    ({"brand_id": "OTHER"}, "请选择您管理的企业的品牌"),
])
def test_grant_refuses_bad_input_in_chinese_and_stores_nothing(client, login_as, world, changes, field_message):
    if changes.get("distributor_uscc") == "SELF":
        changes["distributor_uscc"] = world["brand_ent"].uscc
    if changes.get("brand_id") == "OTHER":
        changes["brand_id"] = world["dealer_ent"].brands[0].id
    login_as(world["owner"])
    resp = client.post("/merchant/authorizations/new", data=_grant_form(world, **changes))
    assert resp.status_code == 200
    assert field_message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BrandAuthorization)) == 0


def test_only_a_certified_enterprise_grants_and_duplicates_are_refused(client, login_as, world):
    _grant(client, login_as, world)
    resp = client.post("/merchant/authorizations/new", data=_grant_form(world))
    assert "已有「慈海」品牌在天猫的有效或待核验授权" in resp.get_data(as_text=True)
    draft_owner = make_user()
    draft = make_enterprise(brands=["草稿牌"], owner=draft_owner, status="draft")
    db.session.commit()
    login_as(draft_owner)
    assert "还没有授予过品牌授权" in client.get("/merchant/authorizations").get_data(as_text=True)
    resp = client.post("/merchant/authorizations/new", data=_grant_form(world, brand_id=draft.brands[0].id))
    assert "企业通过认证后才能授予品牌授权" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BrandAuthorization)) == 1


def test_link_shops_only_own_dependent_shops_on_the_platforms(client, login_as, world):
    auth = _grant(client, login_as, world)
    login_as(world["dealer"])
    resp = client.post(f"/merchant/authorizations/{auth.id}/shops", data={"shop_ids": [world["flagship"].id]})
    assert resp.status_code == 302
    assert "只能关联本企业在授权平台上的专卖店或专营店" in client.get("/merchant/authorizations/%d/shops" % auth.id).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ShopAuthorization)) == 0
    stranger = make_user()
    db.session.commit()
    login_as(stranger)
    assert client.get(f"/merchant/authorizations/{auth.id}/shops").status_code == 404
    assert client.post(f"/merchant/authorizations/{auth.id}/shops",
                       data={"shop_ids": [world["exclusive"].id]}).status_code == 404
    login_as(world["owner"])  # the brand owner is not the distributor
    assert client.get(f"/merchant/authorizations/{auth.id}/shops").status_code == 404


# --------------------------------------------------------------------------- withdrawal and expiry

def test_withdrawal_suspends_dependent_shops_and_mails_both_sides(app, client, login_as, world):
    auth = _grant(client, login_as, world)
    _link(client, login_as, world, auth, [world["exclusive"]])
    login_as(world["dealer"])
    assert client.get(f"/merchant/authorizations/{auth.id}/withdraw").status_code == 404  # not the brand owner
    login_as(world["owner"])
    page = client.get(f"/merchant/authorizations/{auth.id}/withdraw").get_data(as_text=True)
    assert "慈海粤联专卖店" in page and "立即暂停展示" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    resp = client.post(f"/merchant/authorizations/{auth.id}/withdraw", data={"reason": "", "version": version})
    assert "请填写撤回理由" in resp.get_data(as_text=True)
    outbox_before = len(read_outbox())
    resp = client.post(f"/merchant/authorizations/{auth.id}/withdraw",
                       data={"reason": "合作已终止", "version": version})
    assert resp.status_code == 302
    db.session.expire_all()
    shop = db.session.get(Shop, world["exclusive"].id)
    assert shop.status == "suspended" and "「慈海」品牌授权已被授权方撤回：合作已终止" in shop.status_reason
    assert db.session.get(Shop, world["flagship"].id).status == "certified"
    assert db.session.get(BrandAuthorization, auth.id).status == "withdrawn"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "shop.suspended"))
    assert entry.after["cause"] == "authorization" and entry.actor_id == world["owner"].id
    mails = read_outbox()[outbox_before:]
    assert sorted(m["To"] for m in mails) == ["brand@example.com", "dealer@example.com"]
    assert all("品牌授权已撤回" in m["Subject"] for m in mails)
    assert "慈海粤联专卖店" in next(m for m in mails if m["To"] == "dealer@example.com").get_content()
    anonymous = app.test_client()
    assert anonymous.get(f"/go/{shop.id}").status_code == 404
    assert "品牌授权专卖店" not in anonymous.get(f"/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)
    event = db.session.scalars(select(CertificationEvent).order_by(CertificationEvent.id.desc())).first()
    assert event.type == "authorization_withdrawn" and event.shop_id == shop.id
    resp = client.post(f"/merchant/authorizations/{auth.id}/withdraw", data={"reason": "再次", "version": version})
    assert resp.status_code == 200  # already withdrawn: refused, nothing changes


def test_staff_cannot_reinstate_until_the_shop_is_unlinked_or_relinked(client, login_as, world):
    auth = _grant(client, login_as, world)
    _link(client, login_as, world, auth, [world["exclusive"]])
    login_as(world["owner"])
    client.post(f"/merchant/authorizations/{auth.id}/withdraw", data={"reason": "合作终止"})
    shop_id = world["exclusive"].id
    login_as(world["staff"])
    resp = client.post(f"/staff/shops/{shop_id}/reinstate", data={"note": ""}, follow_redirects=True)
    assert "品牌授权已撤回" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shop, shop_id).status == "suspended"
    login_as(world["dealer"])
    resp = client.post(f"/merchant/authorizations/{auth.id}/shops", data={"shop_ids": [shop_id]})
    assert resp.status_code == 302  # keeping the link on an ended authorization is allowed
    login_as(world["dealer"])
    assert client.post(f"/merchant/authorizations/{auth.id}/shops", data={}).status_code == 302
    login_as(world["staff"])
    client.post(f"/staff/shops/{shop_id}/reinstate", data={"note": "改为只售自有品牌"})
    db.session.expire_all()
    assert db.session.get(Shop, shop_id).status == "certified"


def test_expiry_job_suspends_dependent_shops_once_and_warns_thirty_days_ahead(app, client, login_as, runner, world):
    today = clock.china_today()
    auth = _grant(client, login_as, world, valid_until=(today + timedelta(days=40)).isoformat())
    _link(client, login_as, world, auth, [world["exclusive"]])
    base = len(read_outbox())
    with clock.frozen(datetime.combine(today + timedelta(days=15), datetime.min.time()) + timedelta(hours=2)):
        out = runner.invoke(args=["dynamic-management"]).output
        assert "到期提醒 1 项" in out
        assert "到期提醒 0 项" in runner.invoke(args=["dynamic-management"]).output  # once
    warned = read_outbox()[base:]
    assert sorted(m["To"] for m in warned) == ["brand@example.com", "dealer@example.com"]
    with clock.frozen(datetime.combine(today + timedelta(days=41), datetime.min.time()) + timedelta(hours=2)):
        out = runner.invoke(args=["dynamic-management"]).output
        assert "到期 1 项（暂停店铺 1 家）" in out
        assert "到期 0 项（暂停店铺 0 家）" in runner.invoke(args=["dynamic-management"]).output
    db.session.expire_all()
    shop = db.session.get(Shop, world["exclusive"].id)
    assert shop.status == "suspended" and "到期" in shop.status_reason
    assert db.session.get(BrandAuthorization, auth.id).status == "expired"
    expired_mails = read_outbox()[base + 2:]
    assert sorted(m["To"] for m in expired_mails) == ["brand@example.com", "dealer@example.com"]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "authorization.expire")) == 1
    event = db.session.scalars(select(CertificationEvent).order_by(CertificationEvent.id.desc())).first()
    assert event.type == "authorization_withdrawn"


def test_staff_withdraw_an_authorization(client, login_as, world):
    auth = _grant(client, login_as, world)
    _link(client, login_as, world, auth, [world["exclusive"]])
    login_as(world["staff"])
    page = client.get(f"/staff/authorizations/{auth.id}").get_data(as_text=True)
    assert "撤回授权" in page and "慈海粤联专卖店" in page
    resp = client.post(f"/staff/authorizations/{auth.id}/withdraw", data={"reason": "品牌方反映授权不实"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(BrandAuthorization, auth.id).status == "withdrawn"
    assert "被工作人员撤回" in db.session.get(Shop, world["exclusive"].id).status_reason


# --------------------------------------------------------------------------- letters

def _upload(client, world, data=None, **changes):
    today = clock.china_today()
    form = {"enterprise_id": world["dealer_ent"].id, "brand_name": "慈海", "grantor_name": "潮州慈海陶瓷有限公司",
            "grantor_uscc": world["brand_ent"].uscc, "platform_ids": [platform("tmall").id],
            "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=200)).isoformat(),
            "letter": (io.BytesIO(data if data is not None else _png()), "授权书.png")}
    form.update(changes)
    return client.post("/merchant/authorizations/letter", data=form, content_type="multipart/form-data")


def test_letter_upload_is_pending_until_staff_check_it(app, client, login_as, world):
    login_as(world["dealer"])
    assert _upload(client, world).status_code == 302
    auth = db.session.scalar(select(BrandAuthorization))
    assert auth.status == "pending" and auth.source == "letter" and auth.letter_mime == "image/jpeg"
    assert auth.distributor_uscc == world["dealer_ent"].uscc
    assert db.session.scalar(select(func.count()).select_from(Image)) == 0  # never in the public image table
    letter = PILImage.open(io.BytesIO(auth.letter_data))
    assert letter.size == (600, 800) and not letter.info.get("exif")  # re-encoded, legible, no metadata
    _link(client, login_as, world, auth, [world["exclusive"]])
    assert "品牌授权专卖店" not in app.test_client().get(f"/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)

    login_as(world["owner"])  # the brand owner named on the letter sees it (and could withdraw it)
    assert "授权书（工作人员核验）" in client.get("/merchant/authorizations").get_data(as_text=True)

    login_as(world["staff"])
    queue = client.get("/staff/authorizations").get_data(as_text=True)
    assert f"#{auth.id}" in queue
    page = client.get(f"/staff/authorizations/{auth.id}").get_data(as_text=True)
    assert f"/staff/authorizations/{auth.id}/letter" in page and "gsxt.gov.cn" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    resp = client.post(f"/staff/authorizations/{auth.id}/decide", data={"decision": "reject", "reason": "",
                                                                       "version": version}, follow_redirects=True)
    assert "请填写不通过的理由" in resp.get_data(as_text=True)
    client.post(f"/staff/authorizations/{auth.id}/decide", data={"decision": "approve", "version": version})
    db.session.expire_all()
    assert db.session.get(BrandAuthorization, auth.id).status == "active"
    assert "已通过核验" in read_outbox()[-1]["Subject"] and read_outbox()[-1]["To"] == "dealer@example.com"
    assert _expected_line(auth) in app.test_client().get(f"/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)
    resp = client.post(f"/staff/authorizations/{auth.id}/decide", data={"decision": "reject", "reason": "晚了",
                                                                       "version": version}, follow_redirects=True)
    assert "刚被修改" in resp.get_data(as_text=True) or "已处理" in resp.get_data(as_text=True)


def test_pdf_letter_is_kept_cleaned_shown_to_staff_as_pages_and_only_downloaded(app, client, login_as, world):
    from tests.test_evidence import make_pdf

    login_as(world["dealer"])
    assert _upload(client, world, data=make_pdf(pages=2, author="LetterSecretAuthor")).status_code == 302
    auth = db.session.scalar(select(BrandAuthorization))
    assert auth.letter_mime == "application/pdf" and b"LetterSecretAuthor" not in auth.letter_data
    own = client.get(f"/merchant/authorizations/{auth.id}/letter")
    assert own.headers["Content-Disposition"].startswith("attachment;") and own.headers["Cache-Control"] == "private, no-store"
    staff = make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/authorizations/{auth.id}").get_data(as_text=True)
    assert f"/staff/authorizations/{auth.id}/letter/pages/2" in page and "下载 PDF 原件" in page
    rendered = client.get(f"/staff/authorizations/{auth.id}/letter/pages/2")
    assert rendered.status_code == 200 and rendered.mimetype == "image/jpeg"
    assert rendered.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/staff/authorizations/{auth.id}/letter/pages/3").status_code == 404
    assert client.get(f"/staff/authorizations/{auth.id}/letter").headers["Content-Disposition"].startswith("attachment;")
    for who in (None, world["owner"]):  # anonymous, and the brand owner (not the uploader)
        other = app.test_client()
        if who is not None:
            login_as(who, other)
        resp = other.get(f"/staff/authorizations/{auth.id}/letter/pages/1")
        assert resp.status_code in (302, 403) and resp.mimetype != "image/jpeg"


@pytest.mark.parametrize("kind", ["js", "encrypted", "embedded", "pages"])
def test_unsafe_pdf_letter_is_refused_and_nothing_stored(client, login_as, world, kind):
    from tests.test_evidence import make_pdf

    data = {"js": make_pdf(js="openaction"), "encrypted": make_pdf(encrypt="user"),
            "embedded": make_pdf(embed=True), "pages": make_pdf(pages=6)}[kind]
    login_as(world["dealer"])
    resp = _upload(client, world, data=data)
    assert resp.status_code == 200
    assert any(m in resp.get_data(as_text=True) for m in ("脚本", "加密", "内嵌", "最多 5 页"))
    assert db.session.scalar(select(func.count()).select_from(BrandAuthorization)) == 0


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7\n...", "PDF 文件已损坏"),
    (b"not an image at all", "无法识别的图片文件"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "不支持 SVG"),
])
def test_letter_refused_with_a_chinese_message_and_nothing_stored(client, login_as, world, data, message):
    login_as(world["dealer"])
    resp = _upload(client, world, data=data)
    assert resp.status_code == 200 and message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BrandAuthorization)) == 0


def test_letter_form_fields_are_checked(client, login_as, world):
    login_as(world["dealer"])
    resp = _upload(client, world, brand_name="", grantor_uscc=world["dealer_ent"].uscc)
    text = resp.get_data(as_text=True)
    assert "请填写授权品牌" in text and "不能是同一家企业" in text
    other = make_enterprise(owner=make_user())
    db.session.commit()
    resp = _upload(client, world, enterprise_id=other.id)
    assert "请选择您管理的企业" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BrandAuthorization)) == 0


def test_every_route_that_serves_a_letter_is_private(app, client, login_as, world):
    login_as(world["dealer"])
    _upload(client, world)
    auth = db.session.scalar(select(BrandAuthorization))
    merchant_url, staff_url = f"/merchant/authorizations/{auth.id}/letter", f"/staff/authorizations/{auth.id}/letter"
    # the distributor's owner
    resp = client.get(merchant_url)
    assert resp.status_code == 200 and resp.data == auth.letter_data
    assert resp.headers["Cache-Control"] == PRIVATE and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(staff_url).status_code == 403
    # staff
    login_as(world["staff"])
    resp = client.get(staff_url)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == PRIVATE and resp.data == auth.letter_data
    assert client.get(merchant_url).status_code == 403  # the merchant area is for merchants
    # the brand owner, another merchant: as if it did not exist
    for user in (world["owner"], make_user()):
        db.session.commit()
        login_as(user)
        assert client.get(merchant_url).status_code == 404
        assert client.get(staff_url).status_code == 403
    # anonymous visitors
    anonymous = app.test_client()
    for url in (merchant_url, staff_url):
        resp = anonymous.get(url)
        assert resp.status_code in (302, 401) and auth.letter_data not in resp.data
    assert anonymous.get(f"/media/{auth.letter_sha256}").status_code == 404
    # nothing public mentions it
    for url in ("/api/v1/certified-shops", f"/enterprises/{world['dealer_ent'].id}", "/sitemap.xml",
                "/api/v1/verify?url=https://yuelian-cihai.tmall.com/", "/feeds/new.atom"):
        body = anonymous.get(url).get_data(as_text=True)
        assert auth.letter_sha256 not in body and f"/authorizations/{auth.id}/letter" not in body
    # a missing or unknown letter
    login_as(world["staff"])
    assert client.get("/staff/authorizations/999999/letter").status_code == 404


def test_demo_data_brings_authorizations_to_look_at(app):
    from marketplace.services.demo import load_demo_data

    assert load_demo_data()["authorizations"] == 3
    db.session.commit()
    rows = {(a.brand_name, a.source, a.status) for a in db.session.scalars(select(BrandAuthorization))}
    assert rows == {("岭苑", "grant", "active"), ("芊田记", "letter", "active"), ("芊庐", "letter", "pending")}
    dealer = db.session.scalar(select(Shop).where(Shop.url == "https://lingyuanyuelian.tmall.com/"))
    page = app.test_client().get(f"/enterprises/{dealer.enterprise_id}").get_data(as_text=True)
    assert "「岭苑」品牌授权专卖店，授权方：广州市霖嘉时装有限公司" in page
    assert load_demo_data()["authorizations"] == 0  # idempotent


def test_a_suspended_shop_shows_no_authorization(app, client, login_as, world):
    auth = _grant(client, login_as, world)
    _link(client, login_as, world, auth, [world["exclusive"]])
    login_as(world["staff"])
    client.post(f"/staff/shops/{world['exclusive'].id}/status", data={"action": "suspended", "reason": "核查中"})
    anonymous = app.test_client()
    page = anonymous.get("/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"}).get_data(as_text=True)
    assert "认证已暂停" in page and "品牌授权专卖店" not in page
    answer = anonymous.get("/api/v1/verify", query_string={"url": "https://yuelian-cihai.tmall.com/"}).get_json()
    assert answer["result"] == "suspended" and answer["authorizations"] == []


def test_staff_see_an_enterprise_s_authorizations_and_the_review_page_checks_them(client, login_as, world):
    from tests.factories import make_application

    auth = _grant(client, login_as, world)
    _link(client, login_as, world, auth, [world["exclusive"]])
    unlinked = make_shop(world["dealer_ent"], platform_slug="jd", url="https://mall.jd.com/index-1000888.html",
                         name="粤联京东专营店", shop_type=ShopType.FRANCHISE, status="pending")
    app_row = make_application(world["dealer_ent"], "shop", shop=unlinked)
    db.session.commit()
    login_as(world["staff"])
    page = client.get(f"/staff/enterprises/{world['dealer_ent'].id}").get_data(as_text=True)
    assert f"#{auth.id}「慈海」" in page and "关联 1 家店铺" in page
    review = client.get(f"/staff/review/{app_row.id}").get_data(as_text=True)
    assert "品牌授权（专卖店、专营店）" in review
    assert "「慈海」授权方 潮州慈海陶瓷有限公司" in review and "未关联品牌授权" in review
