"""Write an Atom 1.0 feed (RFC 4287) from plain entries, as a conditional, cacheable response.

Used by the news feed; any later feed of campaign content (events, offers) passes its own
``AtomEntry`` list. ElementTree only WRITES here; no XML is ever parsed (bandit allowlist in
tests/test_security_tools.py).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, request

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EPOCH = datetime(2012, 1, 1)  # "updated" of an empty feed: the campaign's start


@dataclass(frozen=True)
class AtomEntry:
    title: str
    url: str  # absolute; also the entry's id
    published: datetime  # naive UTC
    updated: datetime  # naive UTC
    summary: str = ""  # plain text
    content_html: str = ""  # sanitised HTML (sent escaped, type="html")
    categories: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (term, label)


def _x(text: str | None) -> str:
    """Text safe for XML 1.0 (ElementTree escapes markup; this drops forbidden characters)."""
    return _XML_BAD.sub("", text or "")


def _time(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def atom_response(*, title: str, subtitle: str, self_url: str, alt_url: str, base_url: str,
                  entries: list[AtomEntry], author: str = "广货网上行", max_age: int = 300):
    """The feed document with ``ETag`` (a reader polling an unchanged feed gets 304).

    ``base_url`` (``xml:base``) resolves the site-relative links inside entry content.
    """
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(q("feed"), {"xml:lang": "zh-CN", "xml:base": base_url})
    ET.SubElement(feed, q("title")).text = _x(title)
    ET.SubElement(feed, q("subtitle")).text = _x(subtitle)
    ET.SubElement(feed, q("id")).text = self_url
    ET.SubElement(feed, q("link"), {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(feed, q("link"), {"rel": "alternate", "type": "text/html", "href": alt_url})
    ET.SubElement(feed, q("updated")).text = _time(max((e.updated for e in entries), default=EPOCH))
    ET.SubElement(ET.SubElement(feed, q("author")), q("name")).text = _x(author)
    ET.SubElement(feed, q("generator")).text = "广货网上行"
    for item in entries:
        entry = ET.SubElement(feed, q("entry"))
        ET.SubElement(entry, q("title")).text = _x(item.title)
        ET.SubElement(entry, q("id")).text = item.url
        ET.SubElement(entry, q("link"), {"rel": "alternate", "type": "text/html", "href": item.url})
        ET.SubElement(entry, q("published")).text = _time(item.published)
        ET.SubElement(entry, q("updated")).text = _time(item.updated)
        for term, label in item.categories:
            ET.SubElement(entry, q("category"), {"term": _x(term), "label": _x(label)})
        if item.summary:
            ET.SubElement(entry, q("summary"), {"type": "text"}).text = _x(item.summary)
        if item.content_html:
            ET.SubElement(entry, q("content"), {"type": "html"}).text = _x(item.content_html)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")
    response = current_app.response_class(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.add_etag()
    return response.make_conditional(request)
