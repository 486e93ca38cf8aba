"""Jinja filters and globals shared by every template (dates in China time, paging links)."""
from __future__ import annotations

import os
import re
from datetime import date, datetime
from typing import NamedTuple

from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from jinja2 import FileSystemBytecodeCache
from markupsafe import Markup

from .clock import to_china
from .models import Status
from .static_files import file_version


def cn_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a naive-UTC timestamp in China time."""
    if value is None:
        return ""
    return to_china(value).strftime(fmt)


def cn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return cn_datetime(value, "%Y-%m-%d")
    return value.strftime("%Y-%m-%d")


LINK_ARG_KEY = re.compile(r"[a-z_]{1,32}")
LINK_ARG_MAX = 64  # slugs, sort keys, page numbers: anything longer is not a value the site made
LINK_QUERY_MAX = 256  # a search query: the engine reads at most this many characters


class _LinkBase(NamedTuple):
    """What every ``url_with`` link of a request starts from (worked out once per request)."""

    root: str  # the script root the links are served under
    endpoint: str | None
    values: dict  # the view's arguments, then the carried query arguments (``link_args``)
    keyable: bool  # every value may be part of a kept path's key


def link_args() -> dict[str, str]:
    """The current query arguments worth carrying into links, bounded.

    A page repeats them in every filter, sort and page link (dozens per page), so whatever a
    visitor puts in the query string is multiplied: 15 KB of made-up arguments made a 700 KB
    browse page. Only short lower-case keys are carried, one value each, ``q`` cut to what the
    search reads and any other value dropped when longer than a slug."""
    carried = {}
    for key, value in request.args.items():
        if not LINK_ARG_KEY.fullmatch(key):
            continue
        if key == "q":
            carried[key] = value[:LINK_QUERY_MAX]
        elif len(value) <= LINK_ARG_MAX:
            carried[key] = value
    return carried


def _link_base() -> _LinkBase:
    base = g.get("link_base")
    if base is None:
        view_args = request.view_args or {}  # the path's own arguments win over a query argument of that name
        values = {**view_args, **{k: v for k, v in link_args().items() if k not in view_args}}
        base = g.link_base = _LinkBase(request.script_root, request.endpoint, values,
                                       all(type(v) in _KEY_TYPES for v in values.values()))
    return base


URL_MEMO_MAX = 20_000  # built paths kept per process; emptied when full
_KEY_TYPES = (str, int, type(None))  # values a kept path may be keyed by (not bool: True == 1)


def memo_url_for(endpoint: str, **values) -> str:
    """``url_for`` for templates, each built path kept per process.

    Why: a list page builds 80-150 links, most the same on every render (navigation, footer,
    facets, cards' chips), and werkzeug's URL building was a fifth of a home page that missed
    the page cache (bench/README.md, issue 15). A path depends only on the endpoint, the values
    (in their order, which the query string follows) and the script root, so it is kept under
    those; a static file's path also under its version (``?v=``, which follows the file's
    content: ``static_files.file_version``). Not kept: absolute URLs (they follow the request's
    host and scheme), relative endpoints (they follow the blueprint), and values other than
    strings, integers and None (an object would be kept alive by the key; ``True`` and ``1`` are
    equal keys but different paths). Templates call it through ``_bound_url_for``."""
    if not has_request_context():
        return url_for(endpoint, **values)
    return _url_in(request.script_root, current_app.extensions["url_memo"], endpoint, values)


def _url_in(root: str, memo: dict, endpoint: str, values: dict) -> str:
    """``memo_url_for`` under script root ``root`` with the memo ``memo``."""
    if endpoint.startswith(".") or "_external" in values or any(type(v) not in _KEY_TYPES for v in values.values()):
        return url_for(endpoint, **values)
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = file_version(current_app.static_folder or "static", values["filename"])
        return _kept_path(memo, root, endpoint, values, version)
    return _kept_path(memo, root, endpoint, values)


def _kept_path(memo: dict, root: str, endpoint: str, values: dict, *also) -> str:
    key = (root, endpoint, *values.items(), *also)
    url = memo.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(memo) >= URL_MEMO_MAX:
            memo.clear()
        memo[key] = url
    return url


def _bound_url_for() -> dict:
    """Context processor: templates' ``url_for`` bound to this request's script root and memo.
    A page builds 30-80 links, and finding those two through Flask's context proxies was two
    thirds of each ``memo_url_for`` (2.9 µs a kept link, 0.9 µs bound). Macros imported without
    context use the global ``memo_url_for``, which gives the same paths."""
    if not has_request_context():
        return {}
    root, memo = request.script_root, current_app.extensions["url_memo"]
    return {"url_for": lambda endpoint, **values: _url_in(root, memo, endpoint, values)}


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one); resets nothing else.

    Used by filters and pagination so that filters combine and survive paging (a search page
    builds two dozen): what they start from is worked out once per request."""
    base = _link_base()
    values = dict(base.values)
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = str(value)
    if not base.keyable:
        return url_for(base.endpoint, **values)
    return _kept_path(current_app.extensions["url_memo"], base.root, base.endpoint, values)


