"""Account pages over HTTP: register, login, logout, change password; sessions and cookies;
``next`` redirects; CSRF; NUL bytes."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import User
from marketplace.services import accounts
from tests.factories import make_user

GOOD = "a sunny day in foshan"
PW = "correct horse battery"  # make_user's password


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def landing(app) -> str:
    """Where a merchant lands after register/login: the merchant dashboard."""
    with app.test_request_context():
        return url_for("merchant.dashboard")


def is_logged_in(client) -> bool:
    """A login-protected page answers 200 only for a logged-in user (else redirect to login)."""
    resp = client.get("/account/password")
    if resp.status_code == 200:
        return True
    assert resp.status_code == 302 and "/account/login" in resp.headers["Location"]
    return False


def set_cookies(resp) -> dict[str, str]:
    """name -> full Set-Cookie header of a response."""
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def cookie_value(client, name: str) -> str | None:
    c = client.get_cookie(name)
    return c.value if c else None


# --- register -------------------------------------------------------------------------------------

def test_register_page_renders_for_phones(client):
    html = client.get("/account/register").get_data(as_text=True)
    assert "<title>商家入驻 · 注册账号 · 广货网上行</title>" in html
    assert 'name="viewport"' in html
    assert 'type="email"' in html and 'autocomplete="email"' in html and 'inputmode="email"' in html
    assert 'autocomplete="new-password"' in html
    assert "商家入驻须知" in html and 'name="agree"' in html
    assert "<script>" not in html  # CSP: no inline scripts


def test_register_logs_in_and_redirects(app, client, auth):
    resp = auth.register("New.Merchant@Example.com ", GOOD)
    assert resp.status_code == 302
    assert resp.headers["Location"] == landing(app)
    user = db.session.scalar(select(User).where(User.email == "new.merchant@example.com"))
    assert user is not None and user.role == "merchant" and user.last_login_at is not None
    assert is_logged_in(client)


def test_register_keeps_safe_next(client, auth):
    resp = auth.register("next@example.com", GOOD, next="/enterprise/1")
    assert resp.headers["Location"] == "/enterprise/1"


def test_register_duplicate_after_normalisation(client, auth, app):
    assert auth.register("foo@example.com", GOOD).status_code == 302
    auth.logout()
    resp = auth.register("Foo@Example.com ", GOOD + " two")
    assert resp.status_code == 200
    assert "该邮箱已注册" in resp.get_data(as_text=True)
    assert user_count() == 1


@pytest.mark.parametrize("password, confirm, message", [
    ("short pw", None, "至少需要 10 个字符"),
    ("1234567890", None, "过于常见"),
    ("woaini1314", None, "过于常见"),
    ("qwertyuiop", None, "过于常见"),
    ("x1" * 513, None, "不能超过 1024"),
    ("merchant2025 rocks", None, "邮箱名"),
    (GOOD, GOOD + "!", "两次输入的密码不一致"),
    (GOOD, "", "请再次输入密码"),
])
def test_register_refuses_bad_passwords(client, auth, password, confirm, message):
    resp = auth.register("merchant2025@example.com", password, confirm=confirm)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert message in html
    assert 'value="merchant2025@example.com"' in html  # what the user typed is kept
    assert password not in html or len(password) < 10  # passwords are never echoed back
    assert user_count() == 0


def test_register_64_char_password_ok(client, auth):
    pw = "我们的陶瓷卖到全国 and we like long passphrases 1234567890abcdefghijklmnop"[:64]
    assert len(pw) == 64
    assert auth.register("merchant64@example.com", pw).status_code == 302
    auth.logout()
    assert auth.login("merchant64@example.com", pw).status_code == 302


def test_register_requires_terms(client, auth):
    resp = auth.register("terms@example.com", GOOD, agree=False)
    assert resp.status_code == 200
    assert "请阅读并勾选同意" in resp.get_data(as_text=True)
    assert user_count() == 0


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "x@localhost", ""])
def test_register_refuses_bad_email(client, auth, email):
    resp = auth.register(email, GOOD)
    assert resp.status_code == 200
    assert "邮箱" in resp.get_data(as_text=True)
    assert user_count() == 0


def test_register_ignores_extra_fields(client, auth):
    resp = auth.register("sneaky@example.com", GOOD, role="admin", is_enabled="0", id="99")
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "sneaky@example.com"))
    assert user.role == "merchant" and user.is_enabled and user.id != 99


# --- NUL bytes and control characters -------------------------------------------------------------

@pytest.mark.parametrize("field", ["email", "password", "confirm"])
def test_register_refuses_nul(client, auth, field):
    data = {"email": "nul@example.com", "password": GOOD, "confirm": GOOD, "agree": "y"}
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    resp = client.post("/account/register", data=data)
    assert resp.status_code == 200
    assert "不允许" in resp.get_data(as_text=True) or "不正确" in resp.get_data(as_text=True)
    assert user_count() == 0


@pytest.mark.parametrize("data", [
    {"email": "own\x00er@example.com", "password": PW},
    {"email": "owner@example.com", "password": PW[:4] + "\x00" + PW[4:]},
    {"email": "owner@example.com", "password": PW, "next": "/\x00//evil.example"},
])
def test_login_refuses_nul(app, client, data):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = client.post("/account/login", data=data)
    assert resp.status_code in (200, 302)
    if resp.status_code == 302:  # only the ``next`` case may log in, and then it stays on the site
        assert resp.headers["Location"] == landing(app)
    else:
        assert not is_logged_in(client)


def test_forgot_refuses_nul(client):
    resp = client.post("/account/forgot", data={"email": "a\x00@example.com"})
    assert resp.status_code == 200
    assert "不允许" in resp.get_data(as_text=True)


# --- login ------------------------------------------------------------------------------------------

def test_login_good(app, client, auth):
    user = make_user(email="owner@example.com")
    db.session.commit()
    resp = auth.login("Owner@Example.com", PW)
    assert resp.status_code == 302 and resp.headers["Location"] == landing(app)
    assert is_logged_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None


def _error_text(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(re.findall(r'role="alert">([^<]*)<', html) + re.findall(r'class="field-error"[^>]*>([^<]*)<', html))


def test_login_failures_say_the_same(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    wrong = auth.login("owner@example.com", "wrong horse battery")
    unknown = auth.login("nobody@example.com", "wrong horse battery")
    malformed = auth.login("nobody", "wrong horse battery")
    assert wrong.status_code == unknown.status_code == 200
    assert _error_text(wrong) == _error_text(unknown) == "邮箱或密码错误。"
    assert malformed.status_code == 200
    assert "邮箱或密码错误" in _error_text(malformed)
    assert 'value="owner@example.com"' in wrong.get_data(as_text=True)
    assert not is_logged_in(client)


def test_login_disabled_account(client, auth):
    user = make_user(email="off@example.com")
    accounts.set_enabled(user, False)
    db.session.commit()
    resp = auth.login("off@example.com", PW)
    assert resp.status_code == 200 and "已停用" in resp.get_data(as_text=True)
    assert not is_logged_in(client)
    # the wrong password on a disabled account reveals nothing
    assert _error_text(auth.login("off@example.com", "wrong horse battery")) == "邮箱或密码错误。"


def test_login_page_redirects_when_logged_in(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    resp = client.get("/account/login")
    assert resp.status_code == 302 and resp.headers["Location"] == landing(app)


def test_login_required_page_sends_to_login_with_next(client):
    resp = client.get("/account/password")
    assert resp.status_code == 302
    loc = resp.headers["Location"]
    assert loc.startswith("/account/login?next=")
    html = client.get(loc).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/account/password"' in html


HOSTILE_NEXT = [
    "https://evil.example", "//evil.example", "/\t/evil.example", "\t//evil.example", "https:evil.example",
    "http://x@evil.example", "javascript:alert(1)", "/\\evil.example", "\\\\evil.example", "///evil.example",
    "/%09/evil.example", " //evil.example", "http:/evil.example", "data:text/html,<script>alert(1)</script>",
    "/\r\n/evil.example", "ftp://evil.example", "//evil.example/%2f..", "HTTPS://EVIL.EXAMPLE",
]


def assert_local(location: str) -> None:
    """The Location a browser would follow stays on this site."""
    browser_view = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    parts = urlsplit(browser_view)
    assert not parts.scheme and not parts.netloc, location
    assert browser_view.startswith("/") and not browser_view.startswith("//"), location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_next_hostile_lands_on_site(app, client, auth, target):
    make_user(email="owner@example.com")
    db.session.commit()
    client.get("/account/login", query_string={"next": target})
    resp = auth.login("owner@example.com", PW, next=target)
    assert resp.status_code == 302
    assert_local(resp.headers["Location"])
    # and when already logged in, the login page's own ?next= redirect is safe too
    again = client.get("/account/login", query_string={"next": target})
    assert again.status_code == 302
    assert_local(again.headers["Location"])


def test_login_next_local_kept(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = auth.login("owner@example.com", PW, next="/browse?city=佛山&page=2")
    assert resp.headers["Location"].startswith("/browse?city=")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_register_next_hostile_lands_on_site(app, client, auth, target):
    resp = auth.register("reg@example.com", GOOD, next=target)
    assert resp.status_code == 302
    assert_local(resp.headers["Location"])


# --- sessions and cookies -------------------------------------------------------------------------

def test_session_cookie_renewed_at_login(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    client.get("/account/login")
    client.csrf_token()
    before = cookie_value(client, "session")
    with client.session_transaction() as sess:
        anon_csrf = sess["csrf_token"]
        sess["planted"] = "by an attacker"
    resp = auth.login("owner@example.com", PW)
    assert resp.status_code == 302
    after = cookie_value(client, "session")
    assert after and after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess  # nothing from the anonymous session survives
        assert sess.get("csrf_token") != anon_csrf


def test_cookie_flags(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = auth.login("owner@example.com", PW)
    session_cookie = set_cookies(resp)["session"]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain-HTTP default (SESSION_COOKIE_SECURE off)
    assert "remember_token" not in set_cookies(resp)


def test_remember_me_cookie(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = auth.login("owner@example.com", PW, remember=True)
    remember = set_cookies(resp)["remember_token"]
    assert "HttpOnly" in remember and "SameSite=Lax" in remember and "Expires=" in remember
    # bounded lifetime: about 30 days, not forever
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    days = (expires - datetime.now(timezone.utc)).days
    assert 28 <= days <= 31
    # the remember cookie alone logs a new browser session in ...
    value = cookie_value(client, "remember_token")
    fresh = app.test_client()
    fresh.set_cookie("remember_token", value)
    assert is_logged_in(fresh)
    # ... until logout, after which replaying it is anonymous
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("remember_token", value)
    assert not is_logged_in(replay)


@pytest.fixture
def secure_cookies(app_config):
    app_config["SESSION_COOKIE_SECURE"] = True


def test_secure_cookies_when_configured(secure_cookies, app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = auth.login("owner@example.com", PW, remember=True, environ_base={"wsgi.url_scheme": "https"})
    cookies = set_cookies(resp)
    assert "Secure" in cookies["session"] and "Secure" in cookies["remember_token"]
    assert "HttpOnly" in cookies["session"] and "SameSite=Lax" in cookies["session"]


def _stolen_session(app, client) -> str:
    value = cookie_value(client, "session")
    assert value
    thief = app.test_client()
    thief.set_cookie("session", value)
    assert is_logged_in(thief)
    return value


def _replay(app, value: str) -> bool:
    thief = app.test_client()
    thief.set_cookie("session", value)
    return is_logged_in(thief)


def test_cookie_replayed_after_logout_is_anonymous(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    stolen = _stolen_session(app, client)
    resp = auth.logout()
    assert resp.status_code == 302
    assert not is_logged_in(client)
    assert not _replay(app, stolen)


def test_cookie_replayed_after_password_change_is_anonymous(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    stolen = _stolen_session(app, client)
    client.get("/account/password")
    resp = client.post("/account/password", data={"old_password": PW, "password": GOOD, "confirm": GOOD})
    assert resp.status_code == 302
    assert is_logged_in(client)  # this browser stays logged in
    assert not _replay(app, stolen)  # every other one is out
    auth.logout()
    assert auth.login("owner@example.com", PW).status_code == 200
    assert auth.login("owner@example.com", GOOD).status_code == 302


def test_change_password_errors(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    resp = client.post("/account/password", data={"old_password": "wrong one here", "password": GOOD,
                                                   "confirm": GOOD})
    assert resp.status_code == 200 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={"old_password": PW, "password": "1234567890",
                                                   "confirm": "1234567890"})
    assert resp.status_code == 200 and "过于常见" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={"old_password": PW, "password": "owner is great 1",
                                                   "confirm": "owner is great 1"})
    assert resp.status_code == 200 and "邮箱名" in resp.get_data(as_text=True)
    assert auth.login("owner@example.com", PW).status_code == 302


def test_cookie_replayed_after_deactivation_is_anonymous(app, client, auth):
    user = make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW, remember=True)
    stolen = _stolen_session(app, client)
    remember = cookie_value(client, "remember_token")
    accounts.set_enabled(user, False)
    db.session.commit()
    assert not is_logged_in(client)
    assert not _replay(app, stolen)
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert not is_logged_in(thief)
    # re-enabling does not resurrect old cookies
    accounts.set_enabled(user, True)
    db.session.commit()
    assert not _replay(app, stolen)


@pytest.mark.parametrize("how", ["flip_signature", "flip_payload", "truncate", "garbage", "other_secret"])
def test_tampered_cookie_is_anonymous(app, client, auth, how):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    value = _stolen_session(app, client)
    if how == "flip_signature":
        forged = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    elif how == "flip_payload":
        forged = value[:5] + ("A" if value[5] != "A" else "B") + value[6:]
    elif how == "truncate":
        forged = value[: len(value) // 2]
    elif how == "garbage":
        forged = "not-a-cookie-at-all"
    else:
        from flask.sessions import SecureCookieSessionInterface

        other = app.test_client().application
        other.secret_key = "someone else's key"
        serializer = SecureCookieSessionInterface().get_signing_serializer(other)
        forged = serializer.dumps({"_user_id": "1:guess", "_fresh": True})
        other.secret_key = app.config["SECRET_KEY"]
    assert not _replay(app, forged)


def test_forged_user_id_without_token_is_anonymous(app):
    user = make_user()
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)  # right id, no session token
    assert not is_logged_in(client)
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:wrong-token"
    assert not is_logged_in(client)


# --- logout, CSRF ---------------------------------------------------------------------------------

def test_logout_is_post_only(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    resp = client.get("/account/logout")
    assert resp.status_code == 405
    assert is_logged_in(client)


def test_logout_button_in_header(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    html = client.get("/").get_data(as_text=True)
    assert 'action="/account/logout"' in html and 'method="post"' in html


@pytest.mark.parametrize("url, data", [
    ("/account/register", {"email": "c@example.com", "password": GOOD, "confirm": GOOD, "agree": "y"}),
    ("/account/login", {"email": "owner@example.com", "password": PW}),
    ("/account/logout", {}),
    ("/account/password", {"old_password": PW, "password": GOOD, "confirm": GOOD}),
    ("/account/forgot", {"email": "owner@example.com"}),
])
def test_forms_without_csrf_token_refused(app, client, auth, url, data):
    user = make_user(email="owner@example.com")
    db.session.commit()
    if url in ("/account/logout", "/account/password"):
        auth.login("owner@example.com", PW)
    hash_before, token_before = user.password_hash, user.session_token
    resp = client.post(url, data=data, csrf=False)
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == hash_before and user.session_token == token_before
    assert user_count() == 1
    # a wrong token is refused the same way
    resp = client.post(url, data={**data, "csrf_token": "forged"}, csrf=False)
    assert resp.status_code == 400


def test_reset_form_without_csrf_refused(client):
    user = make_user()
    db.session.commit()
    token = accounts.make_reset_token(user)
    resp = client.post(f"/account/reset/{token}", data={"password": GOOD, "confirm": GOOD}, csrf=False)
    assert resp.status_code == 400
    assert accounts.user_for_reset_token(token) is not None  # unused, still valid


def test_account_pages_not_cached(client):
    for url in ("/account/login", "/account/register", "/account/forgot"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_login_lifetime_is_bounded_server_side(app, client, auth, monkeypatch):
    """A remember-me cookie replayed after REMEMBER_COOKIE_DURATION is anonymous even if the
    browser kept it; a session cookie older than PERMANENT_SESSION_LIFETIME is refused by Flask."""
    import time
    from datetime import datetime, timedelta

    import marketplace.views.auth as auth_views

    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW, remember=True)
    session_value = cookie_value(client, "session")
    remember_value = cookie_value(client, "remember_token")
    real_time, real_now = time.time, auth_views.utc_now

    def shift(days: int) -> None:
        monkeypatch.setattr(time, "time", lambda: real_time() + days * 86400)
        monkeypatch.setattr(auth_views, "utc_now", lambda: real_now() + timedelta(days=days))

    shift(15)  # past the 14-day session lifetime, within the 30-day remember duration
    assert not _replay(app, session_value)
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember_value)
    assert is_logged_in(fresh)
    shift(31)
    late = app.test_client()
    late.set_cookie("remember_token", remember_value)
    assert not is_logged_in(late)
    assert isinstance(real_now(), datetime)


def test_header_links_for_logged_in_user(client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/account/login"' in html and 'href="/account/register"' in html
    assert 'href="/account/password"' not in html
    auth.login("owner@example.com", PW)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/account/password"' in html and 'href="/account/login"' not in html


def test_guessing_the_current_password_is_throttled(client, auth):
    """A stolen session cannot brute-force the current password on the change-password form."""
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW)
    codes = [client.post("/account/password", data={"old_password": f"guess number {n}", "password": GOOD,
                                                     "confirm": GOOD}).status_code for n in range(11)]
    assert codes == [200] * 10 + [429]
    assert client.post("/account/password", data={"old_password": PW, "password": GOOD,
                                                  "confirm": GOOD}).status_code == 429
    assert accounts.authenticate("owner@example.com", PW) is not None
