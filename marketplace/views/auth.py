"""Account pages: register, log in / out, change password, forgotten-password reset.

Security notes:
- login failures always say only "邮箱或密码错误" and cost about the same time;
- failed logins are rate-limited per account (email) and per client address (Flask-Limiter,
  ``deduct_when`` so only failures count); the 429 page is the site's Chinese error page;
- the session is cleared and rebuilt at login; logout, a password change or reset and
  deactivation rotate ``User.session_token`` so replayed cookies are anonymous;
- ``next`` passes through ``security.safe_next`` only.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user

from ..clock import utc_now
from ..extensions import limiter
from ..security import safe_next
from ..services import ServiceError, WrongPassword
from ..services import accounts
from ..services.mail import queue_mail
from ..unit_of_work import catch_refusal
from .auth_forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/account")
log = logging.getLogger(__name__)

RESET_MAIL_LIMIT_PER_ACCOUNT = "5 per hour"


# --- rate-limit helpers ------------------------------------------------------------------------

def _account_key() -> str:
    """Limiter key for the email in the posted form (normalised, so spellings share a bucket)."""
    raw = request.form.get("email", "")
    try:
        key = accounts.normalize_email(raw)
    except ServiceError:
        key = raw.strip().lower()[:254]
    return "account:" + (key or "-")


def _mark(flag: str) -> None:
    """Remember for the limiter's after-request hook what this request did (request-scoped)."""
    request.environ["gdws.auth." + flag] = True


def _user_key() -> str:
    """Limiter key for the logged-in account (password changes)."""
    return "user:" + str(current_user.get_id() if current_user.is_authenticated else "-").partition(":")[0]


def _login_failed(response) -> bool:
    """Count a login attempt against the limits only when it failed."""
    return bool(request.environ.get("gdws.auth.login_failed"))


def _form_used(response) -> bool:
    """Count a register / forgot-password post only when it created an account or a mail."""
    return bool(request.environ.get("gdws.auth.form_used"))


def _cfg(key: str):
    return lambda: current_app.config[key]


# --- session helpers ---------------------------------------------------------------------------

def _home_for(user) -> str:
    """Where a user lands after login when there is no (safe) ``next``."""
    return url_for("staff.dashboard" if getattr(user, "is_staff", False) else "merchant.dashboard")


def _start_session(user, remember: bool = False) -> None:
    """Log ``user`` in on a brand-new session (nothing from the anonymous session survives)."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request; make the next one fresh
    login_user(user, remember=remember)
    accounts.record_login(user)


def _has_remember_cookie() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def _max_login_age() -> timedelta:
    value = current_app.config.get("REMEMBER_COOKIE_DURATION", 30 * 24 * 3600)
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


@bp.before_app_request
def _expire_old_logins():
    """Bound every login server-side: REMEMBER_COOKIE_DURATION after the password was entered,
    the session (or a remember-me cookie restoring it) no longer counts, whatever the browser
    keeps. (Flask itself refuses session cookies older than PERMANENT_SESSION_LIFETIME.)"""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    last = current_user.last_login_at
    if last is not None and utc_now() - last > _max_login_age():
        session.clear()
        logout_user()
    return None


@bp.after_request
def _no_store(response):
    """Account pages carry tokens and personal data: never cache them, never leak the URL."""
    response.headers["Cache-Control"] = "no-store"
    if request.endpoint == "auth.reset_password":
        # The URL holds the token: never send it to another site. Same-origin is still needed,
        # because Flask-WTF checks the Referer of form posts over HTTPS.
        response.headers["Referrer-Policy"] = "same-origin"
    return response


# --- views -------------------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_cfg("ACCOUNT_FORM_LIMIT"), methods=["POST"], deduct_when=_form_used, scope="register")
def register():
    """Create a merchant account and log it in; then go to the merchant dashboard."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = RegisterForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            user = accounts.create_user(form.email.data, form.password.data)
            _mark("form_used")
            _start_session(user)
            flash("注册成功，欢迎加入广货网上行！下一步：填写企业信息并提交认证。", "success")
            return redirect(safe_next(form.next.data, default=_home_for(user)))
        error = refusal.message
    return render_template("auth/register.html", form=form, error=error)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_cfg("LOGIN_LIMIT_PER_IP"), methods=["POST"], deduct_when=_login_failed, scope="login-ip")
