"""Requests the site refuses before any view runs (issue 11, items 3 and 7) and the settings the
production shape refuses to start with.

* Host header: links in mails and feeds come from ``SERVER_NAME_FOR_LINKS``; a Host that is not
  a configured one gets a Chinese 400 page (``marketplace.request_guard``).
* Bytes that are not UTF-8 in a form field, query string or file name: 400 in Chinese, nothing
  stored.

The route-wide versions of these checks (every route, every form) are in test_security_routes.py.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.extensions import db
from marketplace.models import AuditLog, Enterprise, User
from marketplace.services.mail import read_outbox
from tests import factories as f
from tests.conftest import extract_csrf

ROOT = Path(__file__).resolve().parent.parent
EVIL = "evil.example"


def raw_post(client, path: str, pairs: list[tuple[str, str]], raw: dict[str, str]):
    """POST an urlencoded body in which the fields in ``raw`` carry the given percent-encoded bytes
    as they are (so ``%FF`` arrives as the byte 0xFF), with a valid CSRF token."""
    body = urlencode([("csrf_token", client.csrf_token()), *pairs])
    body += "".join(f"&{quote(k)}={v}" for k, v in raw.items())
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded", csrf=False)


# --------------------------------------------------------------------------- Host header (item 3)


@pytest.fixture
def default_links(app_config):
    """The embedded default: no SERVER_NAME_FOR_LINKS configured."""
    app_config.pop("SERVER_NAME_FOR_LINKS")
    return app_config


def test_forgot_password_with_a_forged_host_never_mails_an_evil_link(default_links, app, client):
    """Issue 11 item 3: ``POST /account/forgot`` with ``Host: evil.example`` mailed
    ``http://evil.example/account/reset/<valid token>``. Now the request is refused and no link
    is ever built on a request's host."""
    f.make_user(email="owner@example.com")
    db.session.commit()
    client.get("/account/forgot", headers={"Host": EVIL})
    resp = client.post("/account/forgot", data={"email": "owner@example.com"}, headers={"Host": EVIL})
    assert resp.status_code == 400
    assert all(EVIL not in m.get_content() for m in read_outbox())
    # the embedded default's links name the dev server (localhost is trusted there too)
    assert client.get("/account/forgot", headers={"Host": "localhost:5000"}).status_code == 200
    resp = client.post("/account/forgot", data={"email": "owner@example.com"})
    assert resp.status_code == 302
    (mail,) = read_outbox()
    assert "http://127.0.0.1:5000/account/reset/" in mail.get_content()


def test_untrusted_host_gets_a_chinese_400_page(app, client):
    resp = client.get("/", headers={"Host": EVIL})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert "不是本站的地址" in html and EVIL not in html and "<title>" in html
    api = client.get("/api/v1/platforms", headers={"Host": EVIL})
    assert api.status_code == 400 and "Host" in api.get_json()["error"]
    for host in ("localhost", "localhost:5000", "127.0.0.1:8000"):  # the test client's and the loopback names
        assert client.get("/robots.txt", headers={"Host": host}).status_code == 200, host


