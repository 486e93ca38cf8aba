"""Flask-WTF forms for the account pages (register, login, password change and reset).

Every field refuses NUL and other control characters; passwords are checked against the same
policy the service applies, so the user sees the reason next to the field.
"""
from __future__ import annotations

import unicodedata

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from ..services import ServiceError
from ..services.accounts import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, check_password_policy, normalize_email


def no_control_chars(form, field) -> None:
    """Refuse NUL and other control characters in any text field."""
    value = field.data or ""
    if isinstance(value, str) and any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError("含有不允许的控制字符（如空字符）。")


def valid_email(form, field) -> None:
    """The email must be a plausible address (normalised the same way as accounts are)."""
    try:
        normalize_email(field.data)
    except ServiceError as err:
        raise ValidationError(str(err)) from None


def _email_field(label: str = "邮箱") -> EmailField:
    return EmailField(label, validators=[DataRequired("请填写邮箱。"), no_control_chars,
                                         Length(max=MAX_EMAIL_LENGTH, message="邮箱过长。"), valid_email],
                      render_kw={"autocomplete": "email", "inputmode": "email", "autocapitalize": "none",
                                 "spellcheck": "false", "maxlength": MAX_EMAIL_LENGTH,
                                 "placeholder": "name@company.com"})


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(label, validators=[InputRequired("请填写密码。"), no_control_chars],
                         render_kw={"autocomplete": "new-password", "minlength": 10,
                                    "maxlength": MAX_PASSWORD_LENGTH, "data-reveal": "1"})


def _confirm_field(target: str) -> PasswordField:
    return PasswordField("再次输入密码", validators=[InputRequired("请再次输入密码。"), no_control_chars,
                                                  EqualTo(target, message="两次输入的密码不一致。")],
                         render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD_LENGTH})


def _check_policy(field, email: str = "") -> None:
    if field.errors:
        return
    try:
        check_password_policy(field.data, email)
    except ServiceError as err:
        raise ValidationError(str(err)) from None


class RegisterForm(FlaskForm):
    """A merchant's new account: email, password twice, agreement to the terms."""

    email = _email_field()
    password = _new_password_field("密码")
    confirm = _confirm_field("password")
    agree = BooleanField("我已阅读并同意《商家入驻须知》", validators=[DataRequired("请阅读并勾选同意《商家入驻须知》。")])
    next = HiddenField()  # only ever used through security.safe_next

    def validate_password(self, field) -> None:
        email = ""
        try:
            email = normalize_email(self.email.data)
        except ServiceError:
            pass
        _check_policy(field, email)


class LoginForm(FlaskForm):
    """Email and password; "remember me" keeps the login for REMEMBER_COOKIE_DURATION."""

    email = EmailField("邮箱", validators=[DataRequired("请填写邮箱。"), no_control_chars,
                                         Length(max=MAX_EMAIL_LENGTH, message="邮箱过长。")],
                       render_kw={"autocomplete": "username", "inputmode": "email", "autocapitalize": "none",
                                  "spellcheck": "false", "maxlength": MAX_EMAIL_LENGTH})
    password = PasswordField("密码", validators=[InputRequired("请填写密码。"), no_control_chars,
                                                Length(max=MAX_PASSWORD_LENGTH, message="邮箱或密码错误。")],
                             render_kw={"autocomplete": "current-password", "maxlength": MAX_PASSWORD_LENGTH,
                                        "data-reveal": "1"})
    remember = BooleanField("在这台设备上保持登录（30 天）")
    next = HiddenField()  # only ever used through security.safe_next


class ResetPasswordForm(FlaskForm):
    """The new password, twice (the token is in the URL). Checked against the password policy,
    which needs the account's email (a password must not contain the mailbox name)."""

    password = _new_password_field("新密码")
    confirm = _confirm_field("password")

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_password(self, field) -> None:
        _check_policy(field, self._email)


class ChangePasswordForm(ResetPasswordForm):
    """Current password plus the new one twice."""

    old_password = PasswordField("当前密码", validators=[InputRequired("请填写当前密码。"), no_control_chars],
                                 render_kw={"autocomplete": "current-password", "maxlength": MAX_PASSWORD_LENGTH})


class ForgotPasswordForm(FlaskForm):
    """The email to send a reset link to."""

    email = _email_field("注册邮箱")


__all__ = ["RegisterForm", "LoginForm", "ChangePasswordForm", "ForgotPasswordForm", "ResetPasswordForm"]
