"""Error pages in Chinese, in the site's layout, and JSON errors for the API.

A 500 rolls the database session back so a failed request leaves nothing half-written.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("请求无效", "请求的参数或表单无效，请返回修改后重试。"),
    403: ("无权访问", "您没有权限访问此页面。"),
    404: ("页面不存在", "您要找的页面不存在，可能已被移除或尚未公开。"),
    405: ("请求方式不允许", "此页面不支持该请求方式。"),
    413: ("上传内容过大", "上传的文件或提交的内容超过了大小限制，请压缩后重试。"),
    429: ("操作过于频繁", "您的操作过于频繁，请稍后再试。"),
    500: ("服务器出错了", "服务器处理请求时出错，我们已记录该问题，请稍后重试。"),
    503: ("服务暂时不可用", "服务暂时不可用，请稍后重试。"),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None):
    """Render the error page (or JSON under /api/) for ``code``."""
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if wants_json():
        return jsonify({"error": detail or message}), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=detail or message), code
    except Exception:  # e.g. the layout needs the database that just failed: answer plainly
        log.exception("error page could not be rendered")
        page = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{title} · 广货网上行</title>'
                f"<h1>{title}</h1><p>{message}</p><p><a href=\"/\">返回首页</a></p></html>")
        return page, code, {"Content-Type": "text/html; charset=utf-8"}


def _database_unavailable(err: Exception) -> bool:
    """True for errors meaning the database cannot serve now (server down or restarting, no
    connection to give, lock or statement timeout): a transient 503, not a bug's 500."""
    from sqlalchemy import exc as sa_exc

    return isinstance(err, (sa_exc.OperationalError, sa_exc.TimeoutError)) or (
        isinstance(err, sa_exc.DBAPIError) and bool(err.connection_invalidated))


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if err.response is not None:  # the view built its own answer (Flask-Limiter's on_breach)
            return err.response
        detail = None
        if isinstance(err, CSRFError):
            detail = "页面已过期或表单校验失败（CSRF），请刷新页面后重试。"
        response = make_response(render_error(err.code or 500, detail))
        if err.code == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _server_error(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            db.session.rollback()
        except Exception:  # the connection itself may be gone
            log.exception("rollback failed")
        if _database_unavailable(err):  # a transient outage, not a bug: say so, and when to retry
            response = make_response(render_error(503))
            response.headers["Retry-After"] = "10"
            return response
        return render_error(500)
