"""Error pages in Chinese, in the site's layout, and JSON errors for the API; the one place
where a service refusal becomes what the user sees.

Every handler rolls the request's unit of work back first (``marketplace.unit_of_work``), so a
failed or refused request leaves nothing half-written and sends no mail:

* ``NotFound`` -> 404 page, ``Forbidden`` -> 403 page;
* any other ``ServiceError`` (and a concurrent-write conflict, as ``EditConflict``) -> the message
  flashed, and a redirect to where the view said (``unit_of_work.on_refusal``);
* HTTP errors -> their page; anything else -> 500 (503 when the database is unavailable).
"""
from __future__ import annotations

import logging

from flask import Flask, flash, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, SecurityError

from . import unit_of_work
from .request_guard import UNTRUSTED_HOST
from .services import EditConflict, Forbidden, NotFound, ServiceError

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
        return plain_page(code, title, detail or message)


def plain_page(code: int, title: str, message: str):
    """The error page without the layout: for when the layout cannot be rendered (no database,
    or no URL adapter for a refused Host). Same stylesheet, no script, no link built from the
    request."""
    page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(title)} · 广货网上行</title>'
            f'<link rel="stylesheet" href="/static/css/site.css"></head><body><main class="wrap">'
            f'<section class="error-page"><p class="error-code">{code}</p><h1>{escape(title)}</h1>'
            f'<p>{escape(message)}</p><p><a class="button" href="/">返回首页</a></p></section></main></body></html>')
    return page, code, {"Content-Type": "text/html; charset=utf-8"}


def _database_unavailable(err: Exception) -> bool:
    """True for errors meaning the database cannot serve now (server down or restarting, no
    connection to give, lock or statement timeout): a transient 503, not a bug's 500."""
    from sqlalchemy import exc as sa_exc

    return isinstance(err, (sa_exc.OperationalError, sa_exc.TimeoutError)) or (
        isinstance(err, sa_exc.DBAPIError) and bool(err.connection_invalidated))


def _rollback() -> None:
    try:
        unit_of_work.rollback()
    except Exception:  # the connection itself may be gone
        log.exception("rollback failed")


def answer_refusal(err: ServiceError):
    """A refused request: 404 / 403 for ``NotFound`` / ``Forbidden``, else flash and redirect."""
    _rollback()
    if isinstance(err, NotFound):
        return render_error(404)
    if isinstance(err, Forbidden):
        return render_error(403)
    if wants_json():
        return render_error(409 if isinstance(err, EditConflict) else 400, str(err))
    flash(str(err), "error")
    return unit_of_work.refusal_response(err)


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _refused(err: ServiceError):
        return answer_refusal(err)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def _conflict(err: Exception):
        converted = unit_of_work.as_refusal(err)
        return answer_refusal(converted) if converted is not None else _server_error(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        _rollback()
        if err.response is not None:  # the view built its own answer (Flask-Limiter's on_breach)
            return err.response
        detail = getattr(err, "user_message", None)  # our own HTTPExceptions say what went wrong
        if isinstance(err, CSRFError):
            detail = "页面已过期或表单校验失败（CSRF），请刷新页面后重试。"
        if isinstance(err, SecurityError):  # untrusted Host (request_guard): no URL adapter, no layout
            if wants_json():
                return jsonify({"error": UNTRUSTED_HOST[1]}), 400
            return plain_page(400, *UNTRUSTED_HOST)
        response = make_response(render_error(err.code or 500, detail))
        if err.code == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        retry_after = dict(err.get_headers()).get("Retry-After")
        if retry_after:
            response.headers["Retry-After"] = retry_after
        return response

    @app.errorhandler(Exception)
    def _server_error(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        if _database_unavailable(err):  # a transient outage, not a bug: say so, and when to retry
            response = make_response(render_error(503))
            response.headers["Retry-After"] = "10"
            return response
        return render_error(500)
