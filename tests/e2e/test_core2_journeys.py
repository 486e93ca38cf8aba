"""Browser journeys for claims that compete and for edits from two tabs (issue 11 items 2 and 5).

(a) Two merchants claim the same imported enterprise; staff see the conflict on the review page
    before deciding, approve one; the other claim lapses and its sender sees why.
(b) The new owner edits the enterprise in two tabs: the second save is refused with
    "该资料刚被修改，请刷新后重试" and keeps what was typed.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, fill_evidence, licence_image, login, shoot

pytestmark = pytest.mark.e2e

STATE: dict = {}
PASSWORD = "claims-race-Passw0rd-2026"
FIRST, SECOND = "first-claimant@claims-e2e.example", "second-claimant@claims-e2e.example"


def _merchant(live_server, email: str) -> None:
    out = live_server.flask("create-user", email, "--password-stdin", input=PASSWORD + "\n", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def _claim(page, ent_id: int, note: str) -> None:
    page.goto(f"/merchant/claim/{ent_id}")
    page.fill("textarea[name=note]", note)
    fill_evidence(page, licence_image(Path(tempfile.mkdtemp()) / "licence.png"))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/merchant/applications/" in page.url, page.url


def test_a_competing_claims(new_context, live_server):
    ent_id = live_server.sql(
        "SELECT id FROM enterprise WHERE owner_id IS NULL AND status = 'certified' ORDER BY id LIMIT 1")[0][0]
    STATE["ent_id"] = ent_id
    for email in (FIRST, SECOND):
        _merchant(live_server, email)
        page = new_context().new_page()
        login(page, email, PASSWORD)
        _claim(page, ent_id, f"{email} 负责本企业的电商业务，电话 020-0000000")
    first_claim, second_claim = [row[0] for row in live_server.sql(
        "SELECT a.id FROM application a JOIN \"user\" u ON u.id = a.applicant_id "
        "WHERE a.enterprise_id = :e AND a.kind = 'claim' ORDER BY a.id", e=ent_id)]

    staff = new_context().new_page()
    login(staff, ADMIN_EMAIL, ADMIN_PASSWORD)
    staff.goto(f"/staff/review/{first_claim}")
    card = staff.locator("#claim-warnings")
    card.wait_for()
    assert SECOND in card.inner_text()
    shoot(staff, "core2-a1-staff-claim-conflict")
    staff.locator("#approve-form button[type=submit]").click()
    staff.wait_for_load_state()
    owner = live_server.sql("SELECT u.email FROM enterprise e JOIN \"user\" u ON u.id = e.owner_id WHERE e.id = :e",
                            e=ent_id)[0][0]
    assert owner == FIRST
    assert live_server.sql("SELECT status, reason FROM application WHERE id = :a", a=second_claim)[0] == \
        ("lapsed", "企业已被认领")

    second = new_context().new_page()
    login(second, SECOND, PASSWORD)
    second.goto(f"/merchant/applications/{second_claim}")
    second.get_by_text("已失效").first.wait_for()
    assert "企业已被认领" in second.content()
    shoot(second, "core2-a2-merchant-claim-lapsed")
    STATE["owner"] = FIRST


def test_b_two_tabs_edit_one_enterprise(new_context, live_server):
    if "owner" not in STATE:
        pytest.fail("the claim journey did not finish")
    ent_id = STATE["ent_id"]
    context = new_context()
    tab1, tab2 = context.new_page(), context.new_page()
    login(tab1, STATE["owner"], PASSWORD)
    for tab in (tab1, tab2):
        tab.goto(f"/merchant/enterprises/{ent_id}/edit")
    tab1.fill("textarea[name=description]", "第一个标签页保存的简介。")
    tab1.locator("form.form-card button[type=submit]").click()
    tab1.wait_for_load_state()
    tab2.fill("textarea[name=description]", "第二个标签页里刚输入、还没保存的简介。")
    tab2.locator("form.form-card button[type=submit]").click()
    tab2.wait_for_load_state()
    tab2.get_by_text("该资料刚被修改，请刷新后重试").first.wait_for()
    assert tab2.locator("textarea[name=description]").input_value() == "第二个标签页里刚输入、还没保存的简介。"
    shoot(tab2, "core2-b1-merchant-edit-conflict")
    payload = live_server.sql("SELECT payload FROM application WHERE enterprise_id = :e AND kind = 'enterprise_edit' "
                              "AND status = 'pending'", e=ent_id)
    stored = payload[0][0] if len(payload) == 1 else None
    stored = json.loads(stored) if isinstance(stored, str) else stored  # SQLite returns the JSON text
    assert stored == {"description": "第一个标签页保存的简介。"}
