"""Evidence with every application (issue 13 §1) and proof of shop control (§2).

PDF licences are checked (size, pages, encryption, JavaScript, embedded files), cleaned of
metadata and rendered for staff; images go through the image pipeline. Application forms are
one-time forms that keep typed input and store nothing on error. Approval needs every shop's
verification code marked as checked, or waived with a reason (audited).
"""
from __future__ import annotations

import io
import os
import re

import pikepdf
import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AppKind, Application, AppStatus, AuditLog, Enterprise, Evidence, EvidencePage, Role, Shop, Status,
)
from marketplace.services import ServiceError, review
from marketplace.services.pdfs import PDF_MAX_PAGES, clean_pdf, render_pages
from marketplace.services.shop_codes import ALPHABET, ShopCheck, free_code, shops_to_check
from marketplace.validation import ValidationError
from tests import factories as f


# --------------------------------------------------------------------------- tiny PDFs


def make_pdf(pages: int = 1, *, encrypt: str = "", js: str = "", embed: bool = False, pad: int = 0,
             author: str = "") -> bytes:
    """A small PDF built with pikepdf: blank A4 pages with a line of text, optionally encrypted,
    scripted (``js`` = openaction / names / page-aa / link), carrying an attachment, padded
    with ``pad`` incompressible bytes, or with an author in its document information."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for n in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(f"BT /F1 24 Tf 72 760 Td (Licence page {n + 1}) Tj ET".encode())
    action = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    if js == "openaction":
        pdf.Root.OpenAction = action
    elif js == "names":
        tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), pdf.make_indirect(action)]))
        pdf.Root.Names = pikepdf.Dictionary(JavaScript=tree)
    elif js == "page-aa":
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=action)
    elif js == "link":
        annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                   Rect=pikepdf.Array([0, 0, 100, 100]), A=action)
        pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])
    if embed:
        pdf.attachments["secret.txt"] = pikepdf.AttachedFileSpec(pdf, b"hello", mime_type="text/plain")
    if pad:
        pdf.Root.Padding = pdf.make_stream(os.urandom(pad))
    if author:
        pdf.docinfo["/Author"] = author
    out = io.BytesIO()
    kwargs = {}
    if encrypt:
        kwargs["encryption"] = pikepdf.Encryption(owner="owner-secret", user="user-secret" if encrypt == "user" else "")
    pdf.save(out, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["openaction", "names", "page-aa", "link"])
def test_pdf_with_javascript_is_refused(app, kind):
    with pytest.raises(ValidationError, match="脚本"):
        clean_pdf(make_pdf(js=kind))


@pytest.mark.parametrize("encrypt", ["user", "owner"])
def test_encrypted_pdf_is_refused(app, encrypt):
    with pytest.raises(ValidationError, match="加密"):
        clean_pdf(make_pdf(encrypt=encrypt))


def test_pdf_with_embedded_file_is_refused(app):
    with pytest.raises(ValidationError, match="内嵌"):
        clean_pdf(make_pdf(embed=True))


def test_pdf_with_too_many_pages_is_refused(app):
    with pytest.raises(ValidationError, match=f"最多 {PDF_MAX_PAGES} 页"):
        clean_pdf(make_pdf(pages=PDF_MAX_PAGES + 1))


def test_pdf_over_ten_megabytes_is_refused(app):
    big = make_pdf(pad=10 * 1024 * 1024)
    assert len(big) > 10 * 1024 * 1024
    with pytest.raises(ValidationError, match="10 MB"):
        clean_pdf(big)


def test_broken_pdf_is_refused(app):
    with pytest.raises(ValidationError, match="损坏"):
        clean_pdf(b"%PDF-1.7\n" + b"\x00garbage" * 50)


def test_valid_multi_page_pdf_is_cleaned_and_rendered(app):
    raw = make_pdf(pages=3, author="SecretAuthorName")
    assert b"SecretAuthorName" in raw
    cleaned = clean_pdf(raw)
    assert cleaned.pages == 3 and b"SecretAuthorName" not in cleaned.data
    pages = render_pages(cleaned.data)
    assert len(pages) == 3
    for page in pages:
        im = PILImage.open(io.BytesIO(page.data))
        assert page.mime == "image/jpeg" and max(im.size) <= 1600 and im.size == (page.width, page.height)


# --------------------------------------------------------------------------- the forms


@pytest.fixture
def draft(app, login_as):
    """A merchant's draft enterprise with two draft shops, signed in."""
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False)
    f.make_shop(ent, status=Status.DRAFT)
    f.make_shop(ent, status=Status.DRAFT, platform_slug="jd")
    db.session.commit()
    client = app.test_client()
    login_as(merchant, client)
    return {"merchant": merchant, "ent": ent, "client": client,
            "url": f"/merchant/enterprises/{ent.id}/submit"}


def _counts():
    return (db.session.scalar(select(func.count()).select_from(Evidence)),
            db.session.scalar(select(func.count()).select_from(Application)))


def test_submit_with_image_licence_stores_evidence_and_redirects(draft):
    raw = PILImage.new("RGB", (900, 600), (240, 240, 230))
    exif = PILImage.Exif()
    exif[0x010E] = "GPS-SECRET-DESCRIPTION"
    buf = io.BytesIO()
    raw.save(buf, format="JPEG", exif=exif)
    resp = f.post_with_evidence(draft["client"], draft["url"], {"licence": (io.BytesIO(buf.getvalue()), "执照.jpg")})
    assert resp.status_code == 303
    app_ = db.session.scalars(select(Application)).one()
    assert resp.headers["Location"].endswith(f"/merchant/applications/{app_.id}")
    ev = app_.evidence
    assert ev.legal_representative == "张三" and ev.contact_mobile == "13812345678"
    assert ev.licence_mime == "image/jpeg" and b"GPS-SECRET-DESCRIPTION" not in ev.licence_data
    assert ev.pages == []
    # every shop under review has a code from the unambiguous alphabet
    shops = db.session.scalars(select(Shop).where(Shop.enterprise_id == draft["ent"].id)).all()
    for shop in shops:
        assert re.fullmatch(rf"GDWS-[{ALPHABET}]{{4}}", shop.verify_code)
    page = draft["client"].get(f"/merchant/applications/{app_.id}").get_data(as_text=True)
    assert all(s.verify_code in page for s in shops) and "店铺公告或店铺简介" in page


def test_submit_with_pdf_licence_renders_pages(draft):
    resp = f.post_with_evidence(draft["client"], draft["url"], {"licence": (io.BytesIO(make_pdf(pages=2)), "执照.pdf")})
    assert resp.status_code == 303
    ev = db.session.scalars(select(Evidence)).one()
    assert ev.is_pdf and [p.page_no for p in ev.pages] == [1, 2]


def test_reload_of_a_filed_form_shows_the_same_application(draft):
    client, url = draft["client"], draft["url"]
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
    first = client.post(url, data={**f.evidence_form(), "form_token": token}, content_type="multipart/form-data")
    again = client.post(url, data={**f.evidence_form(), "form_token": token}, content_type="multipart/form-data")
    assert first.status_code == 303 and again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _counts() == (1, 1)


@pytest.mark.parametrize("override, field_message", [
    ({"licence": (io.BytesIO(b""), "")}, "请上传营业执照"),
    ({"licence": (io.BytesIO(b"GIF89a" + b"\x00" * 40), "a.gif")}, "只接受 PNG、JPEG 或 WebP"),
    ({"contact_mobile": "020-12345678"}, "请填写联系人的手机号"),
    ({"contact_mobile": "12812345678"}, "请填写联系人的手机号"),
    ({"contact_email": "not-an-email"}, "联系人邮箱格式不正确"),
    ({"legal_representative": ""}, "请填写法定代表人姓名"),
    ({"registered_address": ""}, "请填写注册地址"),
])
def test_bad_input_stores_nothing_and_keeps_what_was_typed(draft, override, field_message):
    pdf_cases = {"licence": (io.BytesIO(make_pdf(js="openaction")), "x.pdf")}
    for case in (override, pdf_cases):
        data = {"legal_representative": "王五法人", "contact_name": "赵六联系人", **case}
        if "contact_email" not in case:
            data["contact_email"] = "typed-kept@example.com"
        resp = f.post_with_evidence(draft["client"], draft["url"], data)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200
        expected = field_message if case is override else "脚本"
        assert expected in html
        for kept in ("赵六联系人",) + (("王五法人",) if data["legal_representative"] else ()):
            assert kept in html
        assert _counts() == (0, 0)
        db.session.expire_all()
        assert db.session.get(Enterprise, draft["ent"].id).status == Status.DRAFT


