"""Static files compressed at build time (issue 12 item 5): `flask build-static` runs WhiteNoise's
compressor once; a worker that starts only reads the build, and never serves a stale copy."""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.static_files import build_static, source_fingerprint

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def static_copy(tmp_path):
    """A private copy of static/ (the test edits a file in it)."""
    src = tmp_path / "static"
    shutil.copytree(ROOT / "static", src)
    return src


def _app(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SERVER_NAME_FOR_LINKS": "http://localhost"})
    return app


def _get(app, path):
    resp = app.test_client().get(path, headers={"Accept-Encoding": "gzip"})
    body = resp.get_data()
    resp.close()
    return resp, body


def test_build_compresses_and_a_starting_worker_builds_nothing(tmp_path):
    app = _app(tmp_path)
    build = Path(app.instance_path) / "static_build"
    assert not build.exists()  # create_app (a worker's start) never builds or compresses
    resp, body = _get(app, "/static/css/site.css")
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers

    result = app.test_cli_runner().invoke(args=["build-static"])
    assert result.exit_code == 0, result.output
    assert (build / "css" / "site.css.gz").exists() and (build / "css" / "site.css").exists()
    assert not list((ROOT / "static").rglob("*.gz"))  # the sources stay as they are

    again = _app(tmp_path)
    resp, body = _get(again, "/static/css/site.css")
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (ROOT / "static" / "css" / "site.css").read_bytes()
    assert "Accept-Encoding" in resp.headers["Vary"]


def test_an_edited_source_is_never_served_from_a_stale_build(tmp_path, static_copy):
    out = tmp_path / "build"
    build_static(static_copy, out)
    css = static_copy / "css" / "site.css"
    assert (out / ".source-fingerprint").read_text() == source_fingerprint(static_copy)
    css.write_text(css.read_text() + "\n/* edited */\n")
    os.utime(css, ns=(css.stat().st_atime_ns, css.stat().st_mtime_ns + 1_000_000_000))
    assert (out / ".source-fingerprint").read_text() != source_fingerprint(static_copy)
    build_static(static_copy, out)  # a rebuild replaces the whole folder
    assert gzip.decompress((out / "css" / "site.css.gz").read_bytes()).endswith(b"/* edited */\n")
    assert not list(tmp_path.glob("build.*"))  # no temporary folders left behind


def test_app_serves_sources_while_its_build_is_out_of_date(tmp_path):
    app = _app(tmp_path)
    assert app.test_cli_runner().invoke(args=["build-static"]).exit_code == 0
    fingerprint = Path(app.instance_path) / "static_build" / ".source-fingerprint"
    fingerprint.write_text("an older build")
    stale = _app(tmp_path)
    resp, _body = _get(stale, "/static/css/site.css")
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers
