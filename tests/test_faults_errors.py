"""What users see when the database cannot serve: a clear 503 page in Chinese, quickly, with
Retry-After — not a bug's 500, not a hang (bench/faults.py exercises the same against PostgreSQL)."""
from __future__ import annotations

import time

from marketplace import create_app


def test_unreachable_database_gives_a_quick_503_page(tmp_path):
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-dir' / 'gone.sqlite3'}",  # cannot be opened
        "SEARCH_INDEX_DIR": str(tmp_path / "index"), "SEARCH_SYNC_INLINE": False, "LOAD_DEMO_DATA": False,
    })
    client = app.test_client()
    for path in ("/", "/enterprises", "/enterprises/1"):
        started = time.monotonic()
        resp = client.get(path)
        assert resp.status_code == 503, (path, resp.status_code)
        assert resp.headers.get("Retry-After")
        assert "服务暂时不可用" in resp.get_data(as_text=True)
        assert time.monotonic() - started < 5
        assert "Content-Security-Policy" in resp.headers
    api = client.get("/api/v1/enterprises")
    assert api.status_code == 503 and "error" in api.get_json()


def test_a_bug_is_still_a_500(app, client):
    @app.route("/_h7_boom")
    def boom():
        raise RuntimeError("a bug, not an outage")

    resp = client.get("/_h7_boom")
    assert resp.status_code == 500
    assert "服务器出错了" in resp.get_data(as_text=True)
