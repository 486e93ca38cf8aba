"""Browser journeys against the real server: gunicorn (gunicorn.conf.py) + the search applier.

One server per test session, in a fresh instance folder: SQLite by default, or the PostgreSQL
database named by TEST_DATABASE_URL (its schema is dropped and recreated). The demo data is
loaded and an admin account created before the first journey.

Headless Chromium is Debian's (/usr/bin/chromium, or E2E_CHROMIUM); no browser is ever
downloaded. Every page a test opens fails the test on a console error, an uncaught exception,
a failed request, or a 4xx/5xx answer from this site (unless the test says it expects one).
Screenshots go to tests/artifacts/ at phone (390 px) and desktop (1280 px) widths.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ADMIN_EMAIL = "admin@e2e.example"
ADMIN_PASSWORD = "e2e-Staff-Passw0rd!"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drop_postgres_schema(url: str) -> None:
    """Start the PostgreSQL run from an empty schema (the migration creates everything)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class LiveServer:
    """The running site: base URL, environment, and a way to run CLI commands against it."""

    def __init__(self, base_url: str, env: dict[str, str], instance: Path):
        self.base_url = base_url
        self.env = env
        self.instance = instance

    def url(self, path: str) -> str:
        return self.base_url + path

    def flask(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``flask --app e2e_wsgi:create ARGS`` against the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", *args],
            env=self.env, cwd=ROOT, input=input, capture_output=True, text=True, timeout=120, check=check,
        )

    def sql(self, statement: str, **params):
        """Run one SQL statement on the server's database and return all rows (for checks)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return result.fetchall() if result.returns_rows else []
        finally:
            engine.dispose()


def _has_search_sync(env) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", "search", "--help"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    return out.returncode == 0 and "sync" in out.stdout


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Start gunicorn (2 workers) and the search applier on a free port; stop them at the end."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    db_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'e2e.sqlite3'}"
    if db_url.startswith("postgresql"):
        _drop_postgres_schema(db_url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "FLASK_"))}
    env.update(
        DATABASE_URL=db_url,
        SEARCH_INDEX_DIR=str(instance / "index"),
        SECRET_KEY="e2e-secret-key-not-for-production",
        E2E_INSTANCE_PATH=str(instance),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(E2E_DIR)]),
        LOAD_DEMO_DATA="false",
        MAIL_SERVER="",
        SERVER_NAME_FOR_LINKS=f"http://127.0.0.1:{port}",  # required by the production shape
        RATELIMIT_NAMESPACE=f"e2e-{port}-{os.getpid()}",  # this run's own counters in the shared Redis
    )
    started = time.monotonic()
    subprocess.run([sys.executable, str(E2E_DIR / "e2e_wsgi.py")], env=env, cwd=ROOT, check=True, timeout=600)
    print(f"e2e: data prepared in {time.monotonic() - started:.1f}s", file=sys.stderr)
    made = subprocess.run(  # the first admin, made the documented way
        [sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", "create-user", "--role", "admin",
         ADMIN_EMAIL, "--password-stdin"],
        env=env, cwd=ROOT, input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    subprocess.run([sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", "build-static"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=120)  # compressed static files, as in production
    procs: list[subprocess.Popen] = []
    logs = []
    if _has_search_sync(env):
        env["SEARCH_SYNC_INLINE"] = "false"
        log = open(instance / "applier.log", "w")
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "e2e_wsgi:create", "search", "sync", "--loop"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        ))
    else:
        env["SEARCH_SYNC_INLINE"] = "true"  # no separate applier yet: the workers apply the outbox
    log = open(instance / "gunicorn.log", "w")
    logs.append(log)
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "3", "e2e_wsgi:create()"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    ))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            pytest.fail("server did not start:\n" + (instance / "gunicorn.log").read_text()[-4000:])
        time.sleep(0.3)
    print(f"e2e: server answering after {time.monotonic() - started:.1f}s", file=sys.stderr)
    try:
        yield LiveServer(base, env, instance)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in logs:
            fh.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class PageProblems:
    """What went wrong in a browser context: console errors, page errors, failed requests."""

    def __init__(self, origin: str):
        self.origin = origin
        self.items: list[str] = []
        self.allowed: list[tuple[re.Pattern, int]] = []

    def allow(self, url_pattern: str, status: int) -> None:
        """Expect ``status`` for URLs matching ``url_pattern`` (e.g. a deliberate 404)."""
        self.allowed.append((re.compile(url_pattern), status))

    def on_console(self, msg) -> None:
        if msg.type == "error":
            text = msg.text
            # Chromium logs the expected 4xx of a page we asked for; that is judged by on_response.
            if "Failed to load resource" in text and any(p.search(msg.location.get("url", "")) for p, _ in self.allowed):
                return
            self.items.append(f"console error: {text} at {msg.location}")

    def on_pageerror(self, exc) -> None:
        self.items.append(f"uncaught exception: {exc}")

    def on_requestfailed(self, request) -> None:
        if request.url.startswith(self.origin):
            self.items.append(f"request failed: {request.method} {request.url} {request.failure}")

    def on_response(self, response) -> None:
        if not response.url.startswith(self.origin) or response.status < 400:
            return
        if any(p.search(response.url) and s == response.status for p, s in self.allowed):
            return
        self.items.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item so fixtures can tell whether the test failed."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def new_context(browser, live_server, request):
    """A factory of fresh browser contexts (one per user); all are checked for problems at the end.

    When the test failed, every page still open is saved as tests/artifacts/FAILED-<test>-<n>.png.
    """
    made = []

    def _make(**kwargs):
        problems = PageProblems(live_server.base_url)
        ctx = browser.new_context(
            base_url=live_server.base_url, viewport=DESKTOP, locale="zh-CN",
            timezone_id="Asia/Shanghai", **kwargs,
        )
        ctx.set_default_timeout(15_000)
        # Shop links lead to e-commerce platforms that cannot be reached from here: answer
        # off-site requests with a stub page. (Chromium does not route the request that a server
        # redirect such as /go/<id> leads to; that one simply fails, off-site, and is not counted.)
        ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8",
            body="<!doctype html><title>platform stub</title><p>off-site platform</p>",
        ))
        ctx.on("page", lambda page: _watch(page, problems))
        ctx.requested = []  # every URL the browser asked for, off-site ones included
        ctx.on("request", lambda req: ctx.requested.append(req.url))
        ctx.problems = problems
        made.append(ctx)
        return ctx

    yield _make
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for n, pg in enumerate(p for ctx in made for p in ctx.pages):
            try:
                pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{n}.png"), full_page=True)
            except Exception:  # the page may be gone; the failure itself is what matters
                pass
    failures = []
    for ctx in made:
        failures.extend(ctx.problems.items)
        ctx.close()
    assert not failures, "browser problems:\n" + "\n".join(failures)


def _watch(page, problems: PageProblems) -> None:
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_pageerror)
    page.on("requestfailed", problems.on_requestfailed)
    page.on("response", problems.on_response)


@pytest.fixture
def page(new_context):
    """A page in a fresh context (an anonymous consumer)."""
    return new_context().new_page()


def shoot(page, name: str) -> list[Path]:
    """Save full-page screenshots of the current page at phone and desktop widths."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    paths = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        path = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(original)
    return paths


