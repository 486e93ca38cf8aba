"""Shared fixtures: ``app``, ``client``, ``runner``, ``db_session``, ``login_as``.

The database is SQLite in a temporary folder by default, or the PostgreSQL database named by
``TEST_DATABASE_URL`` (its tables are created once and emptied before each test). CSRF
protection stays on: the test client adds a valid token to every form POST unless a test passes
``csrf=False``, so the CSRF tests exercise the real protection.
"""
from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from marketplace import create_app
from marketplace.extensions import db
from marketplace.services.reference_data import seed_reference_data

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
_pg_schema_ready = False


class CSRFClient(FlaskClient):
    """A test client that fills in the CSRF token for form posts (pass ``csrf=False`` to skip)."""

    def open(self, *args, csrf: bool = True, **kwargs):
        _forget_request_globals()
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and "json" not in kwargs:
            data = kwargs.get("data")
            if data is None:
                data = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                data = dict(data)
                data["csrf_token"] = self.csrf_token()
                kwargs["data"] = data
        _forget_request_globals()
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """A token valid for this client's session (generated like a rendered form would)."""
        from flask import session
        from flask_wtf.csrf import generate_csrf

        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
        with self.application.test_request_context():
            _forget_request_globals()
            if raw:
                session["csrf_token"] = raw
            token = generate_csrf()
            raw = session["csrf_token"]
        with self.session_transaction() as sess:
            sess["csrf_token"] = raw
        return token


def _forget_request_globals() -> None:
    """Drop what Flask-Login and Flask-WTF cache in ``g`` for one request.

    The ``app`` fixture keeps an app context open, so every test request shares that context's
    ``g``: without this, the current user (``g._login_user``) and the CSRF token of an earlier
    request would leak into the next one instead of being read from its own cookies.
    """
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_login_user", None)
        g.pop("csrf_token", None)


def _reset_postgres() -> None:
    global _pg_schema_ready
    if not _pg_schema_ready:
        db.drop_all()
        db.create_all()
        _pg_schema_ready = True
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app_config(tmp_path):
    """Config overrides for the test app; tests may change it before ``app`` is built."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SECRET_KEY": "test-secret-key",
        "LOAD_DEMO_DATA": False,
        "SERVER_NAME_FOR_LINKS": "http://localhost",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing in tests only
        "PAGE_CACHE_SECONDS": 0,  # full-page cache off unless a test turns it on (tests/test_page_cache.py)
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = CSRFClient
    with app.app_context():
        if TEST_DATABASE_URL:
            _reset_postgres()
        else:
            db.create_all()
        seed_reference_data()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Log ``client`` in as ``user`` by setting the Flask-Login session directly."""

    def _login(user, target_client=None):
        c = target_client or client
        with c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return c

    return _login


def extract_csrf(html: str) -> str | None:
    """The csrf_token value in a rendered form, for tests that post like a browser does."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else None


class AuthActions:
    """Register, log in and log out through the real account forms (H4a)."""

    def __init__(self, client):
        self.client = client

    def register(self, email: str, password: str = "correct horse battery", confirm: str | None = None,
                 agree: bool = True, follow_redirects: bool = False, **extra):
        self.client.get("/account/register")
        data = {"email": email, "password": password,
                "confirm": password if confirm is None else confirm, **extra}
        if agree:
            data["agree"] = "y"
        return self.client.post("/account/register", data=data, follow_redirects=follow_redirects)

    def login(self, email: str, password: str = "correct horse battery", remember: bool = False,
              next: str | None = None, follow_redirects: bool = False, environ_base: dict | None = None):
        self.client.get("/account/login")
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        if next is not None:
            data["next"] = next
        return self.client.post("/account/login", data=data, follow_redirects=follow_redirects,
                                environ_base=environ_base or {})

    def logout(self, follow_redirects: bool = False):
        return self.client.post("/account/logout", follow_redirects=follow_redirects)


@pytest.fixture
def auth(client) -> AuthActions:
    """``auth.register(email, password)``, ``auth.login(email, password)``, ``auth.logout()``."""
    return AuthActions(client)