PARTIAL_MEMO_MAX = 2_000  # rendered partials kept per process; emptied when full


def kept_partial(name: str, **values) -> Markup:
    """The partial template ``name`` rendered once per process for each script root and ``values``.

    Why: the header's navigation and the site footer are the same on every page but cost ~20
    links and most of the layout's rendering, a quarter of a simple page that misses the page
    cache (bench/README.md, issue 15). Only for partials whose output depends on nothing but
    their ``values``, the links' script root and the app's config (fixed once it serves): no
    user, CSRF token, date or query string."""
    key = (request.script_root, name, *values.items())
    memo = current_app.extensions["partial_memo"]
    html = memo.get(key)
    if html is None:
        html = Markup(render_template(name, **values))
        if len(memo) >= PARTIAL_MEMO_MAX:
            memo.clear()
        memo[key] = html
    return html


def enterprise_card(card, heading: str = "h3", note: str = ""):
    """A list card's markup: the ``enterprise_card`` macro of ``public/_macros.html``, rendered
    once per card, heading and note and kept on the card.

    Why: cards are kept per process until their enterprise changes (``services.catalog.cards``),
    and rendering the ~48 cards of a home page was most of what was left of a page-cache miss.
    The markup depends only on the card and the arguments (links are paths; the 繁體 view
    converts the finished page); the links' script root is part of the key."""
    key = (request.script_root, heading, note)
    html = card.html.get(key)
    if html is None:
        macro = current_app.jinja_env.get_template("public/_macros.html").module.enterprise_card
        html = card.html[key] = macro(card, heading=heading, note=note)
    return html


class _BytecodeCache(FileSystemBytecodeCache):
    """Compiled templates on disk (``instance/jinja_cache``), keyed by each template's name and
    source checksum, so a changed template is compiled again. Compiling the ~100 templates costs
    about 2 s of CPU at every start (gunicorn's master compiles them all before forking); with the
    cache a restart loads them. An unusable directory only means nothing is saved."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError):
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache(app: Flask) -> FileSystemBytecodeCache | None:
    directory = os.path.join(app.instance_path, "jinja_cache")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(directory)


def init_app(app: Flask) -> None:
    if not app.testing:  # tests build hundreds of apps, each in a fresh instance directory
        app.jinja_env.bytecode_cache = _bytecode_cache(app)
    app.jinja_env.filters["cn_datetime"] = cn_datetime
    app.jinja_env.filters["cn_date"] = cn_date
    app.extensions["url_memo"] = {}
    app.extensions["partial_memo"] = {}
    app.jinja_env.globals["kept_partial"] = kept_partial
    app.jinja_env.globals["url_for"] = memo_url_for
    app.context_processor(_bound_url_for)
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["enterprise_card"] = enterprise_card
    app.jinja_env.globals["STATUS_LABELS"] = Status.LABELS
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site():
        return {"site_name": "广货网上行", "enterprise_goal": app.config["ENTERPRISE_GOAL"]}
