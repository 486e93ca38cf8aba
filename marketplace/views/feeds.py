"""The ``feeds`` blueprint: sitemaps, robots.txt and Atom feeds of newly certified enterprises —
what search engines and feed readers fetch.

The XML is written with ElementTree and ``saxutils.escape`` (this is also the one module the
bandit allowlist in tests/test_security_tools.py names for them); nothing here parses XML.
Everything here only reads.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time
from xml.sax.saxutils import escape

from flask import Blueprint, abort, current_app, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..clock import china_today, utc_now
from ..extensions import db
from ..models import (
    Certification, City, Enterprise, Industry, Platform, enterprise_industry, enterprise_is_public,
)
from ..services import news
from . import linking

bp = Blueprint("feeds", __name__)

SITEMAP_MAX_URLS = 50_000
FEED_SIZE = 50


# --------------------------------------------------------------------------- sitemaps

def _max_urls() -> int:
    return max(1, int(current_app.config.get("SITEMAP_MAX_URLS", SITEMAP_MAX_URLS)))


def _static_urls() -> list[tuple[str, datetime | None]]:
    return [(linking.url(endpoint), None) for endpoint in (
        "public.home", "public.browse", "public.platforms", "public.about", "trust.verify", "trust.api_docs",
        "news.index", "public.privacy", "public.terms")]


def _valid_certificates_query():
    latest = (select(func.max(Certification.id)).where(Certification.enterprise_id == Enterprise.id)
              .correlate(Enterprise).scalar_subquery())
    return (select(Certification.number, Certification.created_at)
            .join(Enterprise, Enterprise.id == Certification.enterprise_id)
            .where(enterprise_is_public(), Certification.status == "valid",
                   Certification.valid_until >= china_today(), Certification.id == latest))


def _sitemap_sections():
    """``(count, fetch(offset, limit) -> [(url, lastmod)])`` for each kind of public page, in a
    fixed order so file *n* always holds the same slice."""
    static = _static_urls()
    sections = [(len(static), lambda o, n: static[o:o + n])]
    industries = list(db.session.scalars(select(Industry).where(Industry.active.is_(True))
                                         .order_by(Industry.position, Industry.id)))
    sections.append((len(industries), lambda o, n: [(linking.industry_url(i), None) for i in industries[o:o + n]]))
    cities = list(db.session.scalars(select(City).order_by(City.position, City.id)))
    sections.append((len(cities), lambda o, n: [(linking.city_url(c), None) for c in cities[o:o + n]]))
    platforms = list(db.session.scalars(select(Platform).where(Platform.active.is_(True))
                                        .order_by(Platform.position, Platform.id)))
    sections.append((len(platforms), lambda o, n: [(linking.platform_url(p), None) for p in platforms[o:o + n]]))

    ent_count = db.session.scalar(select(func.count()).select_from(Enterprise)
                                  .where(enterprise_is_public())) or 0

    def enterprises(o, n):
        rows = db.session.execute(select(Enterprise.id, Enterprise.updated_at)
                                  .where(enterprise_is_public())
                                  .order_by(Enterprise.id).offset(o).limit(n))
        return [(linking.url("public.enterprise", enterprise_id=i), u) for i, u in rows]

    sections.append((ent_count, enterprises))
    cert_q = _valid_certificates_query()
    cert_count = db.session.scalar(select(func.count()).select_from(cert_q.subquery())) or 0

    def certificates(o, n):
        rows = db.session.execute(cert_q.order_by(Certification.id).offset(o).limit(n))
        return [(linking.url("trust.certificate", number=num), c) for num, c in rows]

    sections.append((cert_count, certificates))
    now = utc_now()  # published news (services.news decides what is public at this moment)
    sections.append((news.public_count(now), lambda o, n: [
        (linking.url("news.article", article_id=i), mod) for i, mod in news.public_ids(now, o, n)]))
    return sections


def _xml_response(body: str, mimetype: str, max_age: int = 3600):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.add_etag()
    return response.make_conditional(request)


def _w3c(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "+00:00" if value else None


@bp.route("/sitemap.xml")
def sitemap_index():
    """A sitemap index pointing at ``/sitemaps/<n>.xml`` files of at most 50,000 URLs."""
    total = sum(count for count, _ in _sitemap_sections())
    files = max(1, math.ceil(total / _max_urls()))
    today = china_today().isoformat()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for n in range(1, files + 1):
        loc = linking.url("feeds.sitemap_file", n=n)
        lines.append(f"<sitemap><loc>{escape(loc)}</loc><lastmod>{today}</lastmod></sitemap>")
    lines.append("</sitemapindex>")
    return _xml_response("\n".join(lines) + "\n", "application/xml")


@bp.route("/sitemaps/<int:n>.xml")
def sitemap_file(n: int):
    """One sitemap file: URLs ``(n-1)*max+1 .. n*max`` of the fixed order."""
    size = _max_urls()
    sections = _sitemap_sections()
    total = sum(count for count, _ in sections)
    if n < 1 or (n - 1) * size >= max(total, 1):
        abort(404)
    start, remaining = (n - 1) * size, size
    urls: list[tuple[str, datetime | None]] = []
    for count, fetch in sections:
        if remaining <= 0:
            break
        if start >= count:
            start -= count
            continue
        chunk = fetch(start, min(remaining, count - start))
        urls.extend(chunk)
        remaining -= len(chunk)
        start = 0
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in urls:
        mod = f"<lastmod>{_w3c(lastmod)}</lastmod>" if lastmod else ""
        lines.append(f"<url><loc>{escape(loc)}</loc>{mod}</url>")
    lines.append("</urlset>")
    return _xml_response("\n".join(lines) + "\n", "application/xml")


@bp.route("/robots.txt")
def robots():
    """Keep crawlers out of accounts, consoles and click-throughs; point them at the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /merchant",
        "Disallow: /staff",
        "Disallow: /account",
        "Disallow: /go/",
        "Disallow: /search",
        "Allow: /",
        "",
        f"Sitemap: {linking.url('feeds.sitemap_index')}",
        "",
    ]
    response = current_app.response_class("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --------------------------------------------------------------------------- Atom feeds

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str | None) -> str:
    """Text safe for XML 1.0 (ElementTree escapes markup; this drops forbidden characters)."""
    return _XML_BAD.sub("", text or "")