def login(page, email: str, password: str) -> None:
    """Log in through the login form like a user does."""
    page.goto("/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts():
    """Start each run with an empty artifacts folder so stale screenshots never mislead."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield


def licence_image(path: Path, title: str = "BUSINESS LICENCE") -> Path:
    """A generated PNG standing in for a photographed 营业执照 (the demo data's generator: Latin
    text only, a bordered sheet with lines of "text" and a red seal)."""
    from marketplace.services.demo_applications import demo_licence

    path.write_bytes(demo_licence(title))
    return path


def fill_evidence(page, licence: Path, *, legal_rep: str = "陈立信") -> None:
    """Fill the evidence part of an application form (licence file and the people)."""
    page.set_input_files("input[name=licence]", str(licence))
    page.fill("input[name=legal_representative]", legal_rep)
    page.fill("input[name=registered_address]", "广东省佛山市顺德区乐从镇家具大道 88 号")
    page.fill("input[name=contact_name]", "林小姐")
    page.fill("input[name=contact_mobile]", "138 0013 8000")
    page.fill("input[name=contact_email]", "ecommerce@evidence-e2e.example")


def mark_codes_verified(page) -> None:
    """On a review page: mark every shop's verification code as checked."""
    for radio in page.locator("#shop-codes input[type=radio][value=verified]").all():
        radio.check()


def eventually(check, timeout: float = 20.0, interval: float = 0.5):
    """Retry ``check`` until it returns a truthy value (the search applier and the page caches
    catch up within a second or two); returns its last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def need(state: dict, *keys) -> None:
    """Journeys in one file build on each other: fail clearly when an earlier one did not finish."""
    missing = [k for k in keys if k not in state]
    if missing:
        pytest.fail(f"an earlier journey did not finish (missing {missing})")
