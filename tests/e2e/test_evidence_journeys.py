"""Browser journeys for evidence and proof of shop control (issue 13 §1–2), at 390 and 1280 px
with screenshots:

(a) a merchant on a phone applies with a photographed licence and puts the shop codes in place;
(b) a second merchant on a desktop applies with a two-page PDF licence;
(c) staff review the first with the licence beside the entered name and code: approval without
    the code check is refused, then both shops are marked verified and it is approved;
(d) staff review the PDF one (its rendered pages), waive the check with a reason, approve.

Journeys build on each other through ``STATE`` (pytest runs a module's tests in file order).
"""
from __future__ import annotations

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fill_evidence, licence_image, login, mark_codes_verified, shoot

pytestmark = pytest.mark.e2e

STATE: dict = {}
PASSWORD = "evidence-journey-Passw0rd-2026"
PHOTO_MERCHANT, PDF_MERCHANT = "photo@evidence-e2e.example", "pdf@evidence-e2e.example"
PHOTO_ENT, PDF_ENT = "佛山市证照实木家具有限公司", "东莞市证照电子科技有限公司"


def _uscc(area: str, serial: str) -> str:
    from marketplace.validation.uscc import check_character

    body = f"91{area}{serial}"
    return body + check_character(body)


def _licence_pdf(path, pages: int = 2):
    """A clean two-page PDF licence, as a scanner would produce (the demo data's generator)."""
    from marketplace.services.demo_applications import demo_licence_pdf

    path.write_bytes(demo_licence_pdf("Unified social credit code / Name / Legal representative", pages))
    return path


def _merchant(live_server, email: str) -> None:
    out = live_server.flask("create-user", email, "--password-stdin", input=PASSWORD + "\n", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def _enterprise_with_shops(page, live_server, name: str, uscc: str, shops: list[tuple[str, str, str]]) -> int:
    """Create a draft enterprise and its shops through the merchant forms; return its id."""
    page.goto("/merchant/enterprises/new")
    page.fill("input[name=name]", name)
    page.fill("input[name=uscc]", uscc)
    page.locator("input[name=uscc]").blur()
    page.fill("input[name=brands]", name[3:7])
    city = live_server.sql("SELECT id FROM city WHERE code = :c", c=uscc[2:6] + "00")
    city_id = city[0][0] if city else live_server.sql("SELECT id FROM city ORDER BY id LIMIT 1")[0][0]
    page.select_option("select[name=city_id]", str(city_id))
    page.locator("input[name=industry_ids]").first.check()
    page.fill("textarea[name=description]", f"{name}，广东制造，支持全国配送。")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    ent_id = live_server.sql("SELECT id FROM enterprise WHERE name = :n", n=name)[0][0]
    for slug, shop_name, url in shops:
        page.goto(f"/merchant/enterprises/{ent_id}/shops/new")
        plat = live_server.sql("SELECT id FROM platform WHERE slug = :s", s=slug)[0][0]
        page.select_option("select[name=platform_id]", str(plat))
        page.fill("input[name=name]", shop_name)
        page.fill("input[name=url]", url)
        page.locator("form.form-card button[type=submit]").click()
        page.wait_for_load_state()
    assert len(live_server.sql("SELECT id FROM shop WHERE enterprise_id = :e", e=ent_id)) == len(shops)
    return ent_id


def test_a_merchant_applies_with_a_licence_photo_and_shop_codes(new_context, live_server, tmp_path):
    _merchant(live_server, PHOTO_MERCHANT)
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, PHOTO_MERCHANT, PASSWORD)
    ent_id = _enterprise_with_shops(page, live_server, PHOTO_ENT, _uscc("440606", "MA4EX1D01"), [
        ("tmall", "证照家具旗舰店", "https://zhengzhaojiaju.tmall.com/"),
        ("jd", "证照家具京东自营店", "https://mall.jd.com/index-18800001.html"),
    ])
    codes = [row[0] for row in live_server.sql("SELECT verify_code FROM shop WHERE enterprise_id = :e ORDER BY id", e=ent_id)]
    assert all(c and c.startswith("GDWS-") for c in codes)
    page.goto(f"/merchant/enterprises/{ent_id}")
    for code in codes:
        page.get_by_text(code).first.wait_for()
    shoot(page, "ev-a1-merchant-shop-codes")

    # A wrong mobile number: refused in Chinese, what was typed stays, nothing stored.
    page.goto(f"/merchant/enterprises/{ent_id}/submit")
    fill_evidence(page, licence_image(tmp_path / "营业执照.png"))
    page.fill("input[name=contact_mobile]", "020-1234567")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_load_state()
    page.get_by_text("请填写联系人的手机号").first.wait_for()
    assert page.input_value("input[name=legal_representative]") == "陈立信"
    assert live_server.sql("SELECT count(*) FROM evidence WHERE enterprise_id = :e", e=ent_id)[0][0] == 0
    shoot(page, "ev-a2-merchant-evidence-refused")

    page.set_input_files("input[name=licence]", str(tmp_path / "营业执照.png"))  # files are never kept
    page.fill("input[name=contact_mobile]", "13800138000")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "ev-a3-merchant-evidence-form")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_load_state()
    assert "/merchant/applications/" in page.url, page.url
    for code in codes:
        page.get_by_text(code).first.wait_for()
    assert "认证材料（仅您和工作人员可见）" in page.content()
    shoot(page, "ev-a4-merchant-applied-with-codes")
    STATE["photo_app"] = live_server.sql(
        "SELECT id FROM application WHERE enterprise_id = :e AND kind = 'enterprise'", e=ent_id)[0][0]
    STATE["photo_ent"], STATE["photo_codes"] = ent_id, codes