def _atom_time(value: datetime | None) -> str:
    value = value or datetime(2012, 1, 1)
    return value.replace(microsecond=0).isoformat() + "Z"


def _feed(title: str, subtitle: str, self_url: str, alt_url: str, enterprises: list[Enterprise]):
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"), {"xml:lang": "zh-CN"})
    ET.SubElement(feed, q("title")).text = _x(title)
    ET.SubElement(feed, q("subtitle")).text = _x(subtitle)
    ET.SubElement(feed, q("id")).text = self_url
    ET.SubElement(feed, q("link"), {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(feed, q("link"), {"rel": "alternate", "type": "text/html", "href": alt_url})
    updated = max((e.certified_at for e in enterprises if e.certified_at), default=None)
    ET.SubElement(feed, q("updated")).text = _atom_time(updated or datetime.combine(date(2012, 1, 1), time()))
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = "广货网上行"
    ET.SubElement(feed, q("generator")).text = "广货网上行"
    for ent in enterprises:
        url = linking.enterprise_url(ent)
        entry = ET.SubElement(feed, q("entry"))
        name = ent.display_name if ent.display_name == ent.name else f"{ent.display_name}（{ent.name}）"
        ET.SubElement(entry, q("title")).text = _x(f"新认证：{name}")
        ET.SubElement(entry, q("id")).text = url
        ET.SubElement(entry, q("link"), {"rel": "alternate", "type": "text/html", "href": url})
        ET.SubElement(entry, q("published")).text = _atom_time(ent.certified_at)
        ET.SubElement(entry, q("updated")).text = _atom_time(ent.certified_at)
        for ind in ent.industries:
            ET.SubElement(entry, q("category"), {"term": _x(ind.slug), "label": _x(ind.name)})
        cert = ent.certificate
        summary = f"{ent.city.full_name} · {'、'.join(i.name for i in ent.industries)}。"
        if ent.brand_names:
            summary += f"品牌：{'、'.join(ent.brand_names)}。"
        if cert is not None:
            summary += f"证书编号 {cert.number}，有效期至 {cert.valid_until:%Y-%m-%d}。"
        summary += (ent.description or "")[:300]
        ET.SubElement(entry, q("summary"), {"type": "text"}).text = _x(summary)
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + body
    return _xml_response(body, "application/atom+xml", max_age=600)


def _newest(extra=None) -> list[Enterprise]:
    q = (select(Enterprise).where(enterprise_is_public())
         .order_by(Enterprise.certified_at.desc().nulls_last(), Enterprise.id.desc()).limit(FEED_SIZE)
         .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                  selectinload(Enterprise.certifications)))
    if extra is not None:
        q = q.where(extra)
    return list(db.session.scalars(q))


@bp.route("/feeds/new.atom")
def feed_new():
    """Newly certified enterprises, newest first."""
    return _feed("广货网上行 · 新认证企业", "最新通过广货网上行认证的广东名优企业",
                 linking.url("feeds.feed_new"),
                 linking.url("public.browse"), _newest())


@bp.route("/feeds/industries/<slug>.atom")
def feed_industry(slug: str):
    """Newly certified enterprises of one industry."""
    ind = db.session.scalar(select(Industry).where(Industry.slug == slug, Industry.active.is_(True)))
    if ind is None:
        abort(404)
    in_industry = Enterprise.id.in_(select(enterprise_industry.c.enterprise_id)
                                    .where(enterprise_industry.c.industry_id == ind.id))
    return _feed(f"广货网上行 · {ind.name} · 新认证企业", f"{ind.name}行业最新通过认证的广东企业",
                 linking.url("feeds.feed_industry", slug=ind.slug),
                 linking.industry_url(ind), _newest(in_industry))


@bp.route("/feeds/cities/<slug>.atom")
def feed_city(slug: str):
    """Newly certified enterprises of one city."""
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        abort(404)
    return _feed(f"广货网上行 · {city.full_name} · 新认证企业", f"{city.full_name}最新通过认证的企业",
                 linking.url("feeds.feed_city", slug=city.slug),
                 linking.city_url(city), _newest(Enterprise.city_id == city.id))
