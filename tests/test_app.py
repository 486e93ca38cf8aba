"""Application skeleton: config, error pages, security headers, safe redirects, migrations."""
import pytest
from sqlalchemy import inspect

from marketplace.extensions import db
from marketplace.security import safe_next


def test_home_renders_in_chinese(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "广货网上行" in resp.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ("/", "/no-such-page"):
        resp = client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        csp = resp.headers["Content-Security-Policy"]
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'"):
            assert directive in csp


def test_404_page_in_chinese(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "页面不存在" in resp.get_data(as_text=True)


def test_api_errors_are_json(client):
    resp = client.get("/api/no-such-endpoint")
    assert resp.status_code == 404
    assert "error" in resp.get_json()


def test_500_rolls_back_and_shows_chinese_page(app, client):
    from marketplace.models import Industry

    @app.route("/_boom")
    def boom():
        db.session.add(Industry(name="不应保存", slug="should-not-persist"))
        db.session.flush()
        raise RuntimeError("boom")

    resp = client.get("/_boom")
    assert resp.status_code == 500
    assert "服务器出错了" in resp.get_data(as_text=True)
    assert db.session.query(Industry).filter_by(slug="should-not-persist").count() == 0


def test_413_for_oversized_body(app, client):
    from flask import request

    @app.route("/_upload", methods=["POST"])
    def upload():
        return str(len(request.get_data()))

    resp = client.post("/_upload", data=b"x" * (9 * 1024 * 1024), content_type="application/octet-stream",
                       csrf=False)
    assert resp.status_code == 413
    assert "过大" in resp.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\t/evil.example", "\t//evil.example", "https:evil.example",
    "http://x@evil.example", "javascript:alert(1)", "/\\evil.example", "", None, "evil.example",
])
def test_safe_next_refuses_offsite(target):
    assert safe_next(target) == "/"


def test_safe_next_keeps_local_paths():
    assert safe_next("/merchant/?tab=shops") == "/merchant/?tab=shops"


def test_secret_key_generated_and_kept(tmp_path):
    from marketplace.config import load_config

    first = load_config(str(tmp_path), {"TESTING": True})["SECRET_KEY"]
    second = load_config(str(tmp_path), {"TESTING": True})["SECRET_KEY"]
    assert first == second and len(first) >= 32


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    from marketplace.config import load_config

    monkeypatch.setenv("PER_PAGE", "7")
    assert load_config(str(tmp_path), {"TESTING": True})["PER_PAGE"] == 7


def test_migrations_match_models(tmp_path):
    """`init-db` (Alembic) must build exactly the schema the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from marketplace import create_app
    from marketplace.cli import init_database
    from marketplace.models.base import for_dialect

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}", "SECRET_KEY": "x"})
    with app.app_context():
        init_database()
        with db.engine.connect() as conn:
            opts = {"compare_type": False, "include_object": for_dialect(conn.dialect.name)}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        assert diff == [], diff
        assert "enterprise" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_init_db_command_is_idempotent(tmp_path):
    from marketplace import create_app
    from marketplace.models import City

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(City).count() == 21
        db.engine.dispose()