def test_trusted_hosts_come_from_the_link_base_and_the_extra_setting(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "PRODUCTION": True,
                      "SERVER_NAME_FOR_LINKS": "https://gdws.example.cn/", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
                      "EXTRA_TRUSTED_HOSTS": "www.gdws.example.cn, gdws-backup.example.cn",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert app.config["TRUSTED_HOSTS"] == ["gdws.example.cn", "www.gdws.example.cn", "gdws-backup.example.cn"]
    assert app.config["SERVER_NAME_FOR_LINKS"] == "https://gdws.example.cn"
    client = app.test_client()
    assert client.get("/robots.txt", base_url="https://www.gdws.example.cn").status_code == 200
    # in the production shape the loopback names are not trusted
    assert client.get("/robots.txt", headers={"Host": "localhost"}).status_code == 400
    assert "Sitemap: https://gdws.example.cn/sitemap.xml" in client.get(
        "/robots.txt", base_url="https://www.gdws.example.cn").get_data(as_text=True)
    db_engine_dispose(app)


def db_engine_dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("settings, needle", [
    ({}, "SERVER_NAME_FOR_LINKS is required"),
    ({"SERVER_NAME_FOR_LINKS": "gdws.example.cn"}, "is not a base URL"),
    ({"SERVER_NAME_FOR_LINKS": "https://gdws.example.cn/site"}, "is not a base URL"),
    ({"SERVER_NAME_FOR_LINKS": "https://gdws.example.cn", "RATELIMIT_STORAGE_URI": "memory://"}, "counts per process"),
])
def test_production_shape_refuses_to_start_without_safe_settings(tmp_path, settings, needle):
    cfg = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "x", "PRODUCTION": True,
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", **settings}
    with pytest.raises(ConfigError, match=needle):
        create_app(cfg)
    assert not (tmp_path / "i").exists()  # refused before anything was written


def test_gunicorn_refuses_to_start_without_a_link_base(tmp_path):
    """gunicorn.conf.py checks the settings in the master: one clear line, exit 1, no worker."""
    env = {k: v for k, v in os.environ.items() if k not in ("SERVER_NAME_FOR_LINKS", "PRODUCTION")}
    out = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
                          "127.0.0.1:0", "--workers", "1", "app:create_app()"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "SERVER_NAME_FOR_LINKS is required" in out.stderr and "Booting worker" not in out.stderr


def test_feeds_and_api_links_use_the_canonical_base_on_an_alias_host(app_config, tmp_path):
    app_config.update(SERVER_NAME_FOR_LINKS="https://gdws.example.cn", EXTRA_TRUSTED_HOSTS="www.gdws.example.cn")
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
        from marketplace.services.reference_data import seed_reference_data

        seed_reference_data()
        f.make_enterprise()
        db.session.commit()
        client = app.test_client()
        for path in ("/feeds/new.atom", "/api/v1/enterprises", "/sitemap.xml", "/api/v1/platforms"):
            body = client.get(path, base_url="http://www.gdws.example.cn").get_data(as_text=True)
            assert "https://gdws.example.cn/" in body and "www.gdws.example.cn" not in body, path
        db.session.remove()
        db.engine.dispose()


# --------------------------------------------------------------------------- undecodable bytes (item 7)


def test_enterprise_name_with_undecodable_bytes_is_refused(app, client, login_as):
    """Issue 11 item 7: ``广%FF%FE%C0%AF有限公司`` was stored as literal text."""
    login_as(f.make_user())
    db.session.commit()
    client.get("/merchant/enterprises/new")
    resp = raw_post(client, "/merchant/enterprises/new",
                    [("uscc", "91440104MA5CXXXX9X"), ("city_id", str(f.city("广州").id)),
                     ("industry_ids", str(f.industry("家电").id)), ("brands", "广")],
                    {"name": quote("广") + "%FF%FE%C0%AF" + quote("有限公司")})
    assert resp.status_code == 400
    assert "无法识别的字符" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == 0


def test_account_email_with_undecodable_bytes_is_refused(app, client):
    """Issue 11 item 7: an account ``%ff%fe@example.com`` was created."""
    client.get("/account/register")
    resp = raw_post(client, "/account/register",
                    [("password", "a sunny day in foshan"), ("confirm", "a sunny day in foshan"), ("agree", "y")],
                    {"email": "%ff%fe%40example.com"})
    assert resp.status_code == 400 and "UTF-8" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("path", ["/search?q=%E5%B9%BF%FF%FE", "/enterprises?industry=%C0%AF",
                                  "/api/v1/search?q=%FF", "/verify?q=%FE"])
def test_query_string_with_undecodable_bytes(app, client, path):
    resp = client.get(path)
    assert resp.status_code == 400 and "UTF-8" in resp.get_data(as_text=True)


def test_path_with_undecodable_bytes(app, client):
    """A WSGI server hands the path over as raw bytes (latin-1); werkzeug's test client would
    have replaced them already, so the raw path is given as the server gives it."""
    resp = client.get("/", environ_overrides={"PATH_INFO": "/certificates/\xff\xfe"})
    assert resp.status_code == 400 and "UTF-8" in resp.get_data(as_text=True)


def test_valid_utf8_and_literal_percent_signs_still_pass(app, client, login_as):
    """Only bytes that are not UTF-8 are refused: percent signs typed as text are fine."""
    assert client.get("/search?q=%25FF%20%E5%B9%BF%E5%B7%9E").status_code == 200
    login_as(f.make_user())
    db.session.commit()
    resp = client.post("/merchant/enterprises/new", data={"name": "100%纯果汁有限公司"})
    assert resp.status_code == 200  # the form answers with its own messages, not a 400


def _multipart(client, path: str, parts: list[tuple[bytes, bytes | None, bytes]]):
    """A multipart body built by hand: (name, filename or None, content) per part, raw bytes."""
    boundary = b"----gdws-test-boundary"
    parts = [(b"csrf_token", None, client.csrf_token().encode())] + parts
    body = b""
    for name, filename, content in parts:
        disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename else b"")
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + content + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return client.post(path, data=body, content_type="multipart/form-data; boundary=" + boundary.decode(),
                       csrf=False)


@pytest.mark.parametrize("part", [
    (b"enterprises", b"\xff\xfe\xc0\xaf.csv", b"uscc,name,city\n"),  # a file name that is not UTF-8
    (b"note", None, b"\xe5\xb9\xbf\xff\xfe"),  # a field value that is not UTF-8
])
def test_staff_import_upload_with_undecodable_names_or_fields(app, client, login_as, part):
    login_as(f.make_user(role="staff"))
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = _multipart(client, "/staff/import", [part])
    assert resp.status_code == 400 and "UTF-8" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before
    stash = Path(app.instance_path) / "staff_imports"
    assert not stash.exists() or not any(stash.iterdir())


def test_malformed_multipart_body_is_a_400_not_an_empty_form(app, client):
    resp = client.post("/report?enterprise_id=1", data=b"--B\r\nnot a header\r\n",
                       content_type="multipart/form-data; boundary=B", csrf=False)
    assert resp.status_code == 400
    resp = client.post("/account/login", data={"email": "a@example.com", "f": (io.BytesIO(b"x"), "证据.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200  # valid UTF-8 file names pass
    assert extract_csrf(resp.get_data(as_text=True))


def test_routing_redirects_have_a_chinese_body(app, client):
    """Where the app controls the answer it is Chinese: werkzeug's "Redirecting..." page too."""
    resp = client.get("/merchant")
    assert resp.status_code == 308 and resp.headers["Location"].endswith("/merchant/")
    body = resp.get_data(as_text=True)
    assert "页面地址已变更" in body and "Redirecting" not in body
