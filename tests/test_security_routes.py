"""Security checks generated from the app's URL map × roles (accounts, authorization, output,
uploads).

Every route registered by any blueprint is covered automatically: a new POST route must refuse a
missing CSRF token and an oversized body, a new ``<int:...>`` route under /merchant must refuse
another merchant's object, a new /staff route must refuse merchants, and every response must
carry the security headers. Each test walks all routes and reports every failure at once.

Roles: anonymous, merchant A (owns the objects), merchant B (the attacker), staff.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Role, Status
from tests import factories as f

ARG = re.compile(r"<(?:(?P<conv>[^:<>]+):)?(?P<name>\w+)>")
STAFF_PREFIXES = ("/staff", "/admin")
MERCHANT_PREFIXES = ("/merchant",)
# Endpoints that legitimately accept a POST without a CSRF token (none today). A JSON API that
# exempts itself must authenticate without cookies; list it here with the reason.
CSRF_EXEMPT: dict[str, str] = {}

XSS_NAME = '<script>alert("name")</script>岭南测试有限公司'
XSS_BRAND = '"><img src=x onerror=alert(1)>'
XSS_DESC = "{{7*7}} <b>bold</b> <svg onload=alert(2)> 描述"
RAW_PAYLOADS = ("<script>alert(", "<img src=x onerror", "<b>bold</b>", "<svg onload")

EVIL_NEXT = [
    "https://evil.example", "//evil.example", "/\t/evil.example", "\t//evil.example",
    "https:evil.example", "http://x@evil.example", "javascript:alert(1)", "/\\evil.example",
    "///evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example",
]


def fill(rule: str, values: dict) -> str:
    """The rule's path with ``values`` substituted (unknown int args get an id nobody has)."""
    def sub(m):
        name, conv = m["name"], (m["conv"] or "string")
        if name in values:
            return quote(str(values[name]), safe="/")
        return "99999999" if conv.startswith("int") else "x"
    return ARG.sub(sub, rule)


def routes(app, method: str):
    """(rule string, endpoint, argument names) for every rule answering ``method``."""
    out = []
    for rule in app.url_map.iter_rules():
        if method in rule.methods and rule.endpoint != "static":
            out.append((rule.rule, rule.endpoint, [m["name"] for m in ARG.finditer(rule.rule)]))
    return sorted(out)


