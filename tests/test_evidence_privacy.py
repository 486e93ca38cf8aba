"""Complaint evidence is not public (marketplace/views/media.py).

A screenshot uploaded through the public /report form can show a buyer's name, phone number and
address. /media/<sha256> serves it only to signed-in staff and admins, with ``private, no-store``;
anonymous visitors and merchants — the reported enterprise's owner included — get the same 404
as an unknown hash. Logos stay public with the one-year immutable cache, and an image that is
also the logo of a certified enterprise stays public (it already is, as that logo).
"""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Complaint, Image, Role, Status
from marketplace.services.images import store_image
from tests.factories import make_enterprise, make_shop, make_user

PUBLIC_CACHE = "public, max-age=31536000, immutable"


def _screenshot(color=(240, 240, 240)) -> bytes:
    """A PNG standing in for a chat screenshot with a buyer's details."""
    im = PILImage.new("RGB", (90, 160), color)
    for x in range(10, 80):
        im.putpixel((x, 20), (0, 0, 0))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _report_with_evidence(client, ent, data: bytes, shop=None) -> Complaint:
    """File a complaint through the real /report form and return the stored complaint."""
    url = f"/report?enterprise_id={ent.id}" + (f"&shop_id={shop.id}" if shop else "")
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', client.get(url).get_data(as_text=True))
    resp = client.post(url, content_type="multipart/form-data", data={
        "kind": "假冒伪劣", "description": "收到的货品做工粗糙，包装印刷模糊，疑似假冒，附聊天截图。",
        "contact": "13912345678", "evidence": (io.BytesIO(data), "聊天截图.png"), "form_token": token.group(1)})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    ref = re.search(r"TS-\d{8}-[A-Z0-9]{8}", client.get("/report/submitted").get_data(as_text=True)).group(0)
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == ref))
    assert complaint.evidence_sha256
    return complaint


@pytest.fixture
def world(app):
    """A certified enterprise with a logo, owned by a merchant; a staff user; an admin."""
    owner = make_user()
    ent = make_enterprise(owner=owner, brands=["证据测试牌"])
    shop = make_shop(ent)
    ent.logo_sha256 = store_image(_screenshot((200, 30, 30))).sha256
    staff = make_user(Role.STAFF)
    admin = make_user(Role.ADMIN)
    db.session.commit()
    return {"owner": owner, "ent": ent, "shop": shop, "staff": staff, "admin": admin}


def _client(app, login_as, user=None):
    c = app.test_client()
    if user is not None:
        login_as(user, c)
    return c


def test_evidence_is_404_for_anonymous_and_merchants_and_private_for_staff(app, client, login_as, world):
    ent, shop = world["ent"], world["shop"]
    complaint = _report_with_evidence(client, ent, _screenshot(), shop=shop)
    url = f"/media/{complaint.evidence_sha256}"
    stored = db.session.get(Image, complaint.evidence_sha256)
    unknown = "/media/" + "0" * 64

    anon = _client(app, login_as)
    owner = _client(app, login_as, world["owner"])
    other_merchant = _client(app, login_as, make_user())
    db.session.commit()
    for who, c in (("anonymous", anon), ("reported merchant", owner), ("other merchant", other_merchant)):
        c.get(unknown)  # first request of a session writes its CSRF token cookie; compare the next ones
        resp = c.get(url)
        assert resp.status_code == 404, who
        assert resp.mimetype == "text/html" and stored.data not in resp.get_data(), who
        assert "max-age=31536000" not in resp.headers.get("Cache-Control", ""), who
        # Indistinguishable from a hash that was never stored: same body (the 404 page echoes
        # the path in its script switch link), same headers.
        missing = c.get(unknown)
        assert resp.get_data() == missing.get_data().replace(b"0" * 64, complaint.evidence_sha256.encode()), who
        assert sorted(resp.headers.items()) == sorted(missing.headers.items()), who
        # A conditional request must not turn into a 304 that confirms the hash either.
        assert c.get(url, headers={"If-None-Match": f'"{complaint.evidence_sha256}"'}).status_code == 404

    for role in ("staff", "admin"):
        c = _client(app, login_as, world[role])
        resp = c.get(url)
        assert resp.status_code == 200, role
        assert resp.headers["Cache-Control"] == "private, no-store", role
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Type"] == stored.mime
        assert resp.get_data() == stored.data
        # the staff console's evidence link still lands on the image
        hop = c.get(f"/staff/complaints/{complaint.id}/evidence")
        assert hop.status_code == 302 and hop.headers["Location"].endswith(url)
        page = c.get(f"/staff/complaints/{complaint.id}").get_data(as_text=True)
        assert f'src="{url}"' in page


