"""Requests refused before any view, hook or rate limit runs: a Host that is not this site's, and
bytes that are not UTF-8. Both get a 400 page in Chinese and nothing is read or stored. (Also:
werkzeug's redirects to a route's canonical URL get a Chinese body.)

* **Host.** Flask checks the Host header against ``TRUSTED_HOSTS`` (``config.link_settings``:
  the host of ``SERVER_NAME_FOR_LINKS`` plus ``EXTRA_TRUSTED_HOSTS``) while it builds the URL
  adapter, and keeps the ``SecurityError`` as the routing exception, which Flask only raises
  after every ``before_request`` hook (session, CSRF, rate limits) has run. The first hook raises
  it at once instead. The site never builds a link from the Host header anyway; refusing unknown
  hosts also keeps them out of the page cache's keys and the logs' links.
* **Undecodable bytes.** Werkzeug keeps bytes that are not UTF-8 percent-encoded (``%FF``) in a
  query string or urlencoded form, and turns them into U+FFFD in multipart fields and file
  names: either way a name like ``广%FF%FE有限公司`` would be stored as text nobody typed. The
  raw query string, path and urlencoded body are decoded strictly here; multipart fields and
  file names must not hold U+FFFD (a browser never sends one for typed text) and a part header
  that is not UTF-8 is refused too.
"""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, Request, Response, current_app, request
from markupsafe import escape
from werkzeug.exceptions import BadRequest, SecurityError
from werkzeug.routing import RequestRedirect

UNTRUSTED_HOST = ("请求的网址不属于本站", "请求中的网站地址（Host）不是本站的地址，请从本站首页重新访问。")


class UndecodableInput(BadRequest):
    """Bytes that are not UTF-8 in the request: 400 with the message below (errors.py shows it)."""

    user_message = ("提交的内容含有无法识别的字符（不是 UTF-8 编码），未保存任何内容。"
                    "请检查网址或重新输入后再提交。")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _path_bytes() -> bytes:
    """The request path as the client sent it (WSGI carries it as latin-1)."""
    try:
        return request.environ.get("PATH_INFO", "").encode("latin-1")
    except UnicodeEncodeError:  # a server that already decoded it: it was text
        return b""


class StrictRequest(Request):
    """Flask's request, except that a multipart body it cannot parse raises instead of reading as
    an empty form (werkzeug's default is silent): the guard turns that into a 400."""

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser


def _multipart_undecodable() -> bool:
    """True when a multipart field or file name held bytes that are not UTF-8."""
    try:
        form, files = request.form, request.files
    except UnicodeDecodeError:  # a part header (field or file name) that is not UTF-8
        return True
    except ValueError:  # any other malformed multipart body
        raise BadRequest() from None
    if any("\ufffd" in key or "\ufffd" in value for key, value in form.items(multi=True)):
        return True
    return any("\ufffd" in key or "\ufffd" in (f.filename or "") for key, f in files.items(multi=True))


# Forms that carry a business licence (a PDF of up to 10 MB) may send more than MAX_CONTENT_LENGTH.
EVIDENCE_UPLOAD_ENDPOINTS = frozenset({"merchant.enterprise_submit", "merchant.enterprise_evidence",
                                       "merchant.claim", "merchant_trust.authorization_letter_new"})


def _evidence_upload_cap() -> None:
    """Raise the body cap to ``MAX_EVIDENCE_REQUEST_BYTES`` for the licence forms only — before
    anything (this guard's own form check, CSRF) reads the body."""
    if request.endpoint in EVIDENCE_UPLOAD_ENDPOINTS:
        request.max_content_length = int(current_app.config["MAX_EVIDENCE_REQUEST_BYTES"])


def undecodable() -> bool:
    """Does this request carry bytes that are not UTF-8 in its path, query string or form?"""
    if not _is_utf8(_path_bytes()) or not _is_utf8(unquote_to_bytes(request.query_string)):
        return True
    if request.mimetype == "multipart/form-data":  # any method: request.values reads it on GET too
        return _multipart_undecodable()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.mimetype == "application/x-www-form-urlencoded":
        return _urlencoded_undecodable()
    return False


def _urlencoded_undecodable() -> bool:
    """Werkzeug leaves undecodable bytes as ``%XX`` in the parsed values, so a form whose values
    hold no ``%`` is clean (the common case, checked at C speed); otherwise the raw body decides,
    since a typed ``%FF`` arrives as ``%25FF`` and is fine."""
    raw = request.get_data(cache=True)  # kept: the form is parsed from these same bytes
    if not any("%" in key or "%" in value for key, value in request.form.items(multi=True)):
        return False
    return not _is_utf8(unquote_to_bytes(raw))


def moved(redirect: RequestRedirect) -> Response:
    """werkzeug's redirect to the canonical URL (``/merchant`` → ``/merchant/``), with a Chinese
    body instead of its English "Redirecting..." page (Flask sends routing redirects past the
    error handlers)."""
    url = escape(redirect.new_url)
    body = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>页面地址已变更 · 广货网上行</title>'
            f'<p>页面地址已变更，正在前往 <a href="{url}">{url}</a>。</p></html>')
    return Response(body, redirect.code, {"Location": redirect.new_url}, mimetype="text/html")


def init_app(app: Flask) -> None:
    """Run the checks first, before the hooks that the extensions registered."""
    app.request_class = StrictRequest

    def _guard():
        _evidence_upload_cap()
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception
        if isinstance(request.routing_exception, RequestRedirect):
            return moved(request.routing_exception)
        if undecodable():
            raise UndecodableInput()

    app.before_request_funcs.setdefault(None, []).insert(0, _guard)
