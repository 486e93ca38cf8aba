"""Browser journey for brand authorizations (issue 13 §3), at 390 and 1280 px with screenshots:
a brand owner authorizes a distributor's 专卖店, /verify shows the authorization, and the owner
withdraws it (the shop is suspended, both sides get a mail).

The demo data has the pieces: the brand 岭苑 (广州市霖嘉时装有限公司) and the fictional
distributor 广州市粤联商贸有限公司 with a JD 专卖店 that no authorization covers yet.
"""
from __future__ import annotations

from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from conftest import login, shoot
from marketplace.clock import china_today

pytestmark = pytest.mark.e2e

PASSWORD = "brand-journey-Passw0rd-2026"
OWNER, DEALER = "owner@brand-e2e.example", "dealer@brand-e2e.example"
BRAND_USCC, DEALER_USCC = "91440123MAMNMG13MC", "91440103MA9DEMX01P"
SHOP_URL = "https://mall.jd.com/index-19900001.html"
LINE_START = "「岭苑」品牌授权专卖店，授权方：广州市霖嘉时装有限公司，有效期至"


def _merchant_owning(live_server, email: str, uscc: str) -> None:
    out = live_server.flask("create-user", email, "--password-stdin", input=PASSWORD + "\n", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    live_server.sql('UPDATE enterprise SET owner_id = (SELECT id FROM "user" WHERE email = :m) WHERE uscc = :u',
                    m=email, u=uscc)


def _mails(live_server) -> list:
    parser = BytesParser(policy=policy.default)
    folder = Path(live_server.instance) / "outbox"
    return [parser.parsebytes(part) for path in sorted(folder.glob("*.log"))
            for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n") if part.strip()]


def _verify(page, phone: bool):
    page.set_viewport_size({"width": 390, "height": 844} if phone else {"width": 1280, "height": 900})
    page.goto("/verify")
    page.fill("#verify-q", SHOP_URL)
    page.locator(".verify-form button[type=submit]").click()
    page.wait_for_load_state()
    return page.locator(".verify-result")


def test_owner_authorizes_verify_shows_it_owner_withdraws(new_context, live_server):
    _merchant_owning(live_server, OWNER, BRAND_USCC)
    _merchant_owning(live_server, DEALER, DEALER_USCC)
    start = china_today()
    until = (start + timedelta(days=365)).isoformat()

    # 1. The brand owner grants the authorization on a phone.
    owner = new_context().new_page()
    owner.set_viewport_size({"width": 390, "height": 844})
    login(owner, OWNER, PASSWORD)
    owner.goto("/merchant/")
    owner.get_by_role("link", name="品牌授权").first.click()
    owner.get_by_role("link", name="授予品牌授权").click()
    owner.select_option("select[name=brand_id]", label="岭苑（广州市霖嘉时装有限公司）")
    owner.fill("input[name=distributor_uscc]", DEALER_USCC.lower())  # case does not matter
    owner.get_by_label("京东", exact=True).check()
    owner.fill("input[name=valid_from]", start.isoformat())
    owner.fill("input[name=valid_until]", until)
    shoot(owner, "auth-1-owner-grant-form")
    owner.locator("form.form-card button[type=submit]").click()
    owner.wait_for_load_state()
    owner.get_by_text("已授予「岭苑」品牌授权").wait_for()
    assert "我授予的授权" in owner.content() and DEALER_USCC in owner.content()
    shoot(owner, "auth-2-owner-granted")
    auth_id = live_server.sql("SELECT id FROM brand_authorization WHERE distributor_uscc = :d AND brand_name = '岭苑' "
                              "AND status = 'active' ORDER BY id DESC", d=DEALER_USCC)[0][0]

    # 2. The distributor links its JD 专卖店 on a desktop.
    dealer = new_context().new_page()
    login(dealer, DEALER, PASSWORD)
    dealer.goto("/merchant/authorizations")
    card = dealer.locator(f"#authorization-{auth_id}")
    assert "广州市霖嘉时装有限公司" in card.inner_text()
    card.get_by_role("link", name="关联店铺").click()
    dealer.get_by_label("岭苑粤联京东专卖店（京东 · 专卖店）").check()
    shoot(dealer, "auth-3-dealer-link-shop")
    dealer.locator("form.form-card button[type=submit]").click()
    dealer.wait_for_load_state()
    dealer.get_by_text("已保存关联的店铺").wait_for()

    # 3. A consumer verifies the shop: certified, with the authorization.
    consumer = new_context().new_page()
    for phone in (True, False):
        result = _verify(consumer, phone)
        text = result.inner_text()
        assert "认证有效" in text and LINE_START in text and until in text
    shoot(consumer, "auth-4-verify-authorized")
    consumer.goto(f"/enterprises/{live_server.sql('SELECT id FROM enterprise WHERE uscc = :u', u=DEALER_USCC)[0][0]}")
    assert LINE_START in consumer.locator(".pub-shops").first.inner_text() or LINE_START in consumer.content()

    # 4. The owner withdraws it: the shop is suspended, both sides are mailed.
    mails_before = len(_mails(live_server))
    owner.goto("/merchant/authorizations")
    owner.locator(f"#authorization-{auth_id}").get_by_role("link", name="撤回授权").click()
    assert "岭苑粤联京东专卖店" in owner.content()
    owner.fill("textarea[name=reason]", "双方合作已于本月终止")
    shoot(owner, "auth-5-owner-withdraw")
    owner.locator("form.form-card button[type=submit]").click()
    owner.wait_for_load_state()
    owner.get_by_text("1 家依赖该授权的店铺已暂停展示").wait_for()
    assert live_server.sql("SELECT status FROM shop WHERE url = :u", u=SHOP_URL)[0][0] == "suspended"
    new_mails = _mails(live_server)[mails_before:]
    assert sorted(m["To"] for m in new_mails) == [DEALER, OWNER]

    for phone in (True, False):
        text = _verify(consumer, phone).inner_text()
        assert "认证已暂停" in text and LINE_START not in text
    shoot(consumer, "auth-6-verify-after-withdrawal")
    dealer.goto("/merchant/authorizations")
    assert "已撤回" in dealer.locator(f"#authorization-{auth_id}").inner_text()
    shoot(dealer, "auth-7-dealer-sees-withdrawal")
    feed = consumer.request.get("/api/v1/changes?limit=1000").json()["events"]
    assert feed[-1]["type"] == "authorization_withdrawn" and feed[-1]["shop"]["url"] == SHOP_URL
