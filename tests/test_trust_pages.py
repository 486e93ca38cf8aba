"""Certificate pages, QR codes, badges, share tags, sitemaps, robots.txt, Atom feeds and the
繁體 switch."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from marketplace.clock import china_today
from marketplace.extensions import db
from marketplace.models import Status
from marketplace.views.script_switch import convert_html
from tests.factories import make_enterprise, make_shop

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ent(app):
    e = make_enterprise("广东省佛山市顺德区美好电器有限公司", brands=["美好电器"], industries=["家电"],
                        description="广东顺德的家电企业 <b>不是</b> & “引号”")
    make_shop(e, url="https://meihao.tmall.com/")
    db.session.commit()
    return e


# ------------------------------------------------------------------ certificate, QR, badge

def test_certificate_page_printable_with_qr(client, ent):
    cert = ent.certificate
    resp = client.get(f"/certificates/{cert.number}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert cert.number in html and ent.name in html and ent.uscc in html
    assert cert.valid_until.strftime("%Y-%m-%d") in html
    assert 'src="data:image/svg+xml' in html  # QR code inline (CSP allows img data:)
    assert "data-print" in html and "js/trust.js" in html
    assert f"/badges/{cert.number}.svg" in html and "&lt;a href=" in html  # embed code, escaped
    assert "noindex" not in html
    # lower-case number works too
    assert client.get(f"/certificates/{cert.number.lower()}").status_code == 200


def test_certificate_page_says_revoked(client, ent):
    ent.status = Status.REVOKED
    ent.certificate.status = "revoked"
    db.session.commit()
    resp = client.get(f"/certificates/{ent.certificate.number}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "此证书目前无效" in html and "已撤销" in html
    assert resp.headers["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("number", ["GDWS-1999-000001", "..%2f..%2fetc", "<script>", "a" * 300])
def test_unknown_certificate_404(client, ent, number):
    assert client.get(f"/certificates/{number}").status_code == 404
    assert client.get(f"/badges/{number}.svg").status_code == 404


def test_qr_codes(client, ent):
    cert = ent.certificate
    svg = client.get(f"/qr/certificates/{cert.number}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    ET.fromstring(svg.data)  # well-formed
    png = client.get(f"/qr/enterprises/{ent.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/qr/enterprises/{ent.id}.gif").status_code == 404
    hidden = make_enterprise(status=Status.PENDING)
    db.session.commit()
    assert client.get(f"/qr/enterprises/{hidden.id}.svg").status_code == 404


def test_qr_code_encodes_the_page_url(client, ent):
    """Decode the QR code's modules back into text with segno's own encoder for comparison."""
    import segno

    expected = segno.make(f"http://localhost/enterprises/{ent.id}", error="m", micro=False)
    import io

    buf = io.BytesIO()
    expected.save(buf, kind="svg", scale=6, border=2, xmldecl=True, title=f"{ent.display_name} 二维码",
                  dark="#1a1a1a")
    assert client.get(f"/qr/enterprises/{ent.id}.svg").data == buf.getvalue()


def test_badge_valid(client, ent):
    cert = ent.certificate
    resp = client.get(f"/badges/{cert.number}.svg")
    svg = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert "max-age=300" in resp.headers["Cache-Control"] and resp.headers["ETag"]
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "广货网上行 认证" in svg and cert.number in svg and "已失效" not in svg
    assert f"http://localhost/certificates/{cert.number}" in svg
    assert "<script" not in svg


@pytest.mark.parametrize("change", ["revoked", "suspended", "expired", "past_date", "enterprise_suspended"])
def test_badge_of_invalid_certificate_says_invalid(client, ent, change):
    cert = ent.certificate
    before = client.get(f"/badges/{cert.number}.svg")
    if change == "past_date":
        cert.valid_until = china_today() - timedelta(days=1)
    elif change == "enterprise_suspended":
        ent.status = Status.SUSPENDED
    else:
        cert.status = change
    db.session.commit()
    resp = client.get(f"/badges/{cert.number}.svg", headers={"If-None-Match": before.headers["ETag"]})
    assert resp.status_code == 200  # the cached valid badge is not reused
    assert "已失效" in resp.get_data(as_text=True)


def test_enterprise_page_share_tags_jsonld_and_qr(client, ent):
    resp = client.get(f"/enterprises/{ent.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    head = html.split("</head>")[0]
    assert '<meta property="og:title"' in head and '<meta property="og:url" content="http://localhost/enterprises/' in head
    assert 'name="twitter:card"' in head
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.S)
    data = json.loads(m.group(1))
    assert data["@type"] == "Organization" and data["legalName"] == ent.name and data["taxID"] == ent.uscc
    assert data["hasCredential"]["identifier"] == ent.certificate.number
    assert "https://meihao.tmall.com/" in data["sameAs"]
    assert "<b>" not in m.group(1)  # HTML in the description cannot break out of the script block
    assert f"/qr/enterprises/{ent.id}.svg" in html and "微信扫一扫" in html
    assert data["url"] == "http://localhost/enterprises/%d" % ent.id == data["@id"].split("#")[0]
    assert data["hasCredential"]["url"] == f"http://localhost/certificates/{ent.certificate.number}"


def test_enterprise_jsonld_claims_no_credential_once_the_certificate_expired(client, ent):
    ent.certificate.valid_until = china_today() - timedelta(days=1)
    db.session.commit()
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert "hasCredential" not in data and data["legalName"] == ent.name
    # the share box still links the certificate, saying it is no longer valid
    assert f"/certificates/{ent.certificate.number}" in html and "（已失效）" in html


# ------------------------------------------------------------------ sitemaps, robots, feeds

def _sitemap_locs(client) -> list[str]:
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index.mimetype == "application/xml"
    files = [e.text for e in ET.fromstring(index.data).iter(SM + "loc")]
    locs = []
    for f in files:
        resp = client.get(f.replace("http://localhost", ""))
        assert resp.status_code == 200
        locs += [e.text for e in ET.fromstring(resp.data).iter(SM + "loc")]
    return locs


def test_sitemap_lists_every_public_page_and_nothing_else(client, ent):
    others = [make_enterprise(city_name="广州") for _ in range(3)]
    hidden = {s: make_enterprise(status=s) for s in (Status.DRAFT, Status.PENDING, Status.REJECTED,
                                                      Status.SUSPENDED, Status.REVOKED, Status.EXPIRED)}
    expired_cert = make_enterprise()
    expired_cert.certificate.valid_until = china_today() - timedelta(days=1)
    db.session.commit()
    locs = _sitemap_locs(client)
    assert len(locs) == len(set(locs))
    public = [ent, *others, expired_cert]
    for e in public:
        assert f"http://localhost/enterprises/{e.id}" in locs
    for e in hidden.values():
        assert f"http://localhost/enterprises/{e.id}" not in locs
        assert not any(e.certificate and e.certificate.number in loc for loc in locs)
    assert f"http://localhost/certificates/{ent.certificate.number}" in locs
    assert f"http://localhost/certificates/{expired_cert.certificate.number}" not in locs
    assert "http://localhost/cities/guangzhou" in locs and "http://localhost/industries/home-appliances" in locs
    assert "http://localhost/platforms/tmall" in locs and "http://localhost/verify" in locs
    enterprise_locs = [loc for loc in locs if "/enterprises/" in loc]
    assert len(enterprise_locs) == len(public)
    assert not any(p in loc for loc in locs for p in ("/merchant", "/staff", "/account", "/go/", "/api/"))


def test_sitemap_split_into_files(app, client, ent):
    for _ in range(4):
        make_enterprise()
    db.session.commit()
    all_locs = _sitemap_locs(client)
    app.config["SITEMAP_MAX_URLS"] = 7
    index = ET.fromstring(client.get("/sitemap.xml").data)
    files = [e.text for e in index.iter(SM + "loc")]
    assert len(files) == -(-len(all_locs) // 7) and len(files) > 1
    split = []
    for f in files:
        part = [e.text for e in ET.fromstring(client.get(f.replace("http://localhost", "")).data).iter(SM + "loc")]
        assert 0 < len(part) <= 7
        split += part
    assert split == all_locs
    assert client.get(f"/sitemaps/{len(files) + 1}.xml").status_code == 404
    assert client.get("/sitemaps/0.xml").status_code == 404


def test_robots_txt(client):
    resp = client.get("/robots.txt")
    text = resp.get_data(as_text=True)
    assert resp.mimetype == "text/plain"
    for path in ("/merchant", "/staff", "/account", "/go/"):
        assert f"Disallow: {path}" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text


@pytest.fixture
def canonical_base(app_config):
    app_config["SERVER_NAME_FOR_LINKS"] = "https://gdws.example.cn"
    app_config["EXTRA_TRUSTED_HOSTS"] = "www.gdws.example.cn"


def test_sitemap_uses_the_canonical_base(canonical_base, client, ent):
    """Links never follow the request's host: an alias host still gets the canonical links."""
    resp = client.get("/sitemap.xml", base_url="http://www.gdws.example.cn")
    assert b"https://gdws.example.cn/sitemaps/1.xml" in resp.data and b"www.gdws" not in resp.data


