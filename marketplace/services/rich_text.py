"""Markdown written by staff, turned into HTML that is safe to put in a page or a feed.

Two well-kept libraries, each doing the part it is good at:

* markdown-it-py (CommonMark) parses the Markdown. Inline HTML is allowed (staff paste ``<br>``
  or ``<sub>`` from other documents) and single line breaks are kept as line breaks, as Chinese
  writers expect; headings move one level down (``#`` becomes ``<h2>``) because the page's own
  title is the ``<h1>``. Images are off: the site's CSP only allows its own images and staff
  cannot upload any for articles yet.
* nh3 (the Rust ``ammonia`` sanitiser) then keeps only an allow-list of tags and attributes:
  scripts, styles, iframes, objects, forms and SVG disappear with their content, every ``on*``
  attribute and every ``style`` except ``text-align`` on table cells is dropped, and links keep
  only http, https, mailto and tel URLs (so ``javascript:``, ``data:`` and ``vbscript:`` links
  lose their target).

Whatever the Markdown contains, the output of :func:`render` is safe; it is computed when shown,
so a tightened allow-list applies to every article at once.
"""
from __future__ import annotations

import html as html_lib
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "del", "s", "sub", "sup",
    "blockquote", "ul", "ol", "li", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
})
# Removed together with everything inside them (the text of a script is not content).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "object", "noscript", "template", "svg", "math", "textarea", "select",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def _demote_headings(state) -> None:
    """``#`` → ``<h2>`` … ``#####`` → ``<h6>`` (the article title is the page's only ``<h1>``)."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


_markdown = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable(["table", "strikethrough"])
_markdown.disable("image")
_markdown.core.ruler.push("demote_headings", _demote_headings)

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    filter_style_properties={"text-align"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_text_only = nh3.Cleaner(tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT))
_SPACES = re.compile(r"\s+")


def render(markdown: str) -> Markup:
    """Safe HTML for ``markdown`` (marked safe for Jinja: it has been sanitised)."""
    return Markup(_cleaner.clean(_markdown.render(markdown or "")))


def plain_text(markdown: str, limit: int | None = None) -> str:
    """The readable text of ``markdown`` on one line (for summaries, feeds and meta tags),
    cut at ``limit`` characters with an ellipsis."""
    text = html_lib.unescape(_text_only.clean(_markdown.render(markdown or "")))
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text
