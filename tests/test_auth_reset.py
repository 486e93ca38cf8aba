"""Forgotten password over HTTP: the mail (file outbox), a signed link that works once and
expires, the same answer for unknown emails, no Host-header poisoning; plus the ``safe_next``
property test."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.extensions import db
from marketplace.security import safe_next
from marketplace.services import accounts
from marketplace.services.mail import read_outbox
from tests.conftest import extract_csrf
from tests.factories import make_user

PW = "correct horse battery"
NEW = "a sunny day in foshan"


def request_reset(client, email: str, follow_redirects: bool = False, **kwargs):
    """Post the forgot-password form like a browser: the CSRF token comes from the rendered page."""
    html = client.get("/account/forgot", **kwargs).get_data(as_text=True)
    return client.post("/account/forgot", data={"email": email, "csrf_token": extract_csrf(html)},
                       follow_redirects=follow_redirects, csrf=False, **kwargs)


def reset_link() -> str:
    mails = read_outbox()
    assert len(mails) == 1
    body = mails[0].get_content()
    match = re.search(r"(https?://\S+/account/reset/\S+)", body)
    assert match, body
    return match.group(1)


def is_logged_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def test_reset_link_works_once(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    resp = request_reset(client, "Owner@Example.com", follow_redirects=True)
    assert "如果该邮箱已注册" in resp.get_data(as_text=True)
    mail = read_outbox()[0]
    assert mail["To"] == "owner@example.com" and "重置密码" in mail["Subject"]
    link = reset_link()
    assert link.startswith("http://localhost/account/reset/")  # absolute, from SERVER_NAME_FOR_LINKS
    path = urlsplit(link).path

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "same-origin"  # the token never leaves the site
    assert page.headers["Cache-Control"] == "no-store"
    assert "owner@example.com" in page.get_data(as_text=True)

    resp = client.post(path, data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/login"
    assert auth.login("owner@example.com", PW).status_code == 200
    assert auth.login("owner@example.com", NEW).status_code == 302
    auth.logout()

    # second use: refused, password unchanged
    again = client.get(path, follow_redirects=True)
    assert "重置链接无效或已过期" in again.get_data(as_text=True)
    resp = client.post(path, data={"password": NEW + " two", "confirm": NEW + " two"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/forgot"
    assert auth.login("owner@example.com", NEW + " two").status_code == 200
    assert auth.login("owner@example.com", NEW).status_code == 302


def test_unknown_email_gets_the_same_answer(app, client):
    make_user(email="owner@example.com")
    db.session.commit()
    pages = []
    for email in ("owner@example.com", "nobody@example.com"):
        resp = request_reset(client, email)
        assert resp.status_code == 302
        pages.append((resp.headers["Location"], client.get(resp.headers["Location"]).get_data(as_text=True)))
    (loc1, html1), (loc2, html2) = pages
    assert loc1 == loc2 == "/account/login"
    flashes = [re.findall(r'class="flash[^"]*">([^<]*)<', html) for html in (html1, html2)]
    assert flashes[0] == flashes[1] and "如果该邮箱已注册" in flashes[0][0]
    assert len(read_outbox()) == 1  # only the real account got mail


def test_disabled_account_gets_no_mail(app, client):
    user = make_user(email="off@example.com")
    user.is_enabled = False
    db.session.commit()
    assert request_reset(client, "off@example.com").status_code == 302
    assert read_outbox() == []


@pytest.fixture
def short_reset_links(app_config):
    app_config["PASSWORD_RESET_MAX_AGE"] = 60


def test_reset_link_expires(short_reset_links, app, client, monkeypatch):
    make_user(email="owner@example.com")
    db.session.commit()
    request_reset(client, "owner@example.com")
    assert "1 分钟内" in read_outbox()[0].get_content()
    path = urlsplit(reset_link()).path
    assert client.get(path).status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    resp = client.get(path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/forgot"
    resp = client.post(path, data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/forgot"
    assert accounts.authenticate("owner@example.com", PW) is not None
    assert accounts.authenticate("owner@example.com", NEW) is None


def test_reset_refuses_weak_password_and_keeps_token(app, client):
    make_user(email="owner@example.com")
    db.session.commit()
    request_reset(client, "owner@example.com")
    path = urlsplit(reset_link()).path
    for pw, confirm, message in (("1234567890", "1234567890", "过于常见"), ("short", "short", "至少需要"),
                                 (NEW, NEW + "x", "不一致"), ("owner loves tea", "owner loves tea", "邮箱名")):
        resp = client.post(path, data={"password": pw, "confirm": confirm})
        assert resp.status_code == 200 and message in resp.get_data(as_text=True)
    assert client.post(path, data={"password": NEW, "confirm": NEW}).status_code == 302


def test_reset_logs_out_other_sessions(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    auth.login("owner@example.com", PW, remember=True)
    assert is_logged_in(client)
    other = app.test_client()
    request_reset(other, "owner@example.com")
    path = urlsplit(reset_link()).path
    assert other.post(path, data={"password": NEW, "confirm": NEW}).status_code == 302
    assert not is_logged_in(client)


def test_tampered_reset_links(app, client):
    make_user(email="owner@example.com")
    db.session.commit()
    request_reset(client, "owner@example.com")
    path = urlsplit(reset_link()).path
    token = path.rsplit("/", 1)[1]
    for bad in (token[:-3] + "abc", token[:20], "x", "a" * 600, token.replace(".", "!", 1)):
        resp = client.get(f"/account/reset/{bad}")
        assert resp.status_code in (302, 404)
        if resp.status_code == 302:
            assert resp.headers["Location"] == "/account/forgot"


def test_reset_link_ignores_hostile_host_header(app, client):
    """A forged Host header is refused (400, no mail); the link is built on SERVER_NAME_FOR_LINKS."""
    make_user(email="owner@example.com")
    db.session.commit()
    resp = client.post("/account/forgot", data={"email": "owner@example.com"}, headers={"Host": "evil.example"})
    assert resp.status_code == 400 and read_outbox() == []
    request_reset(client, "owner@example.com")
    assert urlsplit(reset_link()).netloc == "localhost"


@pytest.fixture
def alias_host(app_config):
    app_config["SERVER_NAME_FOR_LINKS"] = "https://gdws.example"
    app_config["EXTRA_TRUSTED_HOSTS"] = "www.gdws.example"


def test_reset_link_uses_the_canonical_base_on_an_alias_host(alias_host, app, client):
    """A request on another configured host (here over HTTPS) still mails the canonical link."""
    make_user(email="owner@example.com")
    db.session.commit()
    browser = {"base_url": "https://www.gdws.example",
               "headers": {"Referer": "https://www.gdws.example/account/forgot"}}
    assert request_reset(client, "owner@example.com", **browser).status_code == 302
    link = reset_link()
    assert link.startswith("https://gdws.example/account/reset/")
    # over HTTPS Flask-WTF demands a same-origin Referer: the reset page's policy must allow it
    page = client.get(link)
    assert page.headers["Referrer-Policy"] == "same-origin"
    html = page.get_data(as_text=True)
    resp = client.post(link, data={"password": NEW, "confirm": NEW, "csrf_token": extract_csrf(html)},
                       headers={"Referer": link}, csrf=False)
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/login"


# --- safe_next property -----------------------------------------------------------------------

def _browser_view(url: str) -> str:
    """What a browser makes of a Location: tabs/newlines dropped, backslashes as slashes."""
    return re.sub(r"[\t\r\n]", "", url).replace("\\", "/").lstrip(" \x00")


TRICKY = st.sampled_from(["/", "//", "\\", "\t", "\n", "\r", " ", "http:", "https:", "javascript:", "evil.example",
                          "@", "%2f", "%09", ":", "?", "#", "\x00", "／", "。", "\u200b", "..", "x"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(TRICKY, max_size=8).map("".join)))
def test_safe_next_always_local(target):
    result = safe_next(target, default="/home")
    seen = _browser_view(result)
    parts = urlsplit(seen)
    assert seen.startswith("/") and not seen.startswith("//")
    assert not parts.scheme and not parts.netloc
    assert result == target or result == "/home"