def _feed_entries(client, path):
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    root = ET.fromstring(resp.data)  # well-formed
    assert root.tag == ATOM + "feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(ATOM + tag) is not None
    entries = root.findall(ATOM + "entry")
    for e in entries:
        for tag in ("id", "title", "updated", "link", "summary"):
            assert e.find(ATOM + tag) is not None
    return root, entries


def test_atom_feeds(client, ent):
    gz = make_enterprise("广州新认证有限公司", brands=["羊城<&>"], city_name="广州", industries=["陶瓷"])
    make_enterprise("待审核有限公司", status=Status.PENDING)
    revoked = make_enterprise("已撤销有限公司", status=Status.REVOKED)
    db.session.commit()
    root, entries = _feed_entries(client, "/feeds/new.atom")
    links = [e.find(ATOM + "link").get("href") for e in entries]
    assert f"http://localhost/enterprises/{gz.id}" in links and f"http://localhost/enterprises/{ent.id}" in links
    assert f"http://localhost/enterprises/{revoked.id}" not in links and len(links) == 2
    titles = [e.find(ATOM + "title").text for e in entries]
    assert any("羊城<&>" in t for t in titles)  # escaped in XML, intact once parsed
    summary = next(e for e in entries if e.find(ATOM + "link").get("href").endswith(f"/{ent.id}")).find(ATOM + "summary").text
    assert "<b>不是</b>" in summary

    _, city_entries = _feed_entries(client, "/feeds/cities/guangzhou.atom")
    assert [e.find(ATOM + "link").get("href") for e in city_entries] == [f"http://localhost/enterprises/{gz.id}"]
    _, ind_entries = _feed_entries(client, "/feeds/industries/home-appliances.atom")
    assert [e.find(ATOM + "link").get("href") for e in ind_entries] == [f"http://localhost/enterprises/{ent.id}"]
    assert client.get("/feeds/cities/nowhere.atom").status_code == 404
    assert client.get("/feeds/industries/nothing.atom").status_code == 404