@limiter.limit(_cfg("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"],
               deduct_when=_login_failed, scope="login-account")
def login():
    """Email + password login; one message for every failure; rate-limited failures."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next"), default=_home_for(current_user)))
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        with catch_refusal() as refusal:  # a disabled account, with the right password
            user = accounts.authenticate(form.email.data, form.password.data)
            if user is not None:
                _start_session(user, remember=bool(form.remember.data))
                log.info("login ok: user %s from %s", user.id, request.remote_addr)
                return redirect(safe_next(form.next.data, default=_home_for(user)))
        error = refusal.message or accounts.BAD_LOGIN
        log.warning("login failed for %r from %s", (form.email.data or "")[:254], request.remote_addr)
    if request.method == "POST":
        _mark("login_failed")
        if form.password.errors and not error:
            error = accounts.BAD_LOGIN
            form.password.errors = []
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session here and everywhere (the session token rotates), then go home."""
    if current_user.is_authenticated:
        accounts.rotate_session_token(current_user._get_current_object())
        log.info("logout: user %s", current_user.id)
    session.clear()
    logout_user()  # after clear(): keeps its instruction to delete the remember-me cookie
    flash("您已安全退出。", "success")
    return redirect(url_for("public.home"))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_cfg("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_user_key, methods=["POST"], deduct_when=_login_failed,
               scope="change-password")
@login_required
def change_password():
    """Change the password; every other device is logged out, this one stays logged in."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(email=user.email)
    error = None
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            accounts.change_password(user, form.old_password.data, form.password.data)
            log.info("password changed: user %s", user.id)
            _start_session(user, remember=_has_remember_cookie())
            flash("密码已修改。其他设备上的登录已全部失效。", "success")
            return redirect(_home_for(user))
        error = refusal.message
        if isinstance(refusal.error, WrongPassword):
            _mark("login_failed")  # guessing the current password is throttled like logins
    return render_template("auth/change_password.html", form=form, error=error)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_cfg("ACCOUNT_FORM_LIMIT"), methods=["POST"], deduct_when=_form_used, scope="forgot-ip")
@limiter.limit(RESET_MAIL_LIMIT_PER_ACCOUNT, key_func=_account_key, methods=["POST"], deduct_when=_form_used,
               scope="forgot-account")
def forgot_password():
    """Mail a reset link if the address has an account; the answer is the same either way."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _mark("form_used")
        user = accounts.get_by_email(form.email.data)
        if user is not None and user.is_enabled:
            _send_reset_mail(user)
            log.info("password reset mail: user %s", user.id)
        flash("如果该邮箱已注册，我们已向它发送了重置密码的链接（1 小时内有效），请查收邮件，"
              "也请看看垃圾邮件箱。", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def _reset_link(token: str) -> str:
    """Absolute reset link, on SERVER_NAME_FOR_LINKS: never on the request's Host header."""
    return current_app.config["SERVER_NAME_FOR_LINKS"] + url_for("auth.reset_password", token=token)


def _send_reset_mail(user) -> None:
    minutes = max(1, int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60)
    link = _reset_link(accounts.make_reset_token(user))
    body = (
        f"您好，\n\n我们收到了为广货网上行账号 {user.email} 重置密码的请求。"
        f"请在 {minutes} 分钟内打开下面的链接设置新密码（链接只能使用一次）：\n\n{link}\n\n"
        "如果这不是您本人的操作，请忽略本邮件，您的密码不会改变。\n\n广货网上行"
    )
    queue_mail(user.email, "【广货网上行】重置密码", body)  # sent once the request commits


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password through the mailed link (signed, expiring, single-use)."""
    user = accounts.user_for_reset_token(token)
    if user is None:
        flash("重置链接无效或已过期（每个链接只能使用一次），请重新申请。", "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm(email=user.email)
    error = None
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            accounts.reset_password(token, form.password.data)
            log.info("password reset done: user %s", user.id)
            if current_user.is_authenticated:
                logout_user()
            flash("密码已重置，请用新密码登录。", "success")
            return redirect(url_for("auth.login"))
        error = refusal.message
    return render_template("auth/reset_password.html", form=form, error=error, email=user.email)
