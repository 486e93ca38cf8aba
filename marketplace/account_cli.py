"""``flask --app app create-user``: create an account from the command line (the first admin)."""
from __future__ import annotations

import sys

import click
from flask import Flask

from .extensions import db
from .models import Role
from .services import ServiceError
from .services.accounts import create_user


def register_cli(app: Flask) -> None:
    """Add the ``create-user`` command to ``app``."""

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice(list(Role.ALL)), default=Role.MERCHANT, show_default=True,
                  help="账号角色：admin（管理员）、staff（工作人员）或 merchant（商家）。")
    @click.option("--name", "display_name", default="", help="显示名称（可选）。")
    @click.option("--password-stdin", is_flag=True,
                  help="从标准输入读取密码（第一行），供脚本使用；否则交互式输入两次。")
    def create_user_command(email: str, role: str, display_name: str, password_stdin: bool):
        """Create an account; the password is prompted for twice (or read from stdin)."""
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
        try:
            user = create_user(email, password, role=role, display_name=display_name)
        except ServiceError as err:
            db.session.rollback()
            raise click.ClickException(str(err)) from None
        db.session.commit()
        click.echo(f"已创建{user.role_label}账号：{user.email}（编号 {user.id}）")
