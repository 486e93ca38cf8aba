"""Accounts service and the ``create-user`` command: email normalisation, password policy,
authentication, password change, enabling/disabling, reset tokens."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Role, User
from marketplace.services import ServiceError
from marketplace.services import accounts
from tests.factories import make_user

GOOD = "a sunny day in foshan"


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_user_normalises_email_and_hashes(app):
    user = accounts.create_user("  Foo.Bar@Example.COM ", GOOD)
    assert user.email == "foo.bar@example.com"
    assert user.role == Role.MERCHANT and user.is_enabled
    assert GOOD not in user.password_hash and user.password_hash.startswith("pbkdf2:sha256:1000$")
    assert accounts.authenticate("FOO.BAR@example.com", GOOD) is user


@pytest.fixture
def default_hashing(app_config):
    app_config.pop("PASSWORD_HASH_METHOD")  # back to the production default


def test_default_hash_method_is_scrypt(default_hashing, app):
    user = accounts.create_user("scrypt@example.com", GOOD)
    assert user.password_hash.startswith("scrypt:")
    assert accounts.authenticate("scrypt@example.com", GOOD) is user


def test_duplicate_email_after_normalisation_refused(app):
    accounts.create_user("foo@example.com", GOOD)
    with pytest.raises(ServiceError, match="已注册"):
        accounts.create_user("Foo@Example.com ", GOOD + "x")
    assert user_count() == 1


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "x@localhost", "a\x00b@example.com",
                                   "a@exa\u202emple.com", "a" * 250 + "@example.com"])
def test_bad_emails_refused(app, email):
    with pytest.raises(ServiceError):
        accounts.create_user(email, GOOD)
    assert user_count() == 0


@pytest.mark.parametrize("password, message", [
    ("short1234", "至少需要 10 个字符"),
    ("", "至少需要 10 个字符"),
    ("1234567890", "过于常见"),
    ("qwertyuiop", "过于常见"),
    ("woaini1314", "过于常见"),
    ("5201314520", "过于常见"),
    ("Password123", "过于常见"),
    ("aaaaaaaaaaaa", "过于常见|过于简单"),
    ("abababababab", "过于简单"),
    ("merchant.wang2025", "邮箱名"),
    ("x" * 1025, "不能超过 1024"),
    ("good passphrase\x00here", "控制字符"),
])
def test_password_policy(app, password, message):
    with pytest.raises(ServiceError, match=message):
        accounts.create_user("merchant.wang@example.com", password)
    assert user_count() == 0


def test_long_passwords_accepted(app):
    for n, length in enumerate((64, 200, 1024)):
        pw = ("广货网上行 long passphrase " * 60)[:length]
        user = accounts.create_user(f"long{n}@example.com", pw)
        assert accounts.authenticate(user.email, pw) is user


def test_authenticate_failures_return_none(app):
    user = make_user(email="owner@example.com")
    assert accounts.authenticate("owner@example.com", "correct horse battery") is user
    assert accounts.authenticate("owner@example.com", "wrong horse battery") is None
    assert accounts.authenticate("nobody@example.com", "correct horse battery") is None
    assert accounts.authenticate("not an email", "correct horse battery") is None
    assert accounts.authenticate("owner@example.com", "") is None
    assert accounts.authenticate("owner@example.com", "x" * 5000) is None


def test_unknown_email_costs_a_hash_check(app, monkeypatch):
    """Unknown emails verify a dummy hash, so both failure kinds cost one hash computation."""
    import marketplace.services.accounts as mod

    calls = []
    real = mod.check_password_hash
    monkeypatch.setattr(mod, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    make_user(email="owner@example.com")
    accounts.authenticate("nobody@example.com", "whatever password")
    accounts.authenticate("owner@example.com", "whatever password")
    assert len(calls) == 2


def test_disabled_account_cannot_authenticate(app):
    user = make_user(email="off@example.com")
    accounts.set_enabled(user, False)
    with pytest.raises(ServiceError, match="停用"):
        accounts.authenticate("off@example.com", "correct horse battery")
    assert accounts.authenticate("off@example.com", "wrong password here") is None


def test_change_password_rotates_token(app):
    user = make_user(email="change@example.com")
    token = user.session_token
    with pytest.raises(ServiceError, match="当前密码不正确"):
        accounts.change_password(user, "not my password", GOOD)
    assert user.session_token == token
    with pytest.raises(ServiceError, match="相同"):
        accounts.change_password(user, "correct horse battery", "correct horse battery")
    with pytest.raises(ServiceError, match="过于常见"):
        accounts.change_password(user, "correct horse battery", "1234567890")
    accounts.change_password(user, "correct horse battery", GOOD)
    assert user.session_token != token
    assert accounts.authenticate("change@example.com", GOOD) is user
    assert accounts.authenticate("change@example.com", "correct horse battery") is None


def test_set_enabled_rotates_token(app):
    user = make_user()
    token = user.session_token
    accounts.set_enabled(user, False)
    assert not user.is_enabled and user.session_token != token
    token = user.session_token
    accounts.set_enabled(user, True)
    assert user.is_enabled and user.session_token != token


def test_reset_token_single_use(app):
    user = make_user(email="reset@example.com")
    token = accounts.make_reset_token(user)
    assert accounts.user_for_reset_token(token) is user
    accounts.reset_password(token, GOOD)
    assert accounts.user_for_reset_token(token) is None
    with pytest.raises(ServiceError, match="无效或已过期"):
        accounts.reset_password(token, GOOD + " again")
    assert accounts.authenticate("reset@example.com", GOOD) is user


def test_reset_token_expires(app, monkeypatch):
    user = make_user()
    token = accounts.make_reset_token(user)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + app.config["PASSWORD_RESET_MAX_AGE"] - 30)
    assert accounts.user_for_reset_token(token) is user
    monkeypatch.setattr(time, "time", lambda: real() + app.config["PASSWORD_RESET_MAX_AGE"] + 5)
    assert accounts.user_for_reset_token(token) is None


@pytest.mark.parametrize("token", ["", "abc", "x" * 600, "eyJ1IjoxLCJwIjoieCJ9.AAAA.BBBB"])
def test_reset_token_garbage(app, token):
    make_user()
    assert accounts.user_for_reset_token(token) is None


def test_reset_token_for_other_secret_refused(app):
    user = make_user()
    token = accounts.make_reset_token(user)
    app.config["SECRET_KEY"] = "another-secret"
    assert accounts.user_for_reset_token(token) is None


def test_reset_token_of_disabled_user_refused(app):
    user = make_user()
    token = accounts.make_reset_token(user)
    user.is_enabled = False
    assert accounts.user_for_reset_token(token) is None


# --- create-user command ------------------------------------------------------------------------

def test_cli_create_admin_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "--role", "admin", "Boss@Example.com", "--password-stdin"],
                           input="the first admin of gdws\n")
    assert result.exit_code == 0, result.output
    assert "已创建管理员账号：boss@example.com" in result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert user.role == Role.ADMIN and user.is_staff
    assert accounts.authenticate("boss@example.com", "the first admin of gdws") == user


def test_cli_prompts_twice(app, runner):
    result = runner.invoke(args=["create-user", "--role", "staff", "staff@example.com"],
                           input="team member phrase 88\nteam member phrase 88\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "staff@example.com"))
    assert user.role == Role.STAFF


def test_cli_mismatched_prompt_asks_again(app, runner):
    result = runner.invoke(args=["create-user", "staff2@example.com"],
                           input="staff passphrase 88\nsomething else 99\nstaff passphrase 88\nstaff passphrase 88\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "staff2@example.com")).role == Role.MERCHANT


@pytest.mark.parametrize("password, message", [("woaini1314", "过于常见"), ("short", "至少需要 10 个字符")])
def test_cli_refuses_weak_password(app, runner, password, message):
    result = runner.invoke(args=["create-user", "--role", "admin", "weak@example.com", "--password-stdin"],
                           input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert user_count() == 0


def test_cli_refuses_duplicate_and_bad_role(app, runner):
    make_user(email="dupe@example.com")
    db.session.commit()
    result = runner.invoke(args=["create-user", "DUPE@example.com", "--password-stdin"], input=GOOD + "\n")
    assert result.exit_code != 0 and "已注册" in result.output
    result = runner.invoke(args=["create-user", "--role", "root", "x@example.com", "--password-stdin"],
                           input=GOOD + "\n")
    assert result.exit_code != 0
    assert user_count() == 1


def test_concurrent_duplicate_registration_is_a_clean_refusal(app):
    """Two requests for the same address at once: the loser gets the Chinese message, not a 500."""
    from sqlalchemy import insert

    import marketplace.services.accounts as mod

    db.session.execute(insert(User).values(email="race@example.com", password_hash="x", role="merchant",
                                           display_name="", is_enabled=True, session_token="t"))
    # simulate the window between the uniqueness check and the insert
    real = mod.get_by_email
    mod.get_by_email = lambda email: None
    try:
        with pytest.raises(ServiceError, match="已注册"):
            accounts.create_user("race@example.com", GOOD)
    finally:
        mod.get_by_email = real