def db_state() -> dict:
    """Every row of every table (the database is tiny in these tests): used to prove 'unchanged'."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted(repr(tuple(r)) for r in rows)
    return state


def state_diff(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


@pytest.fixture
def world(app):
    """Merchant A with draft and certified listings, an application and a complaint; merchant B
    with its own enterprise; a staff member. Texts carry XSS payloads."""
    from marketplace.models import Application, Complaint
    from marketplace.services.reports import open_periods

    last_month = open_periods()[0].strftime("%Y-%m")  # a month merchant A may file (monthly reports)
    a = f.make_user(Role.MERCHANT, email="a@example.com")
    b = f.make_user(Role.MERCHANT, email="b@example.com")
    staff = f.make_user(Role.STAFF, email="staff@example.com")
    a_draft = f.make_enterprise(owner=a, status=Status.DRAFT)
    a_draft_shop = f.make_shop(a_draft, status=Status.DRAFT)
    a_cert = f.make_enterprise(XSS_NAME, brands=[XSS_BRAND], description=XSS_DESC, owner=a)
    a_cert_shop = f.make_shop(a_cert, name=XSS_BRAND + "店")
    b_ent = f.make_enterprise(owner=b, status=Status.DRAFT)
    application = Application(kind="enterprise", enterprise=a_draft, applicant_id=a.id, payload={})
    db.session.add(application)
    complaint = Complaint(reference="TS-XSS-0001", enterprise=a_cert, shop=a_cert_shop, kind="假冒伪劣",
                          description=XSS_DESC, contact="c@example.com")
    db.session.add(complaint)
    from datetime import timedelta

    from marketplace.clock import china_today
    from marketplace.models import BrandAuthorization, ShopAuthorization
    authorization = BrandAuthorization(  # A's brand, granted to A's other enterprise, with a letter
        source="letter", status="active", brand_name=XSS_BRAND, grantor_uscc=a_cert.uscc, grantor_name=XSS_NAME,
        distributor_uscc=a_draft.uscc, valid_from=china_today(), valid_until=china_today() + timedelta(days=30),
        letter_data=b"\xff\xd8\xff", letter_mime="image/jpeg", letter_sha256="0" * 64,
        platforms=[a_draft_shop.platform], links=[ShopAuthorization(shop=a_draft_shop)])
    db.session.add(authorization)
    from tests.test_evidence import make_pdf
    evidence = f.make_evidence(a_draft, a, licence=make_pdf())  # A's private licence (a PDF: page 1 exists)
    event = f.make_event(slug="xss-event", name=XSS_NAME[:40])
    offer = f.make_offer(event, a_cert_shop, kind="gift", terms=XSS_DESC, coupon_code="XSS")
    from marketplace.models import Product, ProductLink
    product = Product(enterprise=a_cert, industry=f.industry("家电"), name=XSS_BRAND, description=XSS_DESC,
                      price_min_fen=100, price_max_fen=200, status="approved",
                      links=[ProductLink(shop=a_cert_shop, url="https://detail.tmall.com/item.htm?id=1")])
    db.session.add(product)
    db.session.commit()
    return {
        "a": a, "b": b, "staff": staff, "a_draft": a_draft, "a_draft_shop": a_draft_shop,
        "a_cert": a_cert, "a_cert_shop": a_cert_shop, "b_ent": b_ent, "application": application,
        "complaint": complaint,
        # A's objects by URL argument name, in two sets (unpublished and certified)
        "a_values": [
            {"enterprise_id": a_draft.id, "shop_id": a_draft_shop.id, "application_id": application.id,
             "complaint_id": complaint.id, "id": a_draft.id, "period": last_month, "event_id": event.id,
             "offer_id": offer.id, "auth_id": authorization.id, "product_id": product.id, "evidence_id": evidence.id,
             "page_no": 1},
            {"enterprise_id": a_cert.id, "shop_id": a_cert_shop.id, "application_id": application.id,
             "complaint_id": complaint.id, "id": a_cert.id, "period": last_month, "event_id": event.id,
             "offer_id": offer.id, "auth_id": authorization.id, "product_id": product.id, "evidence_id": evidence.id,
             "page_no": 1},
        ],
        "public_values": {"enterprise_id": a_cert.id, "shop_id": a_cert_shop.id, "complaint_id": complaint.id,
                          "slug": "foshan", "reference": "TS-XSS-0001", "number": "GDWS-0000-000000",
                          "filename": "css/site.css", "product_id": product.id},
    }


def new_client(app):
    return app.test_client()


def as_user(app, user):
    c = app.test_client()
    with c.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return c


HOSTILE_FORM = {
    "name": "HACKED", "description": "HACKED", "url": "https://hacked.tmall.com/", "note": "x",
    "reason": "x", "shop_type": "旗舰店", "platform_id": "1", "body": "x", "role": "admin",
    "status": "certified", "owner_id": "1", "email": "x@example.com", "confirm": "y",
}


# --------------------------------------------------------------------------- CSRF


def test_every_post_route_refuses_a_missing_csrf_token(app, world):
    """POST without a token → 400 and nothing written, for anonymous, merchant and staff."""
    failures = []
    for who in (None, world["a"], world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, _args in routes(app, "POST"):
            if endpoint in CSRF_EXEMPT:
                continue
            url = fill(rule, world["a_values"][1])
            before = db_state()
            resp = client.post(url, data=dict(HOSTILE_FORM), csrf=False)
            if resp.status_code != 400:
                failures.append(f"{who and who.role} POST {url} ({endpoint}) → {resp.status_code}, expected 400")
            changed = state_diff(before, db_state())
            if changed:
                failures.append(f"{who and who.role} POST {url} without CSRF changed {changed}")
    assert not failures, "\n".join(failures)


def test_csrf_exemptions_are_declared(app):
    """No view or blueprint silently exempts itself from CSRF protection."""
    from marketplace.extensions import csrf

    exempt = set(getattr(csrf, "_exempt_views", set())) | set(getattr(csrf, "_exempt_blueprints", set()))
    undeclared = {e for e in exempt if not any(e.endswith(name) or name.startswith(e) for name in CSRF_EXEMPT)}
    assert not undeclared, f"CSRF-exempt views not declared in CSRF_EXEMPT: {undeclared}"


# GET routes allowed to write, and what: the click-through counts the click.
GET_MAY_WRITE = {"public.go": ("click_event", "shop", "enterprise")}
# Not user state: on the embedded default a search first applies pending outbox rows to the index
# itself, which refreshes this machine's applier heartbeat (search_sync.pruning).
INFRASTRUCTURE = ("search_applier_heartbeat",)


def test_get_requests_change_nothing(app, world):
    """No GET changes state (except counting a click on /go/), for every role."""
    failures = []
    for who in (None, world["a"], world["b"], world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, _args in routes(app, "GET"):
            url = fill(rule, world["public_values"])
            before = db_state()
            client.get(url)
            allowed = GET_MAY_WRITE.get(endpoint, ()) + INFRASTRUCTURE
            changed = [t for t in state_diff(before, db_state()) if t not in allowed]
            if changed:
                failures.append(f"{who and who.role} GET {url} changed {changed}")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- authorization


def test_staff_routes_refuse_merchants_and_anonymous(app, world):
    """Every /staff route: merchant → 403 (GET and POST, nothing changed); anonymous → login or 401/403."""
    failures = []
    staff_rules = [r for m in ("GET", "POST") for r in routes(app, m) if r[0].startswith(STAFF_PREFIXES)]
    merchant = as_user(app, world["a"])
    anon = new_client(app)
    for rule, endpoint, _args in staff_rules:
        url = fill(rule, world["a_values"][1])
        for method in ("GET", "POST"):
            if method not in app.url_map._rules_by_endpoint[endpoint][0].methods:
                continue
            before = db_state()
            resp = merchant.open(url, method=method, data=dict(HOSTILE_FORM) if method == "POST" else None)
            if resp.status_code != 403:
                failures.append(f"merchant {method} {url} → {resp.status_code}, expected 403")
            resp = anon.open(url, method=method, data=dict(HOSTILE_FORM) if method == "POST" else None)
            location = resp.headers.get("Location", "")
            if not (resp.status_code in (401, 403) or (resp.status_code in (302, 303) and "/login" in location)):
                failures.append(f"anonymous {method} {url} → {resp.status_code} {location}")
            changed = state_diff(before, db_state())
            if changed:
                failures.append(f"{method} {url} by merchant/anonymous changed {changed}")
    assert not failures, "\n".join(failures)


def test_merchant_routes_refuse_another_merchants_objects(app, world):
    """IDOR: merchant B on every /merchant route with A's ids → 403/404, A's data unchanged."""
    failures = []
    unknown = set()
    b = as_user(app, world["b"])
    for method in ("GET", "POST"):
        for rule, endpoint, args in routes(app, method):
            if not rule.startswith(MERCHANT_PREFIXES) or not args:
                continue
            for values in world["a_values"]:
                missing = [a for a in args if a not in values]
                if missing:
                    unknown.update(f"{rule}:{a}" for a in missing)
                    continue
                url = fill(rule, values)
                before = db_state()
                resp = b.open(url, method=method, data=dict(HOSTILE_FORM) if method == "POST" else None)
                if resp.status_code not in (403, 404):
                    failures.append(f"merchant B {method} {url} → {resp.status_code}, expected 403/404")
                changed = state_diff(before, db_state())
                if changed:
                    failures.append(f"merchant B {method} {url} changed {changed}")
    assert not unknown, (f"route arguments this test does not know how to fill with merchant A's objects: "
                         f"{sorted(unknown)} — add them to world['a_values'] in {__file__}")
    assert not failures, "\n".join(failures)


def test_merchant_routes_send_anonymous_users_to_login(app, world):
    failures = []
    anon = new_client(app)
    for rule, endpoint, _args in routes(app, "GET"):
        if not rule.startswith(MERCHANT_PREFIXES):
            continue
        url = fill(rule, world["a_values"][0])
        resp = anon.get(url)
        if not (resp.status_code in (401, 403) or (resp.status_code in (302, 303) and "/login" in resp.headers["Location"])):
            failures.append(f"anonymous GET {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_staff_cannot_use_merchant_pages_on_merchant_objects(app, world):
    """Staff act through the console, not by editing a merchant's listing as if they owned it."""
    staff = as_user(app, world["staff"])
    failures = []
    for rule, endpoint, args in routes(app, "POST"):
        if not rule.startswith(MERCHANT_PREFIXES) or not args:
            continue
        url = fill(rule, world["a_values"][0])
        before = db_state()
        resp = staff.post(url, data=dict(HOSTILE_FORM))
        if resp.status_code not in (403, 404):
            failures.append(f"staff POST {url} → {resp.status_code}")
        if state_diff(before, db_state()):
            failures.append(f"staff POST {url} changed {state_diff(before, db_state())}")
    assert not failures, "\n".join(failures)


