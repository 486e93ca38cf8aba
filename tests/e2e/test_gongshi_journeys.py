"""Browser journeys for 公示 (issue 13 §4), at 390 and 1280 px with screenshots:

(a) a consumer objects to an entry on /gongshi from a phone (a refused attempt first, then with an
    evidence image) and gets a reference number; /verify answers 公示中; the periodic command holds
    the entry back while the objection is open; staff dismiss it; the command then lets the
    certification take effect and /verify answers 认证有效;
(b) staff uphold the demo's open objection: the application returns to review and the merchant
    sees why on the dashboard (and gets a mail); staff approve it again and a new 公示 runs.

The demo data has the pieces (services/demo_gongshi.py): 南岭泉 on notice without objection, and
禾田瓷 on notice with one open objection. The take-effect command runs through the flask CLI with
``--today`` set to the entry's end date (the period has to pass; the browser cannot wait days).
"""
from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from PIL import Image

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login, mark_codes_verified, shoot

pytestmark = pytest.mark.e2e

NANLING, HETIAN = "广州市南岭山泉饮品有限公司", "佛山市禾田陶瓷科技有限公司"
NANLING_SHOP = "https://nanlingquan.tmall.com/"
MERCHANT, PASSWORD = "hetian@gongshi-e2e.example", "gongshi-journey-Passw0rd-2026"
PHONE = {"width": 390, "height": 844}


def _notice(live_server, name: str):
    return live_server.sql("SELECT id, ends_on, status, application_id FROM public_notice WHERE name = :n "
                           "ORDER BY id DESC", n=name)[0]


def _take_effect(live_server, day) -> str:
    out = live_server.flask("gongshi-take-effect", "--today", str(day))
    return out.stdout


