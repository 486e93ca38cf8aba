"""Accounts: registration, authentication, password changes and resets, enabling/disabling.

Every function flushes and never commits. Rules a user can fix raise ``ServiceError`` with a
Chinese message. Each operation that should end other sessions (password change or reset,
deactivation, logout) rotates ``User.session_token``: the login cookies carry that token
(see ``marketplace.auth_session``), so a replayed old cookie loads no user.
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User
from ..clock import utc_now
from ..models.user import new_session_token
from ..validation import ValidationError
from ..validation.text import clean_text
from . import ServiceError, WrongPassword

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
RESET_SALT = "gdws.password-reset.v1"
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

BAD_LOGIN = "邮箱或密码错误。"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case), loaded once per process."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def normalize_email(email: str | None) -> str:
    """Return the canonical form of ``email`` (validated, IDNA-normalised, lower case).

    Uniqueness is checked on this form, so ``Foo@Example.com `` and ``foo@example.com`` are the
    same account. Raises ``ServiceError`` for anything that is not a plausible address.
    """
    raw = (email or "").strip()
    if not raw:
        raise ServiceError("请填写邮箱。")
    if len(raw) > MAX_EMAIL_LENGTH or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in raw):
        raise ServiceError("邮箱格式不正确。")
    try:
        normalized = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ServiceError("邮箱格式不正确。") from None
    normalized = normalized.lower()
    if len(normalized) > MAX_EMAIL_LENGTH:
        raise ServiceError("邮箱格式不正确。")
    return normalized


def check_password_policy(password: str | None, email: str = "") -> None:
    """Refuse passwords that are short, over-long, common, or built from the email address.

    Long passphrases are welcome (up to 1,024 characters); the cap only stops hashing megabytes.
    """
    password = password or ""
    if "\x00" in password or any(unicodedata.category(ch) == "Cc" for ch in password):
        raise ServiceError("密码含有不允许的控制字符。")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ServiceError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。")
    folded = password.lower()
    squeezed = "".join(folded.split())
    if folded in common_passwords() or squeezed in common_passwords():
        raise ServiceError("该密码过于常见，容易被猜中，请换一个更独特的密码。")
    if len(set(squeezed)) <= 2:
        raise ServiceError("密码过于简单（字符重复），请换一个更独特的密码。")
    email = (email or "").strip().lower()
    if email:
        local = email.partition("@")[0]
        if squeezed == email or (len(local) >= 3 and local in squeezed):
            raise ServiceError("密码不能包含邮箱名，请换一个密码。")


def hash_password(password: str) -> str:
    """Salted hash with the configured werkzeug method (scrypt by default)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    """A hash of a random string, checked for unknown emails so they cost the same time."""
    return generate_password_hash("dummy-password-for-timing", method=method)


def get_by_email(email: str | None) -> User | None:
    """The account for ``email`` (any spelling that normalises the same), or None."""
    try:
        normalized = normalize_email(email)
    except ServiceError:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == normalized))


def create_user(email: str, password: str, role: str = Role.MERCHANT, display_name: str = "") -> User:
    """Create an account after checking the email, its uniqueness and the password policy.

    Used by registration (merchants), the ``create-user`` command and the staff console.
    """
    if role not in Role.ALL:
        raise ServiceError("未知的账号角色。")
    normalized = normalize_email(email)
    check_password_policy(password, normalized)
    try:
        display_name = clean_text(display_name, field="显示名称", max_length=60)
    except ValidationError as err:
        raise ServiceError(str(err)) from None
    if get_by_email(normalized) is not None:
        raise ServiceError("该邮箱已注册，请直接登录；忘记密码可以通过邮箱重置。")
    user = User(email=normalized, password_hash=hash_password(password), role=role,
                display_name=display_name, is_enabled=True, session_token=new_session_token(),
                password_changed_at=utc_now())
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent registration of the same address won the race
        raise ServiceError("该邮箱已注册，请直接登录；忘记密码可以通过邮箱重置。") from None
    return user


def authenticate(email: str | None, password: str | None) -> User | None:
    """Return the enabled account whose password matches, else None.

    Unknown emails check a dummy hash so that both failures take about the same time; callers
    show the single message ``邮箱或密码错误`` either way. A disabled account with the right
    password raises ``ServiceError`` (only its owner can learn that).
    """
    password = password or ""
    if not password or len(password) > MAX_PASSWORD_LENGTH or "\x00" in password:
        return None
    user = get_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.is_enabled:
        raise ServiceError("该账号已停用，如有疑问请联系活动工作人员。")
    return user


def record_login(user: User) -> None:
    """Note the time of a successful login."""
    user.last_login_at = utc_now()
    db.session.flush()


def rotate_session_token(user: User) -> None:
    """Invalidate every existing login cookie (session and remember-me) of ``user``."""
    user.session_token = new_session_token()
    db.session.flush()


def set_password(user: User, new_password: str) -> None:
    """Store a new password (policy-checked) and end all other sessions."""
    check_password_policy(new_password, user.email)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utc_now()
    rotate_session_token(user)


def change_password(user: User, old_password: str, new_password: str) -> None:
    """Change the password after checking the current one; other sessions are logged out."""
    if not old_password or len(old_password) > MAX_PASSWORD_LENGTH or \
            not check_password_hash(user.password_hash, old_password):
        raise WrongPassword()
    if hmac.compare_digest(old_password.encode(), (new_password or "").encode()):
        raise ServiceError("新密码不能与当前密码相同。")
    set_password(user, new_password)


def set_enabled(user: User, enabled: bool) -> None:
    """Enable or disable an account; disabling (and re-enabling) logs it out everywhere."""
    user.is_enabled = bool(enabled)
    rotate_session_token(user)


# --- password reset -------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    """A short digest of the current password hash: changes (and voids tokens) on every reset."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:20]


def make_reset_token(user: User) -> str:
    """A signed token for the reset link; valid PASSWORD_RESET_MAX_AGE seconds, once."""
    return _serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset_token(token: str | None) -> User | None:
    """The enabled user a still-valid, unused reset token names, else None."""
    if not token or len(token) > 512:
        return None
    try:
        data = _serializer().loads(token, max_age=int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("p"), str):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.is_enabled:
        return None
    if not hmac.compare_digest(_password_fingerprint(user), data["p"]):
        return None  # already used (the password hash changed since the token was made)
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset token; the token is void afterwards."""
    user = user_for_reset_token(token)
    if user is None:
        raise ServiceError("重置链接无效或已过期，请重新申请。")
    set_password(user, new_password)
    return user
