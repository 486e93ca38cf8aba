"""Rate limits are global across gunicorn workers (issue 11, item 4).

Real gunicorn (gunicorn.conf.py, the production shape) with three sync workers counting in the
machine's Redis: the 11th wrong password for one account within the window gets 429, although
the attempts were answered by different worker processes (read from the access log). With the
old per-process ``memory://`` counters each worker allowed 10.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"
EMAIL, PASSWORD = "owner@example.com", "a long and correct passphrase"

pytestmark = pytest.mark.slow

PREPARE = """
from marketplace import create_app
from marketplace.extensions import db
from marketplace.services import accounts
from marketplace.services.reference_data import seed_reference_data
import e2e_wsgi
app = e2e_wsgi.create()
with app.app_context():
    db.create_all()
    seed_reference_data()
    accounts.create_user({email!r}, {password!r})
    db.session.commit()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One visitor with a cookie jar; every request on a new connection (any worker may take it)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


@pytest.fixture
def site(tmp_path):
    """gunicorn with 3 workers on a SQLite file; the rate-limit store is gunicorn.conf.py's default
    (the machine's Redis), under a key prefix of this test's own."""
    import redis

    namespace = f"test-sec-gunicorn-{uuid.uuid4().hex[:12]}"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "FLASK_"))}
    env.update(
        E2E_INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        SEARCH_INDEX_DIR=str(tmp_path / "index"), SECRET_KEY="gunicorn-test-secret",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests" / "e2e")]),
        SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{port}", RATELIMIT_NAMESPACE=namespace,
        PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", GUNICORN_WARMUP="0",
        PAGE_CACHE_SECONDS="0", LOAD_DEMO_DATA="false", MAIL_SERVER="",
    )
    subprocess.run([sys.executable, "-c", PREPARE.format(email=EMAIL, password=PASSWORD)], env=env, cwd=ROOT,
                   check=True, timeout=300)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
             "--workers", "3", "--access-logformat", "ACCESS pid=%(p)s %(m)s %(U)s %(s)s", "e2e_wsgi:create()"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", log_path, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        conn = redis.Redis.from_url(REDIS_URL)
        keys = list(conn.scan_iter(f"{namespace}*"))
        if keys:
            conn.delete(*keys)
        conn.close()


def _answered_by(log_path: Path, method: str, path: str) -> list[int]:
    """Worker pids that answered ``method path``, in order, from gunicorn's access log."""
    pattern = re.compile(rf"ACCESS pid=<(\d+)> {method} {re.escape(path)} ")
    return [int(m.group(1)) for m in pattern.finditer(log_path.read_text())]


def _wait_for_workers(base: str, log_path: Path, proc, workers: int = 3) -> None:
    """Until every worker has loaded the app and answered at least once."""
    deadline = time.monotonic() + 240
    while len(set(_answered_by(log_path, "GET", "/robots.txt"))) < workers:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, "workers did not all start:\n" + log_path.read_text()[-3000:]
        try:
            urllib.request.urlopen(base + "/robots.txt", timeout=30).close()
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)


def test_eleventh_wrong_password_is_refused_across_workers(site):
    base, log_path, proc = site
    _wait_for_workers(base, log_path, proc)
    browser = Browser(base)
    status, html = browser.request("/account/login")
    assert status == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "email": EMAIL, "password": "a wrong passphrase, again"}
    # Ten wrong guesses at once, so the three sync workers each take some (one after another, on a
    # busy machine, the same worker may win every accept()); then the eleventh.
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: browser.request("/account/login", form)[0], range(10)))
    codes.append(browser.request("/account/login", form)[0])
    assert codes == [200] * 10 + [429]
    time.sleep(0.5)  # the access log line is written after the response
    pids = _answered_by(log_path, "POST", "/account/login")
    assert len(pids) == 11
    assert len(set(pids)) >= 2, f"all attempts went to one worker ({pids}): the test proves nothing"
    # The right password waits too until the window ends (the account is throttled, not the guess).
    assert browser.request("/account/login", {**form, "password": PASSWORD})[0] == 429