def test_claim_needs_evidence_too(app, login_as):
    imported = f.make_enterprise(owner=None)
    merchant = f.make_user()
    db.session.commit()
    client = app.test_client()
    login_as(merchant, client)
    url = f"/merchant/claim/{imported.id}"
    refused = f.post_with_evidence(client, url, {"note": "我是总经理", "licence": (io.BytesIO(b""), "")})
    assert refused.status_code == 200 and "请上传营业执照" in refused.get_data(as_text=True)
    assert _counts() == (0, 0)
    ok = f.post_with_evidence(client, url, {"note": "我是总经理", "licence": (io.BytesIO(make_pdf()), "l.pdf")})
    assert ok.status_code == 303
    app_ = db.session.scalars(select(Application)).one()
    assert app_.kind == AppKind.CLAIM and app_.evidence.uploaded_by_id == merchant.id


def test_pdf_licence_over_the_page_cap_is_refused_through_the_form(draft):
    resp = f.post_with_evidence(draft["client"], draft["url"],
                                {"licence": (io.BytesIO(make_pdf(pages=6)), "six.pdf")})
    assert resp.status_code == 200 and "最多 5 页" in resp.get_data(as_text=True)
    assert _counts() == (0, 0)


def _post_big(client, url: str, licence: bytes):
    """A multipart POST built by hand: the test client's own builder spools big files to a
    temporary file it never closes."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page)
    token = match.group(1) if match else ""
    fields = {k: v for k, v in f.evidence_input().items() if k != "licence"}
    fields |= {"form_token": token, "csrf_token": client.csrf_token()}
    boundary = "evidenceboundary"
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="licence"; filename="big.pdf"\r\n'
             "Content-Type: application/pdf\r\n\r\n").encode() + licence + f"\r\n--{boundary}--\r\n".encode()
    return client.post(url, data=io.BytesIO(body), content_type=f"multipart/form-data; boundary={boundary}",
                       content_length=len(body))


def test_licence_pdf_near_ten_megabytes_passes_the_request_cap(draft):
    """The licence forms accept a body over MAX_CONTENT_LENGTH (8 MB), up to 11 MB."""
    resp = _post_big(draft["client"], draft["url"], make_pdf(pad=int(9.5 * 1024 * 1024)))
    assert resp.status_code == 303
    assert db.session.scalars(select(Evidence)).one().is_pdf


def test_licence_pdf_over_ten_megabytes_is_refused_with_its_own_message(draft):
    resp = _post_big(draft["client"], draft["url"], make_pdf(pad=10 * 1024 * 1024 + 1000))
    assert resp.status_code == 200 and "不能超过 10 MB" in resp.get_data(as_text=True)
    assert _counts() == (0, 0)


def test_other_forms_keep_the_eight_megabyte_cap(draft):
    resp = _post_big(draft["client"], f"/merchant/enterprises/{draft['ent'].id}/logo", b"0" * (9 * 1024 * 1024))
    assert resp.status_code == 413


# --------------------------------------------------------------------------- shop codes at approval


@pytest.fixture
def pending(app):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False)
    s1 = f.make_shop(ent, status=Status.DRAFT, name="验证码甲旗舰店")
    s2 = f.make_shop(ent, status=Status.DRAFT, platform_slug="jd", name="验证码乙自营店")
    from marketplace.services.listings.applications import submit_for_certification

    app_ = submit_for_certification(merchant, ent.id, f.evidence_input())
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    return {"app": app_, "shops": [s1, s2], "staff": staff, "ent": ent}


def test_codes_are_short_and_unambiguous_and_unique_per_shop(app):
    for code in (free_code() for _ in range(200)):
        assert re.fullmatch(r"GDWS-[2-9A-Z]{4}", code) and not set(code[5:]) & set("01OILU")
    assert Shop.__table__.c.verify_code.unique


def test_approval_without_code_checks_is_refused(pending):
    app_, (s1, s2), staff = pending["app"], pending["shops"], pending["staff"]
    with pytest.raises(ServiceError, match="请先逐个核实店铺验证码") as err:
        review.approve(app_.id, staff, shop_checks={s1.id: ShopCheck("verified")})
    assert f"「{s2.name}」" in str(err.value) and f"「{s1.name}」" not in str(err.value)
    db.session.rollback()
    assert db.session.get(Application, app_.id).status == AppStatus.PENDING


def test_waiver_needs_a_reason_and_is_audited(pending):
    app_, (s1, s2), staff = pending["app"], pending["shops"], pending["staff"]
    with pytest.raises(ServiceError, match="请写明理由"):
        review.approve(app_.id, staff, shop_checks={s1.id: ShopCheck("verified"), s2.id: ShopCheck("waived", "  ")})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action.like("shop.code_%"))) == 0
    review.approve(app_.id, staff, shop_checks={
        s1.id: ShopCheck("verified"), s2.id: ShopCheck("waived", "京东店铺公告需平台审核，已电话核实")})
    db.session.commit()
    f.end_gongshi()  # a first certification takes effect after its 公示
    entries = {e.entity_id: e for e in db.session.scalars(select(AuditLog).where(AuditLog.action.like("shop.code_%")))}
    assert entries[s1.id].action == "shop.code_verified" and entries[s1.id].actor_id == staff.id
    assert entries[s2.id].action == "shop.code_waived" and "电话核实" in entries[s2.id].after["reason"]
    assert entries[s1.id].after["verify_code"] == db.session.get(Shop, s1.id).verify_code
    assert db.session.get(Enterprise, pending["ent"].id).status == Status.CERTIFIED


def test_review_page_refuses_approval_with_a_chinese_message_then_approves(pending, client, login_as):
    app_, (s1, s2), staff = pending["app"], pending["shops"], pending["staff"]
    login_as(staff)
    page = client.get(f"/staff/review/{app_.id}").get_data(as_text=True)
    for shop in (s1, s2):
        assert shop.verify_code in page
        assert f'href="{shop.url}" target="_blank" rel="noopener noreferrer"' in page
        assert f'name="shop_check_{shop.id}"' in page
    assert 'href="https://www.gsxt.gov.cn/"' in page and pending["ent"].uscc in page
    assert f"/staff/evidence/{app_.evidence_id}/licence" in page and "张三" in page
    resp = client.post(f"/staff/review/{app_.id}/approve", data={"version": app_.version}, follow_redirects=True)
    assert "请先逐个核实店铺验证码" in resp.get_data(as_text=True)
    assert db.session.get(Application, app_.id).status == AppStatus.PENDING
    resp = client.post(f"/staff/review/{app_.id}/approve", data={
        "version": app_.version, f"shop_check_{s1.id}": "verified", f"shop_check_{s2.id}": "waived",
        f"shop_waive_{s2.id}": "平台不允许修改公告，已核对营业执照"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app_.id).status == AppStatus.APPROVED


def test_shop_without_a_code_can_only_be_waived(app):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status=Status.PENDING, certificate=False)
    shop = f.make_shop(ent, status=Status.PENDING)
    shop.verify_code = None  # submitted before codes existed
    app_ = f.make_application(ent)
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    with pytest.raises(ServiceError, match="只能写明理由免除核实"):
        review.approve(app_.id, staff, shop_checks={shop.id: ShopCheck("verified")})
    db.session.rollback()
    review.approve(app_.id, staff, shop_checks={shop.id: ShopCheck("waived", "旧申请，已电话核实")})


def test_claims_and_enterprise_edits_check_no_shops(app):
    ent = f.make_enterprise(owner=None)
    f.make_shop(ent)
    claim = f.make_application(ent, kind=AppKind.CLAIM, applicant=f.make_user())
    assert shops_to_check(claim) == []


def test_a_shop_url_change_needs_its_code_checked(app):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant)
    shop = f.make_shop(ent)
    edit = f.make_application(ent, kind=AppKind.SHOP_EDIT, shop=shop, payload={"url": "https://new1.tmall.com/"})
    rename = f.make_application(ent, kind=AppKind.SHOP_EDIT, shop=shop, payload={"name": "新名字"})
    assert shops_to_check(edit) == [shop] and shops_to_check(rename) == []


def test_rendered_pages_and_history_on_the_review_page(app, client, login_as):
    merchant = f.make_user()
    earlier = f.make_enterprise(owner=merchant, name="申请人的另一家企业有限公司")
    rejected = f.make_application(earlier, applicant=merchant)
    rejected.status, rejected.reason = AppStatus.REJECTED, "营业执照信息与企业名称不符"
    f.make_complaint(earlier)
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False)
    f.make_shop(ent, status=Status.DRAFT)
    from marketplace.services.listings.applications import submit_for_certification

    app_ = submit_for_certification(merchant, ent.id, f.evidence_input(licence=make_pdf(pages=2)))
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/review/{app_.id}").get_data(as_text=True)
    assert f"/staff/evidence/{app_.evidence_id}/pages/1" in page and f"/staff/evidence/{app_.evidence_id}/pages/2" in page
    assert "下载 PDF 原件" in page
    assert "申请人的另一家企业有限公司" in page and "营业执照信息与企业名称不符" in page and "投诉" in page
    assert db.session.scalar(select(func.count()).select_from(EvidencePage)) == 2


# --------------------------------------------------------------------------- changes of a certified enterprise


@pytest.fixture
def certified(app):
    """A certified enterprise whose certification rests on evidence naming 张三."""
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False, name="佛山变更测试有限公司")
    f.make_shop(ent, status=Status.DRAFT)
    from marketplace.services.listings.applications import submit_for_certification

    first = submit_for_certification(merchant, ent.id, f.evidence_input())
    staff = f.make_user(Role.STAFF)
    review.approve(first.id, staff, shop_checks=f.all_codes_verified(first))
    db.session.commit()
    f.end_gongshi()
    return {"merchant": merchant, "ent": ent, "staff": staff}


def test_new_legal_representative_goes_to_review_with_the_licence(certified, client, login_as):
    merchant, ent, staff = certified["merchant"], certified["ent"], certified["staff"]
    login_as(merchant)
    resp = f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/evidence", {"legal_representative": "李新法人"})
    assert resp.status_code == 303
    change = db.session.scalars(select(Application).where(Application.kind == AppKind.ENTERPRISE_EDIT)).one()
    assert change.status == AppStatus.PENDING and change.evidence.legal_representative == "李新法人"
    login_as(staff)
    page = client.get(f"/staff/review/{change.id}").get_data(as_text=True)
    assert "变更：原为 张三" in page and "李新法人" in page
    review.approve(change.id, staff, shop_checks=f.all_codes_verified(change))
    db.session.commit()
    assert db.session.get(Application, change.id).status == AppStatus.APPROVED


def test_same_legal_representative_opens_no_review_and_a_name_change_then_uses_the_licence(certified, client, login_as):
    merchant, ent = certified["merchant"], certified["ent"]
    login_as(merchant)
    edit_url = f"/merchant/enterprises/{ent.id}/edit"
    form = {"name": "佛山变更后的名称有限公司", "brands": "；".join(ent.brand_names), "city_id": str(ent.city_id),
            "industry_ids": [str(i.id) for i in ent.industries], "description": ent.description, "website": "",
            "founded_year": "", "version": str(ent.version)}
    refused = client.post(edit_url, data=form)
    assert refused.status_code == 200 and "变更企业名称需要变更后的营业执照" in refused.get_data(as_text=True)
    assert f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/evidence").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Application).where(
        Application.kind == AppKind.ENTERPRISE_EDIT)) == 0
    db.session.expire_all()
    form["version"] = str(db.session.get(Enterprise, ent.id).version)
    assert client.post(edit_url, data=form).status_code == 302
    change = db.session.scalars(select(Application).where(Application.kind == AppKind.ENTERPRISE_EDIT)).one()
    assert change.payload["name"] == "佛山变更后的名称有限公司" and change.evidence_id is not None


def test_evidence_update_is_only_for_certified_enterprises(app, client, login_as):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False)
    db.session.commit()
    login_as(merchant)
    resp = f.post_with_evidence(client, f"/merchant/enterprises/{ent.id}/evidence")
    assert resp.status_code == 200 and "只有已认证的企业可以单独更新认证材料" in resp.get_data(as_text=True)
    assert _counts() == (0, 0)


def test_demo_applications_carry_generated_evidence_and_shop_codes(app, client, login_as):
    from marketplace.services.demo_applications import load_demo_applications

    assert load_demo_applications() == 2
    db.session.commit()
    assert load_demo_applications() == 0  # idempotent
    apps = db.session.scalars(select(Application).where(Application.status == AppStatus.PENDING)).all()
    assert len(apps) == 2 and all(a.evidence is not None for a in apps)
    assert sorted(len(a.evidence.pages) for a in apps) == [0, 2]
    assert all(s.verify_code for a in apps for s in a.enterprise.shops)
    login_as(f.make_user(Role.STAFF))
    db.session.commit()
    for a in apps:
        page = client.get(f"/staff/review/{a.id}").get_data(as_text=True)
        assert "认证材料" in page and "演示法人" in page and "店铺验证码核实" in page