def _mails(live_server) -> list:
    parser = BytesParser(policy=policy.default)
    folder = Path(live_server.instance) / "outbox"
    return [parser.parsebytes(part) for path in sorted(folder.glob("*.log"))
            for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n") if part.strip()]


def _verify(page, url: str):
    page.goto("/verify")
    page.fill("#verify-q", url)
    page.locator(".verify-form button[type=submit]").click()
    page.wait_for_load_state()
    return page.locator(".verify-result h2").inner_text()


def test_a_objection_dismissed_then_gongshi_ends(new_context, live_server, tmp_path):
    notice_id, ends_on, status, _app = _notice(live_server, NANLING)
    assert status == "open"

    # 1. A consumer on a phone finds the entry and objects, first without a way to be reached.
    consumer = new_context().new_page()
    consumer.set_viewport_size(PHONE)
    consumer.goto("/")
    consumer.get_by_role("link", name="认证公示").click()
    consumer.get_by_text(NANLING).first.wait_for()
    shoot(consumer, "gongshi-1-list")
    consumer.locator(f"#notice-{notice_id} .button", has_text="提出异议").click()
    consumer.wait_for_load_state()
    consumer.fill("textarea[name=reason]", "该天猫店铺的经营主体与公示企业不一致，店铺首页资质为另一家公司。")
    consumer.fill("input[name=contact_name]", "赵先生")
    consumer.locator("form.form-card button[type=submit]").click()
    consumer.wait_for_load_state()
    consumer.get_by_text("请至少留下手机号或邮箱").wait_for()
    assert "店铺首页资质为另一家公司" in consumer.locator("textarea[name=reason]").input_value()  # typed text kept
    shoot(consumer, "gongshi-2-objection-refused")
    evidence = tmp_path / "evidence.png"
    Image.new("RGB", (640, 480), (230, 200, 120)).save(evidence)
    consumer.fill("input[name=contact_phone]", "138 0013 8000")
    consumer.fill("input[name=contact_email]", "zhao@objector-e2e.example")
    consumer.set_input_files("input[name=evidence]", str(evidence))
    consumer.locator("form.form-card button[type=submit]").click()
    consumer.wait_for_load_state()
    consumer.get_by_text("异议已提交").wait_for()
    reference = consumer.locator("#receipt-ref").inner_text()
    shoot(consumer, "gongshi-3-objection-receipt")
    consumer.reload()  # a reload of the receipt files nothing
    consumer.go_back()
    assert live_server.sql("SELECT count(*) FROM notice_objection WHERE notice_id = :n", n=notice_id)[0][0] == 1

    # 2. /verify says 公示中; the command holds the entry back while the objection is open.
    assert "公示中" in _verify(consumer, NANLING_SHOP)
    shoot(consumer, "gongshi-4-verify-in-notice")
    # (other journeys' entries may end the same day and take effect; this one is held back)
    assert "因有未处理异议暂缓" in _take_effect(live_server, ends_on)
    assert live_server.sql("SELECT status FROM public_notice WHERE id = :n", n=notice_id)[0][0] == "open"

    # 3. Staff read it beside the entry, with the evidence image, and dismiss it.
    staff = new_context().new_page()
    login(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    staff.goto("/staff/")
    staff.locator(".staff-nav").get_by_role("link", name="公示异议").click()
    staff.get_by_role("link", name=reference).click()
    staff.wait_for_load_state()
    assert staff.locator("img.objection-evidence").evaluate("img => img.naturalWidth") > 0
    shoot(staff, "gongshi-5-staff-objection")
    staff.fill("textarea[name=reason]", "经核实，该店铺由公示企业经营，资质页面为其授权运营方。")
    staff.get_by_role("button", name="异议不成立").click()
    staff.wait_for_load_state()
    staff.get_by_text(f"异议 {reference} 已处理").wait_for()
    shoot(staff, "gongshi-6-staff-dismissed")
    mail = [m for m in _mails(live_server) if m["To"] == "zhao@objector-e2e.example"][-1]
    assert "不成立" in mail["Subject"]

    # 4. The period ends: the certification takes effect and /verify says so.
    assert "生效 1 条" in _take_effect(live_server, ends_on)
    assert "生效 0 条" in _take_effect(live_server, ends_on)  # safe to run again
    assert "认证有效" in _verify(consumer, NANLING_SHOP)
    shoot(consumer, "gongshi-7-verify-certified")
    consumer.goto("/gongshi?state=ended")
    consumer.get_by_text(NANLING).first.wait_for()
    shoot(consumer, "gongshi-8-ended")


def test_b_objection_upheld_returns_to_review(new_context, live_server):
    out = live_server.flask("create-user", MERCHANT, "--password-stdin", input=PASSWORD + "\n", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    live_server.sql('UPDATE enterprise SET owner_id = (SELECT id FROM "user" WHERE email = :m) WHERE name = :n',
                    m=MERCHANT, n=HETIAN)
    notice_id, _ends, status, app_id = _notice(live_server, HETIAN)
    assert status == "open"
    objection_id = live_server.sql("SELECT id FROM notice_objection WHERE notice_id = :n AND status = 'open'",
                                   n=notice_id)[0][0]

    # 1. Staff uphold the objection with a reason.
    staff = new_context().new_page()
    login(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    staff.goto(f"/staff/objections/{objection_id}")
    staff.fill("textarea[name=reason]", "经向京东核实，该店铺经营主体不是公示企业，请补充授权材料。")
    shoot(staff, "gongshi-9-staff-uphold")
    staff.get_by_role("button", name="异议成立，退回审核").click()
    staff.wait_for_load_state()
    staff.get_by_text("异议成立").first.wait_for()
    assert live_server.sql("SELECT status FROM application WHERE id = :a", a=app_id)[0][0] == "pending"
    mail = [m for m in _mails(live_server) if m["To"] == MERCHANT][-1]
    assert "异议成立" in mail["Subject"] and "补充授权材料" in mail.get_content()

    # 2. The merchant sees why, on a phone.
    merchant = new_context().new_page()
    merchant.set_viewport_size(PHONE)
    login(merchant, MERCHANT, PASSWORD)
    merchant.goto("/merchant/")
    merchant.get_by_text("补充授权材料").first.wait_for()
    shoot(merchant, "gongshi-10-merchant-told")

    # 3. Back in the review queue; approved again, a new 公示 runs.
    staff.goto(f"/staff/review/{app_id}")
    mark_codes_verified(staff)
    staff.locator("#approve-form button[type=submit]").click()
    staff.wait_for_load_state()
    new_id, _ends, status, _app = _notice(live_server, HETIAN)
    assert new_id != notice_id and status == "open"
    staff.goto("/gongshi")
    staff.locator(f"#notice-{new_id}").wait_for()
    shoot(staff, "gongshi-11-on-notice-again")
    staff.goto("/gongshi?state=ended")
    staff.locator(f"#notice-{notice_id}").get_by_text("异议成立，重新审核").wait_for()