# ------------------------------------------------------------------ 繁體

def test_traditional_switch_converts_and_cookie_persists(client, ent):
    page = f"/enterprises/{ent.id}"
    plain = client.get(page).get_data(as_text=True)
    assert "广东省佛山市" in plain and "繁體" in plain and 'lang="zh-CN"' in plain
    resp = client.get(page + "?script=hant")
    html = resp.get_data(as_text=True)
    assert "廣東省佛山市" in html and "广东省佛山市" not in html
    assert '<html lang="zh-Hant"' in html
    assert "Cookie" in resp.headers["Vary"]
    assert "script=hant" in resp.headers["Set-Cookie"]
    # the cookie keeps it on for the next page, same URL without a parameter
    assert "廣東" in client.get("/verify").get_data(as_text=True)
    assert "廣東省佛山市" in client.get(page).get_data(as_text=True)
    # and ?script=hans switches back
    back = client.get(page + "?script=hans")
    assert "广东省佛山市" in back.get_data(as_text=True)
    assert "广东省佛山市" in client.get(page).get_data(as_text=True)


def test_traditional_keeps_urls_scripts_and_form_values(client, ent):
    html = client.get("/verify?script=hant&q=广东美好电器").get_data(as_text=True)
    assert 'value="广东美好电器"' in html  # what the user typed is posted back unchanged
    assert "驗證" in html
    page = client.get(f"/enterprises/{ent.id}?script=hant").get_data(as_text=True)
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert json.loads(m.group(1))["legalName"] == ent.name  # data blocks untouched


def test_traditional_not_applied_to_api_and_consoles(client, ent):
    client.get("/?script=hant")
    data = client.get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert data["name"] == ent.name
    for path in ("/merchant/", "/staff/", "/account/login"):
        resp = client.get(path)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            assert "<html lang=\"zh-Hant\"" not in resp.get_data(as_text=True)


def test_convert_html_unit():
    html = ('<html lang="zh-CN"><head><title>广东</title><meta name="description" content="广东发现">'
            '<script>var a="广东";</script><style>/* 广东 */</style></head><body>'
            '<a href="/search?q=广东" title="广东">广东</a><input name="q" value="广东" placeholder="广东">'
            '<textarea>广东</textarea><button type="submit">发现</button>'
            '<input type="submit" value="发现"><!-- 广东 --></body></html>')
    out = convert_html(html)
    assert '<html lang="zh-Hant">' in out
    assert "<title>廣東</title>" in out and 'content="廣東發現"' in out
    assert 'var a="广东";' in out and "/* 广东 */" in out and "<!-- 广东 -->" in out
    assert 'href="/search?q=广东"' in out and 'title="廣東">廣東</a>' in out
    assert 'value="广东" placeholder="廣東"' in out and "<textarea>广东</textarea>" in out
    assert '<button type="submit">發現</button>' in out and '<input type="submit" value="發現">' in out