def test_unpublished_listings_are_404_for_the_public_and_other_merchants(app, world):
    """Draft and pending listings → 404 for anyone but the owner and staff, on every public route."""
    failures = []
    draft = {"enterprise_id": world["a_draft"].id, "shop_id": world["a_draft_shop"].id, "id": world["a_draft"].id}
    for who in (None, world["b"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, args in routes(app, "GET"):
            if rule.startswith(MERCHANT_PREFIXES + STAFF_PREFIXES) or not args or not set(args) <= set(draft):
                continue
            url = fill(rule, draft)
            resp = client.get(url)
            if resp.status_code != 404:
                failures.append(f"{who and who.role} GET {url} → {resp.status_code}, expected 404")
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------- output


class _TagAudit(HTMLParser):
    """Collects what a strict CSP would block or what a payload would inject: inline scripts,
    on* handler attributes, javascript:/vbscript:/data: URLs in links and forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and "src" not in names and not re.fullmatch(
                r"application/(ld\+)?json", names.get("type", "").strip().lower()):
            self.problems.append("inline <script> (blocked by the CSP)")
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> inline handler (blocked by the CSP)")
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                scheme = re.sub(r"[\x00-\x20]", "", value).lower().split(":", 1)[0]
                if ":" in value and scheme in ("javascript", "vbscript", "data") and not (
                        scheme == "data" and tag == "img"):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")


def _page_problems(url: str, html: str) -> list[str]:
    problems = [f"{url}: unescaped {p!r}" for p in RAW_PAYLOADS if p in html]
    audit = _TagAudit()
    audit.feed(html)
    audit.close()
    return problems + [f"{url}: {p}" for p in audit.problems]


def test_stored_xss_is_escaped_on_every_page_and_pages_satisfy_the_csp(app, world):
    """Payloads in names, brands, descriptions and complaints show escaped wherever they appear;
    no page has inline scripts, inline handlers or javascript: URLs (the CSP would block them)."""
    failures = []
    seen_payload = False
    for who in (None, world["a"], world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, args in routes(app, "GET"):
            for values in (world["public_values"], world["a_values"][1]):
                url = fill(rule, values)
                resp = client.get(url)
                if resp.status_code >= 500:
                    failures.append(f"{who and who.role} GET {url} → {resp.status_code}")
                if resp.mimetype != "text/html":
                    continue
                html = resp.get_data(as_text=True)
                seen_payload = seen_payload or "&lt;script&gt;alert(" in html
                failures.extend(_page_problems(url, html))
    assert seen_payload, "the XSS payload was not shown (escaped) on any page: the test saw nothing"
    assert not failures, "\n".join(sorted(set(failures)))


def test_enterprise_page_shows_template_syntax_as_typed(client, world):
    resp = client.get(f"/enterprises/{world['a_cert'].id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "{{7*7}}" in html
    assert "&lt;script&gt;alert(" in html


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "javascript://tmall.com/%0aalert(1)",
    "https://tmall.com.evil.example/", "https://evil-tmall.com/", "https://user@shop.tmall.com/",
])
def test_shop_urls_other_than_http_on_the_platform_are_refused(app, world, url):
    """Through the merchant service (the path every form takes): refused, nothing written."""
    from marketplace.services import ServiceError
    from marketplace.services.listings.shops import add_shop

    ent = world["a_draft"]
    before = db_state()
    with pytest.raises(ServiceError):
        add_shop(world["a"], ent.id, {
            "platform_id": f.platform("tmall").id, "name": "恶意店铺", "url": url, "shop_type": "旗舰店",
        })
    db.session.rollback()
    assert not state_diff(before, db_state())


# --------------------------------------------------------------------------- headers


def test_security_headers_on_every_response(app, world):
    """CSP (object-src 'none', base-uri 'none', frame-ancestors) and nosniff on every GET route,
    for every role, whatever the status (200, 302, 404...), static files included."""
    failures = []
    for who in (None, world["a"], world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        urls = [fill(rule, world["public_values"]) for rule, _e, _a in routes(app, "GET")]
        urls += ["/static/css/site.css", "/no/such/page", "/enterprises/99999999"]
        for url in urls:
            resp = client.get(url)
            resp.close()  # static files are streamed from disk
            csp = resp.headers.get("Content-Security-Policy", "")
            for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors", "script-src 'self'"):
                if directive not in csp:
                    failures.append(f"{url} ({resp.status_code}): CSP lacks {directive!r}")
            if resp.headers.get("X-Content-Type-Options") != "nosniff":
                failures.append(f"{url} ({resp.status_code}): no X-Content-Type-Options: nosniff")
    assert not failures, "\n".join(sorted(set(failures)))


def test_session_cookie_flags(app, world):
    client = new_client(app)
    client.get("/account/login")
    resp = client.post("/account/login", data={"email": "a@example.com", "password": "correct horse battery"})
    cookies = [v for k, v in resp.headers.items() if k.lower() == "set-cookie"]
    assert cookies, "login set no cookie"
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


# --------------------------------------------------------------------------- redirects


def _is_local(location: str) -> bool:
    if not location:
        return True
    if "\\" in location or any(ord(ch) < 32 for ch in location):
        return False
    parts = urlsplit(location)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost") and not location.startswith("//")


def test_login_next_never_leaves_the_site(app, world):
    failures = []
    for target in EVIL_NEXT:
        client = new_client(app)
        client.get("/account/login")
        resp = client.post(f"/account/login?next={quote(target)}",
                           data={"email": "a@example.com", "password": "correct horse battery", "next": target})
        location = resp.headers.get("Location", "")
        # Either logged in and sent somewhere on this site, or the form refused the value (no redirect).
        if resp.status_code in (301, 302, 303, 307, 308) and not _is_local(location):
            failures.append(f"next={target!r} → {resp.status_code} {location!r}")
        elif resp.status_code not in (200, 302, 303):
            failures.append(f"next={target!r} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_no_get_route_redirects_off_site(app, world):
    """Any GET route given ``next``/``url``/``redirect`` parameters redirects only on this site
    (``/go/<id>`` goes only to the stored, certified shop URL)."""
    failures = []
    evil = "https://evil.example/"
    for who in (None, world["a"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, args in routes(app, "GET"):
            base = fill(rule, world["public_values"])
            resp = client.get(base, query_string={"next": evil, "url": evil, "redirect": evil, "return_to": evil})
            location = resp.headers.get("Location", "")
            if resp.status_code in (301, 302, 303, 307, 308) and not _is_local(location) and \
                    endpoint != "public.go":
                failures.append(f"{who and who.role} GET {base} → {location}")
    assert not failures, "\n".join(failures)


def test_go_redirects_only_to_the_stored_certified_url(client, world):
    shop = world["a_cert_shop"]
    resp = client.get(f"/go/{shop.id}?url=https://evil.example/")
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"] == shop.url
    assert client.get(f"/go/{world['a_draft_shop'].id}").status_code == 404


# --------------------------------------------------------------------------- files and sizes


TRAVERSAL = [
    "/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py", "/static/css/../../app.py",
    "/static/..%5capp.py", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static//etc/passwd",
    "/static/%2fetc%2fpasswd", "/static/css/%2e%2e/%2e%2e/instance/secret_key",
    "/media/../app.py", "/media/..%2f..%2fapp.py", "/media/%2e%2e", "/media/" + "0" * 63 + "/",
    "/media/" + "../" * 8 + "etc/passwd", "/static/css/site.css%00.png",
]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_path_traversal_in_file_routes(client, path):
    resp = client.get(path)
    assert resp.status_code in (400, 404, 308), resp.status_code
    body = resp.get_data()
    assert b"create_app" not in body and b"root:" not in body


def test_oversized_bodies_are_refused_with_413_on_every_post_route(app, world):
    """A body over MAX_CONTENT_LENGTH (over MAX_EVIDENCE_REQUEST_BYTES on the forms that carry a
    licence or letter) → 413 on every POST route."""
    from marketplace.request_guard import EVIDENCE_UPLOAD_ENDPOINTS

    failures = []
    client = as_user(app, world["a"])
    for rule, endpoint, _args in routes(app, "POST"):
        limit = app.config["MAX_EVIDENCE_REQUEST_BYTES" if endpoint in EVIDENCE_UPLOAD_ENDPOINTS else "MAX_CONTENT_LENGTH"]
        big = b"a=" + b"x" * (limit + 1024)
        url = fill(rule, world["a_values"][0])
        resp = client.post(url, data=big, content_type="application/x-www-form-urlencoded", csrf=False)
        if resp.status_code != 413:
            failures.append(f"POST {url} with {len(big)} bytes → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_oversized_multipart_upload_is_413(app, world):
    import io

    client = as_user(app, world["a"])
    limit = app.config["MAX_CONTENT_LENGTH"]
    url = f"/merchant/enterprises/{world['a_draft'].id}/logo"
    boundary = "h7boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"big.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG" + b"0" * (limit + 10) + \
        f"\r\n--{boundary}--\r\n".encode()
    # Built by hand: the test client's own multipart builder spools big files to an unclosed temp file.
    resp = client.post(url, data=io.BytesIO(body), content_type=f"multipart/form-data; boundary={boundary}",
                       content_length=len(body))
    assert resp.status_code == 413


# --------------------------------------------------------------------------- requests and headers
# RELIABILITY.md "Requests and headers" and "Limits and concurrency across processes": a Host that
# is not this site's, bytes that are not UTF-8, rate-limit counters shared between processes
# (and what happens while their store is down), reports bounded whatever the input.

EVIL_HOST = "evil.example"
UNDECODABLE = "%E5%B9%BF%FF%FE%C0%AF"  # 广 followed by bytes that are not UTF-8


def test_every_route_refuses_an_untrusted_host(app, world):
    """GET and POST on every route with ``Host: evil.example`` → 400, the host never echoed,
    nothing written, for anonymous users and staff."""
    failures = []
    for who in (None, world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        for method in ("GET", "POST"):
            for rule, endpoint, _args in routes(app, method):
                url = fill(rule, world["public_values"] if method == "GET" else world["a_values"][1])
                before = db_state()
                resp = client.open(url, method=method, headers={"Host": EVIL_HOST},
                                   data=dict(HOSTILE_FORM) if method == "POST" else None)
                if resp.status_code != 400:
                    failures.append(f"{who and who.role} {method} {url} with Host {EVIL_HOST} → {resp.status_code}")
                if EVIL_HOST.encode() in resp.get_data():
                    failures.append(f"{method} {url}: the untrusted host is echoed in the answer")
                if state_diff(before, db_state()):
                    failures.append(f"{method} {url} with Host {EVIL_HOST} changed {state_diff(before, db_state())}")
    assert not failures, "\n".join(failures)


def _raw_form(client, extra: str) -> str:
    """HOSTILE_FORM urlencoded with a valid CSRF token, every value followed by ``extra`` as is."""
    from urllib.parse import urlencode

    pairs = urlencode({"csrf_token": client.csrf_token()})
    return pairs + "".join(f"&{k}={quote(v)}{extra}" for k, v in HOSTILE_FORM.items())


def test_every_form_route_refuses_undecodable_bytes(app, world):
    """POST to every route (valid CSRF token) with bytes that are not UTF-8 in every field, or as
    a multipart file name → 400 with the Chinese message, nothing written; anonymous, merchant,
    staff."""
    failures = []
    boundary = "gdwsboundary"
    for who in (None, world["a"], world["staff"]):
        client = as_user(app, who) if who else new_client(app)
        for rule, endpoint, _args in routes(app, "POST"):
            url = fill(rule, world["a_values"][0])
            token = client.csrf_token()
            multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
                         f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").encode() + \
                b"\xff\xfe.csv\"\r\n\r\nuscc,name\r\n" + f"--{boundary}--\r\n".encode()
            for body, ctype in ((_raw_form(client, UNDECODABLE), "application/x-www-form-urlencoded"),
                                (multipart, f"multipart/form-data; boundary={boundary}")):
                before = db_state()
                resp = client.post(url, data=body, content_type=ctype, csrf=False)
                if resp.status_code != 400 or "UTF-8" not in resp.get_data(as_text=True):
                    failures.append(f"{who and who.role} POST {url} ({ctype.split(';')[0]}) → {resp.status_code}")
                if state_diff(before, db_state()):
                    failures.append(f"{who and who.role} POST {url} changed {state_diff(before, db_state())}")
    assert not failures, "\n".join(failures)


def test_every_get_route_refuses_undecodable_query_strings(app, world):
    failures = []
    client = as_user(app, world["staff"])
    for rule, endpoint, _args in routes(app, "GET"):
        url = fill(rule, world["public_values"])
        resp = client.get(f"{url}?q={UNDECODABLE}&page=1&industry={UNDECODABLE}")
        if resp.status_code != 400:
            failures.append(f"GET {url}?q={UNDECODABLE} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def limited_routes(app) -> list[tuple[str, str, str]]:
    """(rule, endpoint, method) of every route whose view carries a rate limit for that method."""
    from flask_limiter.util import get_qualified_name

    from marketplace.extensions import limiter

    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None:
            continue
        limits = limiter.limit_manager.decorated_limits(get_qualified_name(view))
        blueprint = rule.endpoint.rpartition(".")[0]
        limits += limiter.limit_manager.blueprint_limits(app, blueprint) if blueprint else []
        for method in sorted(rule.methods & {"GET", "POST"}):
            if any(lim.methods is None or method.lower() in lim.methods for lim in limits):
                out.append((rule.rule, rule.endpoint, method))
    return sorted(set(out))


@pytest.fixture
def redis_namespace():
    import uuid

    import redis

    namespace = f"test-sec-routes-{uuid.uuid4().hex[:12]}"
    yield namespace
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(conn.scan_iter(f"{namespace}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.fixture
def store_down(app_config, redis_namespace):
    from marketplace.extensions import limiter

    app_config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_NAMESPACE=redis_namespace)
    yield
    limiter._storage_dead = False  # the limiter object outlives this app (see test_auth_limits.py)


def test_rate_limited_forms_fail_closed_and_reads_fail_open_while_the_store_is_down(store_down, app, world):
    """With the rate-limit store unreachable: every POST to a rate-limited route → 503 in Chinese,
    nothing written; every GET route still answers (no 5xx)."""
    limited_posts = [(rule, endpoint) for rule, endpoint, method in limited_routes(app) if method == "POST"]
    assert {"auth.login", "auth.register", "auth.forgot_password", "complaints.new"} <= {e for _r, e in limited_posts}
    failures = []
    client = new_client(app)
    for rule, endpoint in limited_posts:
        url = fill(rule, world["public_values"])
        before = db_state()
        resp = client.post(url, data=dict(HOSTILE_FORM, password="wrong horse battery"))
        if resp.status_code != 503 or "暂时不可用" not in resp.get_data(as_text=True):
            failures.append(f"POST {url} with the store down → {resp.status_code}, expected 503")
        if state_diff(before, db_state()):
            failures.append(f"POST {url} with the store down changed {state_diff(before, db_state())}")
    for rule, endpoint, _args in routes(app, "GET"):
        url = fill(rule, world["public_values"])
        resp = client.get(url)
        if resp.status_code >= 500:
            failures.append(f"GET {url} with the store down → {resp.status_code}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def shared_store(app_config, redis_namespace):
    app_config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", RATELIMIT_NAMESPACE=redis_namespace)
    return app_config


def test_every_rate_limit_is_counted_across_processes(shared_store, app, world):
    """Per-process counters are N times too loose under N workers. Every limited route is hit once
    through this app and once through a second app (another worker) on the same store: the
    second sees the first one's request in its remaining budget."""
    from marketplace import create_app

    other = create_app(dict(shared_store))
    checked, failures = [], []
    clients = (new_client(app), other.test_client())
    for rule, endpoint, method in limited_routes(app):
        url = fill(rule, world["public_values"])
        remaining = []
        for client in clients:
            if method == "POST":
                client.get(url)  # the form's page first, as a browser does
            resp = client.open(url, method=method, data=dict(HOSTILE_FORM, password="wrong horse battery")
                               if method == "POST" else None)
            remaining.append((int(resp.headers.get("X-RateLimit-Limit", 0)),
                              int(resp.headers.get("X-RateLimit-Remaining", -1))))
        (limit_a, left_a), (_limit_b, left_b) = remaining
        if left_a < 0 or left_a == limit_a:
            continue  # this request was not counted (e.g. a form that did nothing): nothing to compare
        checked.append(endpoint)
        if not left_b < left_a:
            failures.append(f"{method} {url}: the second process saw {left_b} left after the first's {left_a}")
    with other.app_context():
        db.engine.dispose()
    assert {"auth.login", "api.platforms", "complaints.lookup"} <= set(checked), checked
    assert not failures, "\n".join(failures)


def _hostile_list(items: int) -> str:
    return "；".join(f"未知项{n}" for n in range(items))


def test_no_form_or_query_is_amplified_into_an_unbounded_page(app, world):
    """Every report built from user input is bounded: a long list in every field of every form,
    and in every query parameter, gets an answer no bigger than a few times what was sent.
    Each route is tried by the role it is for (staff, merchant, or anyone)."""
    clients = {"staff": as_user(app, world["staff"]), "merchant": as_user(app, world["a"]), None: new_client(app)}

    def client_for(rule: str):
        return clients["staff" if rule.startswith(STAFF_PREFIXES) else
                       "merchant" if rule.startswith(MERCHANT_PREFIXES) else None]

    big = _hostile_list(1500)  # ~13 KB per field
    failures = []
    for rule, endpoint, _args in routes(app, "POST"):
        url = fill(rule, world["a_values"][0])
        form = {k: big for k in HOSTILE_FORM}
        sent = sum(len(v.encode()) for v in form.values())
        resp = client_for(rule).post(url, data=form)
        size = len(resp.get_data())
        if resp.status_code >= 500 or size > 3 * sent + 200_000:
            failures.append(f"POST {url}: {sent} bytes sent → {resp.status_code}, {size} bytes")
    query = {k: _hostile_list(150) for k in ("q", "industry", "city", "platform", "badge", "ref", "url")}
    sent = sum(len(v.encode()) for v in query.values())
    for rule, endpoint, _args in routes(app, "GET"):
        url = fill(rule, world["public_values"])
        client = client_for(rule)
        baseline = len(client.get(url).get_data())
        resp = client.get(url, query_string=query)
        size = len(resp.get_data())
        if resp.status_code >= 500 or size > baseline + 3 * sent + 50_000:
            failures.append(f"GET {url}: {sent} bytes of query → {resp.status_code}, {size} bytes (plain: {baseline})")
    assert not failures, "\n".join(failures)
