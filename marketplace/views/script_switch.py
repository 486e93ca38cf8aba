"""繁體 reading: show public pages in Traditional Chinese (Hong Kong standard, OpenCC ``s2hk``).

Same URLs: ``?script=hant`` switches on (and sets a cookie that keeps it on), ``?script=hans``
switches back. An ``after_request`` hook converts finished HTML responses of public pages. Only
text a reader sees is converted — text between tags and the human-readable attributes (``title``,
``alt``, ``placeholder``, ``aria-label``, a ``<meta>``'s ``content``, a button's label) — never
``<script>``/``<style>``/``<textarea>`` contents, URLs, or form values that would be posted back
(so a search filter or a merchant's input is never silently changed). Merchant, staff, account
and API responses are never converted. One converter object is reused (about 6 ms per 80,000
characters).
"""
from __future__ import annotations

import re
import threading

from flask import Flask, g, request

COOKIE = "script"
HANT, HANS = "hant", "hans"
CONFIG = "s2hk"
# Paths where text is what people type and submit: never converted.
EXCLUDED_PREFIXES = ("/merchant", "/staff", "/account", "/api/")
EXCLUDED_BLUEPRINTS = {"merchant", "staff", "auth", "api"}

_converter = None
_lock = threading.Lock()
_SEP = "\x1e"  # record separator: OpenCC keeps it, HTML text never contains it

_TOKENS = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_RAW_START = re.compile(r"<(script|style|textarea)\b", re.I)
_ATTR = re.compile(r"""(\s(?:title|alt|placeholder|aria-label|content|data-label)\s*=\s*)("[^"]*"|'[^']*')""", re.I)
_VALUE = re.compile(r"""(\svalue\s*=\s*)("[^"]*"|'[^']*')""", re.I)
_HTML_LANG = re.compile(r"(<html\b[^>]*\blang=)(\"[^\"]*\"|'[^']*')", re.I)


def converter():
    """The shared OpenCC converter (created once; OpenCC objects are safe to reuse)."""
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC(CONFIG)
    return _converter


def convert_text(text: str) -> str:
    """Simplified -> Traditional (Hong Kong) for plain text."""
    return converter().convert(text) if text else text


_HAN = re.compile("[\u3400-\u9fff]")


def _has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def convert_html(html: str) -> str:
    """Convert the readable text of an HTML document (see the module doc for what is kept)."""
    parts = _TOKENS.split(html)
    # Collect every convertible fragment, convert them in one OpenCC call, put them back.
    slots: list[tuple[int, int, int, str]] = []  # (part index, start, end, text)
    raw_until: str | None = None
    for i, part in enumerate(parts):
        if not part:
            continue
        if i % 2 == 1:  # a tag or comment
            if raw_until:
                if re.match(rf"</{raw_until}\s*>", part, re.I):
                    raw_until = None
                continue
            m = _RAW_START.match(part)
            if m and not part.endswith("/>"):
                raw_until = m.group(1).lower()
            if part.startswith("<!--") or not _has_han(part):
                continue
            for am in _ATTR.finditer(part):
                if _has_han(am.group(2)):
                    slots.append((i, am.start(2) + 1, am.end(2) - 1, am.group(2)[1:-1]))
            if re.match(r"<(input|button)\b", part, re.I) and re.search(r"""type\s*=\s*["']?(submit|button|reset)""", part, re.I):
                for vm in _VALUE.finditer(part):
                    if _has_han(vm.group(2)):
                        slots.append((i, vm.start(2) + 1, vm.end(2) - 1, vm.group(2)[1:-1]))
        elif raw_until is None and _has_han(part):
            slots.append((i, 0, len(part), part))
    if not slots:
        return html
    joined = _SEP.join(text for *_, text in slots)
    converted = convert_text(joined).split(_SEP)
    if len(converted) != len(slots):  # should not happen; fall back to one call per fragment
        converted = [convert_text(text) for *_, text in slots]
    # Apply replacements from the end of each part so earlier offsets stay valid.
    by_part: dict[int, list[tuple[int, int, str]]] = {}
    for (i, start, end, _), new in zip(slots, converted):
        by_part.setdefault(i, []).append((start, end, new))
    for i, edits in by_part.items():
        part = parts[i]
        for start, end, new in sorted(edits, reverse=True):
            part = part[:start] + new + part[end:]
        parts[i] = part
    out = "".join(parts)
    return _HTML_LANG.sub(r'\1"zh-Hant"', out, count=1)


def wants_traditional() -> bool:
    """True when this request asked for Traditional (parameter first, then the cookie)."""
    choice = request.args.get("script")
    if choice in (HANT, HANS):
        return choice == HANT
    return request.cookies.get(COOKIE) == HANT


def is_convertible_request() -> bool:
    """Public pages only: not the consoles, accounts, forms people submit, or the API."""
    path = request.path
    if any(path == p.rstrip("/") or path.startswith(p) for p in EXCLUDED_PREFIXES):
        return False
    return request.blueprint not in EXCLUDED_BLUEPRINTS


def switch_url(target: str) -> str:
    """The current URL with ``script=<target>`` (other arguments kept)."""
    args = request.args.to_dict(flat=False)
    args["script"] = [target]
    from urllib.parse import urlencode

    return request.path + "?" + urlencode(args, doseq=True)


def init_app(app: Flask) -> None:
    """Install the converter hook and the template helpers."""

    @app.before_request
    def _script_choice():
        g.script_hant = wants_traditional() and is_convertible_request()

    @app.context_processor
    def _script_helpers():
        hant = bool(getattr(g, "script_hant", False))
        return {
            "script_hant": hant,
            "script_switch_url": switch_url,
            "script_switch_visible": is_convertible_request(),
        }

    @app.after_request
    def _convert(response):
        if not is_convertible_request():
            return response
        choice = request.args.get("script")
        if choice == HANT:
            response.set_cookie(COOKIE, HANT, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        elif choice == HANS and request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, samesite="Lax", secure=request.is_secure, httponly=True)
        if response.mimetype != "text/html":
            return response
        response.vary.add("Cookie")
        if not getattr(g, "script_hant", False) or response.direct_passthrough or response.is_streamed:
            return response
        if response.status_code == 304 or not response.content_length and not response.get_data():
            return response
        html = response.get_data(as_text=True)
        response.set_data(convert_html(html))
        if response.get_etag()[0]:
            response.add_etag(overwrite=True)
        response.headers["Content-Language"] = "zh-Hant-HK"
        return response

