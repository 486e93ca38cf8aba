"""Login throttling: per account and per address, only failures count, the owner gets back in
after the window; register / forgot-password posts are throttled too."""
from __future__ import annotations

import time

import pytest

from marketplace.extensions import db
from tests.factories import make_user

PW = "correct horse battery"
WRONG = "wrong horse battery"


def is_logged_in(client) -> bool:
    return client.get("/account/password").status_code == 200


@pytest.fixture
def clock(monkeypatch):
    """Move time forward for the rate-limit windows (the limiter's memory storage reads time.time)."""
    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def test_twenty_wrong_passwords_throttled_then_owner_gets_back_in(app, client, auth, clock):
    make_user(email="owner@example.com")
    db.session.commit()
    codes = [auth.login("owner@example.com", WRONG).status_code for _ in range(20)]
    assert codes[:10] == [200] * 10  # LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    assert codes[10:] == [429] * 10
    resp = auth.login("owner@example.com", WRONG)
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert "操作过于频繁" in html and "<title>" in html  # the Chinese error page
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    # while the account is throttled, even the right password waits (and nothing leaks)
    assert auth.login("owner@example.com", PW).status_code == 429
    assert not is_logged_in(client)
    # the throttle is per account: another account from the same address is unaffected
    make_user(email="other@example.com")
    db.session.commit()
    assert auth.login("other@example.com", PW).status_code == 302
    auth.logout()
    # after the window the owner logs in normally
    clock(15 * 60 + 1)
    resp = auth.login("owner@example.com", PW)
    assert resp.status_code == 302
    assert is_logged_in(client)