def test_logo_stays_public_with_immutable_cache(app, client, login_as, world):
    ent = world["ent"]
    _report_with_evidence(client, ent, _screenshot())  # some evidence exists in the table
    url = f"/media/{ent.logo_sha256}"
    for user in (None, world["owner"], world["staff"]):
        resp = _client(app, login_as, user).get(url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == PUBLIC_CACHE
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Type"] == db.session.get(Image, ent.logo_sha256).mime


def test_image_that_is_also_a_certified_logo_stays_public(app, client, login_as, world):
    """Evidence bytes identical to a public logo (same hash) are already public as that logo."""
    ent = world["ent"]
    logo_bytes = _screenshot((200, 30, 30))  # the bytes the world fixture stored as the logo
    complaint = _report_with_evidence(client, ent, logo_bytes)
    assert complaint.evidence_sha256 == ent.logo_sha256
    resp = _client(app, login_as).get(f"/media/{complaint.evidence_sha256}")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == PUBLIC_CACHE

    # ... but only while that enterprise is public: a suspended enterprise's logo is no cover.
    ent.status = Status.SUSPENDED
    db.session.commit()
    assert _client(app, login_as).get(f"/media/{complaint.evidence_sha256}").status_code == 404
    assert _client(app, login_as, world["owner"]).get(f"/media/{complaint.evidence_sha256}").status_code == 404
    staff = _client(app, login_as, world["staff"]).get(f"/media/{complaint.evidence_sha256}")
    assert staff.status_code == 200 and staff.headers["Cache-Control"] == "private, no-store"


def test_merchant_complaint_page_shows_a_note_instead_of_a_broken_image(app, client, login_as, world):
    complaint = _report_with_evidence(client, world["ent"], _screenshot())
    page = _client(app, login_as, world["owner"]).get(f"/merchant/complaints/{complaint.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "证据图片仅工作人员可见" in html
    assert complaint.evidence_sha256 not in html and "/media/" not in html.split("<main", 1)[-1]


class TestWithPageCache:
    """/media is not a page-cache endpoint: a staff fetch can never be replayed to anyone."""

    @pytest.fixture
    def app_config(self, app_config):
        app_config["PAGE_CACHE_SECONDS"] = 60
        app_config["PAGE_CACHE_CHECK_SECONDS"] = 0
        return app_config

    def test_media_is_never_stored(self, app, client, login_as, world):
        from marketplace.page_cache import is_cacheable

        assert not any(is_cacheable(e) for e in app.view_functions if e.startswith("media."))
        complaint = _report_with_evidence(client, world["ent"], _screenshot())
        evidence = f"/media/{complaint.evidence_sha256}"
        assert _client(app, login_as, world["staff"]).get(evidence).status_code == 200
        for _ in range(2):  # the second anonymous GET would be a hit had the first been stored
            resp = _client(app, login_as).get(evidence)
            assert resp.status_code == 404 and resp.headers.get("X-Page-Cache") != "hit"
            logo = _client(app, login_as).get(f"/media/{world['ent'].logo_sha256}")
            assert logo.status_code == 200 and logo.headers.get("X-Page-Cache") != "hit"
        # the page cache is on in this app, so the checks above mean something
        _client(app, login_as).get("/about")
        assert _client(app, login_as).get("/about").headers.get("X-Page-Cache") == "hit"


# --------------------------------------------------------------------------- application evidence
# The business licence and the contacts handed in with an application (services/evidence.py) are
# private too: the uploader and staff only, never cached, never in a public page, the API,
# search, sitemaps, feeds or exports.

SECRETS = {"legal_representative": "隐私法人甲", "contact_mobile": "13900001111",
           "contact_email": "privacy-contact@example.com", "registered_address": "隐私街道七十七号"}


@pytest.fixture
def applied(app, world):
    """A merchant's enterprise certified through an application with a PDF licence (2 pages)."""
    from marketplace.services import review
    from marketplace.services.listings.applications import submit_for_certification
    from tests.factories import all_codes_verified, end_gongshi, evidence_input
    from tests.test_evidence import make_pdf

    merchant = make_user()
    ent = make_enterprise(owner=merchant, status=Status.DRAFT, certificate=False, brands=["隐私测试牌"])
    make_shop(ent, status=Status.DRAFT)
    application = submit_for_certification(merchant, ent.id, evidence_input(licence=make_pdf(pages=2), **SECRETS))
    review.approve(application.id, world["staff"], shop_checks=all_codes_verified(application))
    db.session.commit()
    end_gongshi()  # the first certification takes effect after its 公示
    return {"merchant": merchant, "ent": ent, "app": application, "ev": application.evidence}


def _evidence_urls(ev):
    return {
        "merchant": [f"/merchant/evidence/{ev.id}/licence", f"/merchant/evidence/{ev.id}/pages/1"],
        "staff": [f"/staff/evidence/{ev.id}/licence", f"/staff/evidence/{ev.id}/pages/2"],
        "media": [f"/media/{ev.licence_sha256}"],
    }


def _leaks(resp, ev) -> bool:
    body = resp.get_data()
    return ev.licence_data in body or any(p.data in body for p in ev.pages)


def test_evidence_routes_refuse_anonymous_visitors_and_other_merchants(app, login_as, world, applied):
    ev = applied["ev"]
    urls = _evidence_urls(ev)
    anon, other = _client(app, login_as), _client(app, login_as, make_user())
    db.session.commit()
    for url in urls["merchant"] + urls["staff"]:
        resp = anon.get(url)
        assert resp.status_code == 302 and "/account/login" in resp.headers["Location"], url
        assert not _leaks(resp, ev)
    for url in urls["merchant"]:
        resp = other.get(url)
        assert resp.status_code == 404 and not _leaks(resp, ev), url
    for url in urls["staff"]:
        resp = other.get(url)
        assert resp.status_code == 403 and not _leaks(resp, ev), url
    for c in (anon, other):
        assert c.get(urls["media"][0]).status_code == 404
        assert c.get(f"/merchant/applications/{applied['app'].id}").status_code in (302, 404)
        assert c.get(f"/staff/review/{applied['app'].id}").status_code in (302, 403)


def test_evidence_is_served_privately_to_its_uploader_and_staff(app, login_as, world, applied):
    ev = applied["ev"]
    urls = _evidence_urls(ev)
    owner = _client(app, login_as, applied["merchant"])
    staff = _client(app, login_as, world["staff"])
    # the uploader: own evidence only through the merchant routes (the staff ones are staff-only)
    for client, allowed, refused in ((owner, urls["merchant"], urls["staff"]),
                                     (staff, urls["staff"], urls["merchant"])):
        for url in allowed:
            resp = client.get(url)
            assert resp.status_code == 200, url
            assert resp.headers["Cache-Control"] == "private, no-store"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "noindex" in resp.headers["X-Robots-Tag"]
            if url.endswith("/licence"):  # the PDF itself: a download, never inline
                assert resp.headers["Content-Type"] == "application/pdf"
                assert resp.headers["Content-Disposition"].startswith("attachment;")
            else:
                assert resp.headers["Content-Type"] == "image/jpeg"
                assert resp.headers["Content-Disposition"].startswith("inline;")
        for url in refused:
            assert client.get(url).status_code == 403, url
        assert client.get(urls["media"][0]).status_code == 404
    page = owner.get(f"/merchant/applications/{applied['app'].id}").get_data(as_text=True)
    assert SECRETS["legal_representative"] in page and urls["merchant"][0] in page


def test_evidence_never_reaches_public_pages_api_search_sitemaps_feeds_or_exports(app, login_as, world, applied):
    from marketplace.search_sync.documents import enterprise_doc

    ent = applied["ent"]
    anon = _client(app, login_as)
    public = [f"/enterprises/{ent.id}", f"/api/v1/enterprises/{ent.id}", "/api/v1/enterprises", "/api/v1/shops",
              "/api/v1/certified-shops", "/api/v1/changes", f"/api/v1/search?q={ent.name}", f"/search?q={ent.name}",
              "/sitemap.xml", "/sitemaps/1.xml", "/feeds/new.atom", f"/verify?q={ent.name}", "/enterprises",
              f"/qr/enterprises/{ent.id}.svg"]
    for url in public:
        resp = anon.get(url)
        body = resp.get_data(as_text=True) if resp.mimetype.startswith(("text/", "application/")) else ""
        assert not any(secret in body for secret in SECRETS.values()), url
        assert f"/evidence/{applied['ev'].id}" not in body, url
    assert ent.name in anon.get(f"/enterprises/{ent.id}").get_data(as_text=True)  # the page is really public
    doc = str(enterprise_doc(ent))
    assert not any(secret in doc for secret in SECRETS.values())
    staff = _client(app, login_as, world["staff"])
    for kind in ("enterprises", "shops"):
        export = staff.post("/staff/export.csv", data={"status": "all", "file": kind})
        assert export.status_code == 200 and ent.uscc in export.get_data(as_text=True)
        assert not any(secret in export.get_data(as_text=True) for secret in SECRETS.values())


def test_evidence_routes_are_never_page_cached(app):
    from marketplace.page_cache import is_cacheable

    for endpoint in ("merchant.evidence_licence", "merchant.evidence_page", "staff.evidence_licence",
                     "staff.evidence_page", "staff.application", "merchant.application_view",
                     "merchant.enterprise_evidence", "merchant.enterprise_submit", "merchant.claim",
                     "staff.authorization_letter", "staff.authorization_letter_page"):
        assert endpoint in app.view_functions and not is_cacheable(endpoint)