def test_b_merchant_applies_with_a_pdf_licence(new_context, live_server, tmp_path):
    _merchant(live_server, PDF_MERCHANT)
    page = new_context().new_page()
    login(page, PDF_MERCHANT, PASSWORD)
    ent_id = _enterprise_with_shops(page, live_server, PDF_ENT, _uscc("441900", "MA4EX2D02"), [
        ("tmall", "证照电子旗舰店", "https://zhengzhaodianzi.tmall.com/"),
    ])
    page.goto(f"/merchant/enterprises/{ent_id}/submit")
    fill_evidence(page, _licence_pdf(tmp_path / "营业执照.pdf"), legal_rep="周建业")
    shoot(page, "ev-b1-merchant-pdf-form")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_load_state()
    assert "/merchant/applications/" in page.url, page.url
    page.get_by_text("下载 PDF（共 2 页）").wait_for()
    shoot(page, "ev-b2-merchant-applied-with-pdf")
    STATE["pdf_app"] = live_server.sql(
        "SELECT id FROM application WHERE enterprise_id = :e AND kind = 'enterprise'", e=ent_id)[0][0]
    STATE["pdf_ent"] = ent_id


def test_c_staff_review_photo_licence_side_by_side_check_codes_and_approve(new_context, live_server):
    if "photo_app" not in STATE:
        pytest.fail("journey (a) did not finish")
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"/staff/review/{STATE['photo_app']}")
    evidence = page.locator("#evidence")
    evidence.locator("img.licence-image").wait_for()
    assert PHOTO_ENT in evidence.inner_text() and "陈立信" in evidence.inner_text()
    gsxt = page.locator("#gsxt-link")
    assert gsxt.get_attribute("href") == "https://www.gsxt.gov.cn/" and gsxt.get_attribute("target") == "_blank"
    for code in STATE["photo_codes"]:
        page.locator("#shop-codes").get_by_text(code).wait_for()
    link = page.locator("#shop-codes a.shop-link").first
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    shoot(page, "ev-c1-staff-evidence-side-by-side")

    # zoom the licence in place
    page.locator("button.licence-zoom").first.click()
    assert page.locator("button.licence-zoom").first.get_attribute("aria-pressed") == "true"
    shoot(page, "ev-c2-staff-licence-zoomed")
    page.locator("button.licence-zoom").first.click()

    # approving without the code check is refused with a clear message
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state()
    page.get_by_text("请先逐个核实店铺验证码").first.wait_for()
    assert live_server.sql("SELECT status FROM application WHERE id = :a", a=STATE["photo_app"])[0][0] == "pending"
    shoot(page, "ev-c3-staff-approval-refused-without-codes")

    mark_codes_verified(page)
    shoot(page, "ev-c4-staff-codes-marked")
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT status FROM application WHERE id = :a", a=STATE["photo_app"])[0][0] == "approved"
    marks = live_server.sql("SELECT action FROM audit_log WHERE enterprise_id = :e AND action LIKE 'shop.code_%'",
                            e=STATE["photo_ent"])
    assert [m[0] for m in marks] == ["shop.code_verified", "shop.code_verified"]


def test_d_staff_review_pdf_pages_waive_with_reason_and_approve(new_context, live_server):
    if "pdf_app" not in STATE:
        pytest.fail("journey (b) did not finish")
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"/staff/review/{STATE['pdf_app']}")
    images = page.locator("#evidence img.licence-image")
    images.first.wait_for()
    assert images.count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows the phone
    assert page.locator("#licence-download").get_attribute("href").endswith("/licence")
    shoot(page, "ev-d1-staff-pdf-pages")

    page.locator("#shop-codes input[type=radio][value=waived]").first.check()
    page.locator("#approve-form button[type=submit]").click()  # a waiver without a reason
    page.wait_for_load_state()
    page.get_by_text("请写明理由").first.wait_for()
    page.locator("#shop-codes input[type=radio][value=waived]").first.check()
    page.locator("#shop-codes input[type=text]").first.fill("天猫店铺公告修改需平台审核，已电话联系林小姐核实")
    shoot(page, "ev-d2-staff-waive-with-reason")
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state()
    assert live_server.sql("SELECT status FROM application WHERE id = :a", a=STATE["pdf_app"])[0][0] == "approved"
    note = live_server.sql("SELECT note FROM audit_log WHERE enterprise_id = :e AND action = 'shop.code_waived'",
                           e=STATE["pdf_ent"])[0][0]
    assert "已电话联系林小姐核实" in note