def test_account_limit_shared_across_email_spellings_and_addresses(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    spellings = ["owner@example.com", "Owner@Example.com", " OWNER@example.com "]
    for n in range(10):
        resp = auth.login(spellings[n % 3], WRONG, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert resp.status_code == 200
    resp = auth.login("OWNER@EXAMPLE.COM", WRONG, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert resp.status_code == 429


def test_unknown_email_throttled_like_a_real_one(app, client, auth):
    """Throttling does not reveal whether an account exists."""
    make_user(email="owner@example.com")
    db.session.commit()
    real = [auth.login("owner@example.com", WRONG).status_code for _ in range(11)]
    ghost = [auth.login("ghost@example.com", WRONG).status_code for _ in range(11)]
    assert real == ghost == [200] * 10 + [429]


def test_only_failures_count(app, client, auth):
    make_user(email="owner@example.com")
    db.session.commit()
    for _ in range(15):  # more successes than the limit allows failures
        assert auth.login("owner@example.com", PW).status_code == 302
        auth.logout()
    for _ in range(9):
        assert auth.login("owner@example.com", WRONG).status_code == 200
    assert auth.login("owner@example.com", PW).status_code == 302


@pytest.fixture
def strict_ip(app_config):
    app_config["LOGIN_LIMIT_PER_IP"] = "5 per 15 minutes"
    return app_config


def test_per_ip_limit(strict_ip, app, client, auth, clock):
    make_user(email="owner@example.com")
    db.session.commit()
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    for n in range(5):  # spraying different accounts from one address
        assert auth.login(f"victim{n}@example.com", WRONG, environ_base=attacker).status_code == 200
    assert auth.login("victim9@example.com", WRONG, environ_base=attacker).status_code == 429
    assert auth.login("owner@example.com", PW, environ_base=attacker).status_code == 429
    # another address is not affected
    assert auth.login("owner@example.com", PW, environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code == 302
    auth.logout()
    clock(15 * 60 + 1)
    assert auth.login("owner@example.com", PW, environ_base=attacker).status_code == 302


@pytest.fixture
def limit_settings(app_config, request):
    """Apply the test's parametrised config keys before ``app`` is built."""
    app_config.update(request.param)
    return request.param


@pytest.mark.parametrize("limit_settings, expected", [
    ({"LOGIN_LIMIT_PER_ACCOUNT": "2 per minute", "RATELIMIT_ENABLED": True}, [200, 200, 429]),
    ({"LOGIN_LIMIT_PER_ACCOUNT": "2 per minute", "RATELIMIT_ENABLED": False}, [200, 200, 200]),
], indirect=["limit_settings"])
def test_limits_configurable_and_can_be_disabled(limit_settings, app, auth, expected):
    assert [auth.login("x@example.com", WRONG).status_code for _ in range(3)] == expected


def test_forgot_password_mail_throttled_per_account(app, client):
    make_user(email="owner@example.com")
    db.session.commit()
    codes = [client.post("/account/forgot", data={"email": "owner@example.com"}).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]
    from marketplace.services.mail import read_outbox

    assert len(read_outbox()) == 5


@pytest.mark.parametrize("limit_settings", [{"ACCOUNT_FORM_LIMIT": "3 per hour"}], indirect=True)
def test_register_throttled_per_address(limit_settings, app, auth):
    # failed attempts (typos) do not count
    assert auth.register("a@example.com", "short").status_code == 200
    codes = []
    for n in range(4):
        codes.append(auth.register(f"shop{n}@example.com", "a sunny day in foshan").status_code)
        auth.logout()
    assert codes == [302, 302, 302, 429]


@pytest.mark.parametrize("limit_settings", [{"LOGIN_LIMIT_PER_IP": "3 per 15 minutes", "PROXY_COUNT": 0}],
                         indirect=True)
def test_forged_forwarded_for_does_not_bypass_ip_limit(limit_settings, app, client, auth):
    """Without a configured proxy, X-Forwarded-For is the client's own claim and is ignored."""
    codes = []
    for n in range(4):
        client.get("/account/login")
        codes.append(client.post("/account/login", data={"email": f"v{n}@example.com", "password": WRONG},
                                 headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code)
    assert codes == [200, 200, 200, 429]
    assert auth.login("v9@example.com", WRONG).status_code == 429


@pytest.mark.parametrize("limit_settings", [{"LOGIN_LIMIT_PER_IP": "3 per 15 minutes", "PROXY_COUNT": 1}],
                         indirect=True)
def test_behind_a_proxy_each_client_has_its_own_ip_limit(limit_settings, app, client):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def attempt(ip: str) -> int:
        client.get("/account/login")
        return client.post("/account/login", data={"email": f"{ip}@example.com", "password": WRONG},
                           headers={"X-Forwarded-For": ip}, environ_base=proxy).status_code

    assert [attempt("198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
    assert attempt("198.51.100.2") == 200  # another client behind the same proxy


# --- counters shared in Redis (RATELIMIT_STORAGE_URI=redis://), and Redis down ----------------

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_namespace():
    """A key prefix of this test's own in the machine's Redis; its keys are deleted afterwards."""
    import uuid

    import redis

    namespace = f"test-sec-{uuid.uuid4().hex[:12]}"
    yield namespace
    conn = redis.Redis.from_url(REDIS_URL)
    keys = list(conn.scan_iter(f"{namespace}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.fixture
def redis_limits(app_config, redis_namespace):
    app_config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_NAMESPACE=redis_namespace)
    return app_config


def test_redis_storage_throttles(redis_limits, app, client, auth):
    from limits.storage import RedisStorage

    from marketplace.extensions import limiter

    assert isinstance(limiter.storage, RedisStorage) and limiter.storage.check()
    make_user(email="owner@example.com")
    db.session.commit()
    codes = [auth.login("owner@example.com", WRONG).status_code for _ in range(12)]
    assert codes == [200] * 10 + [429, 429]
    assert auth.login("owner@example.com", PW).status_code == 429


_WORKER = """
import json, sys
from marketplace import create_app
cfg = json.loads(sys.argv[1])
app = create_app(cfg)
with app.app_context():
    client = app.test_client()
    codes = [client.post("/account/login", data={"email": "x@example.com", "password": "wrong horse battery"}
                         ).status_code for _ in range(int(sys.argv[2]))]
print(json.dumps(codes))
"""


def _other_process(app_config: dict, attempts: int) -> list[int]:
    """Failed logins from a separate process (think: another gunicorn worker) on the same stores."""
    import json
    import os
    import subprocess
    import sys

    cfg = {k: v for k, v in app_config.items() if isinstance(v, (str, int, bool))}
    cfg["WTF_CSRF_ENABLED"] = False  # this process only counts attempts; CSRF is tested elsewhere
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", _WORKER, json.dumps(cfg), str(attempts)], cwd=root,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def shared_storage(app_config, redis_namespace, request):
    """The test's storage URI (parametrised) with a tight account limit, before ``app`` is built."""
    app_config.update(RATELIMIT_STORAGE_URI=request.param, RATELIMIT_NAMESPACE=redis_namespace,
                      LOGIN_LIMIT_PER_ACCOUNT="4 per 15 minutes")
    return app_config


@pytest.mark.parametrize("shared_storage, expected", [
    (REDIS_URL, [200, 200, 429]),
    ("memory://", [200, 200, 200]),  # the contrast: each process counts for itself
], indirect=["shared_storage"])
def test_redis_storage_is_shared_between_processes(shared_storage, app, auth, expected):
    assert _other_process(shared_storage, 2) == [200, 200]
    assert [auth.login("x@example.com", WRONG).status_code for _ in range(3)] == expected


@pytest.fixture
def redis_down(app_config, redis_namespace):
    """Counters in a Redis that does not answer (nothing listens on port 1)."""
    from marketplace.extensions import limiter

    app_config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_NAMESPACE=redis_namespace)
    yield app_config
    # The limiter object outlives this test's app (one per process): forget that its store was
    # found dead, or the next app in this process would count in memory until the back-off retry.
    limiter._storage_dead = False


def test_redis_down_forms_fail_closed(redis_down, app, client, auth):
    """Login, registration, the reset mail and a complaint report answer 503 in Chinese and do
    nothing; nobody gets unlimited password guesses while the store is away."""
    from marketplace.models import User
    from marketplace.services.mail import read_outbox

    make_user(email="owner@example.com")
    db.session.commit()
    for _ in range(3):
        resp = auth.login("owner@example.com", PW)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
        assert "暂时不可用" in resp.get_data(as_text=True)
    assert not is_logged_in(client)
    assert auth.register("new@example.com", "a sunny day in foshan").status_code == 503
    assert db.session.query(User).filter_by(email="new@example.com").first() is None
    assert client.post("/account/forgot", data={"email": "owner@example.com"}).status_code == 503
    assert read_outbox() == []


def test_redis_down_reads_fail_open(redis_down, app, client):
    """Pages, the login form itself and the API keep answering, limited per process meanwhile."""
    for path in ("/", "/account/login", "/api/v1/platforms", "/api/v1/enterprises", "/complaints/lookup?ref=x"):
        assert client.get(path).status_code == 200, path
    codes = {client.get("/api/v1/platforms").status_code for _ in range(125)}  # API_RATE_LIMIT 120/minute
    assert codes == {200, 429}
