"""One commit per request (marketplace/unit_of_work.py), refusals, and mail after the commit.

The rule under test: a request's changes are committed once, after the view returned a response
below 400 without a caught refusal; everything else rolls back, and the mail queued during the
request (services/mail.py) is sent after that commit or dropped with the rollback.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask_mailman.backends.locmem import EmailBackend as LocmemBackend
from sqlalchemy import func, select, text

from marketplace.extensions import db
from marketplace.models import AppKind, Application, AppStatus, AuditLog, Enterprise, Role, Shop
from marketplace.services import Forbidden, NotFound, ServiceError, review
from marketplace.services.mail import queued_mail, read_outbox
from tests import factories as f


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)

ROOT = Path(__file__).resolve().parent.parent
VIEWS = ROOT / "marketplace" / "views"


class ProbingBackend(LocmemBackend):
    """A Flask-Mailman backend that asks the database, from another connection, what is committed
    at the moment each batch of mail is sent (``probe`` is set by the test)."""

    probe = None
    seen: list = []

    def send_messages(self, messages):
        with db.engine.connect() as conn:
            ProbingBackend.seen.append((len(messages), ProbingBackend.probe(conn)))
        return super().send_messages(messages)


@pytest.fixture
def probing(app_config):
    app_config["MAIL_BACKEND"] = ProbingBackend
    ProbingBackend.seen = []
    return ProbingBackend


def _staff(login_as):
    user = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(user)
    return user


# --------------------------------------------------------------------------- the rule, in the code

def test_views_never_commit_or_roll_back():
    """Views leave the transaction to the unit of work: no commit() / session rollback() in them."""
    offenders = []
    for path in sorted(VIEWS.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.commit\(\)|db\.session\.rollback\(\)|commit_and_notify", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_no_service_error_is_compared_by_its_message():
    """Typed exceptions (AlreadyDecided, WrongPassword, ...) instead of ``str(err) == ...``."""
    pattern = re.compile(r"str\((err|exc|e)\)\s*==|in\s+error\b|ALREADY_DECIDED")
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "marketplace").rglob("*.py"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []


def _module_imports(path: Path, package: str) -> set[str]:
    """The marketplace.views modules ``path`` imports at module level (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [target] + [f"{target}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("marketplace.views"))
    return found


def test_views_have_no_import_cycles():
    """views/staff/ and views/trust/ are packages whose blueprint module imports no topic module
    (before, staff.py imported six staff_*.py modules that imported it back)."""
    modules = {}
    for path in VIEWS.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else name.rsplit(".", 1)[0]
        modules[name] = (path, package)
    graph = {name: {m for m in _module_imports(path, package) if m in modules}
             for name, (path, package) in modules.items()}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph[start])

    cycles = sorted(m for m in graph if not m.endswith((".staff", ".trust")) and reaches(m, m))
    assert cycles == []


def test_cacheability_is_declared_at_the_view(app):
    """@cacheable marks the public HTML pages; page_cache.py keeps no list of endpoints."""
    from marketplace import page_cache

    assert not hasattr(page_cache, "CACHEABLE_ENDPOINTS")
    marked = {e for e in app.view_functions if page_cache.is_cacheable(e)}
    assert marked == {"public.home", "public.browse", "public.industry", "public.city", "public.platform",
                      "public.enterprise", "public.platforms", "public.about", "search.search_page",
                      "public.privacy", "public.terms", "news.index", "news.article", "events.index",
                      "events.detail", "gongshi.index", "products.browse", "products.detail"}


# --------------------------------------------------------------------------- refusals

def test_refused_form_keeps_what_was_typed_and_stores_nothing(app, client, login_as):
    owner, other = f.make_user(), f.make_user()
    taken = f.make_enterprise(owner=other, status="draft")
    db.session.commit()
    login_as(owner)
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = client.post("/merchant/enterprises/new", data={
        "name": "广州某某新公司", "uscc": taken.uscc, "brands": "新品牌甲", "city_id": "",
        "industry_ids": [str(f.industry("家电").id)], "description": "我们刚输入的简介文字。"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已被其他账号登记" in page and "我们刚输入的简介文字。" in page and "新品牌甲" in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.owner_id == owner.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_refusal_after_a_partial_write_rolls_the_whole_request_back(app, client, login_as):
    """Approving a shop change whose new URL was taken meanwhile: the decision (already written by
    the conditional UPDATE) is rolled back with the rest, staff see why, nobody is mailed."""
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant)
    shop = f.make_shop(ent)
    other = f.make_shop(f.make_enterprise(), url="https://taken.tmall.com/")
    edit = f.make_application(ent, AppKind.SHOP_EDIT, shop=shop, payload={"url": other.url})
    _staff(login_as)
    resp = client.post(f"/staff/review/{edit.id}/approve", data={"version": edit.version, **_codes_form(edit)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/staff/review/{edit.id}")
    with client.session_transaction() as sess:
        assert any("网址已被店铺" in message for _, message in sess["_flashes"])
    db.session.expire_all()
    assert db.session.get(Application, edit.id).status == AppStatus.PENDING
    assert db.session.get(Shop, shop.id).url != other.url
    assert read_outbox() == []


def test_not_found_and_forbidden_refusals_answer_404_and_403(app, client):
    def missing():
        raise NotFound("不存在。")

    def forbidden():
        raise Forbidden("无权操作。")

    app.add_url_rule("/_uow/missing", "uow_missing", missing)
    app.add_url_rule("/_uow/forbidden", "uow_forbidden", forbidden)
    assert client.get("/_uow/missing").status_code == 404
    assert client.get("/_uow/forbidden").status_code == 403


def test_escaping_refusal_is_flashed_and_redirected_to_the_referring_page(app, client):
    def refuse():
        f.make_enterprise(name="不应保存的企业")
        db.session.flush()
        raise ServiceError("操作被拒绝。")

    app.add_url_rule("/_uow/refuse", "uow_refuse", refuse, methods=["POST"])
    resp = client.post("/_uow/refuse", headers={"Referer": "http://localhost/about"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/about"
    resp = client.post("/_uow/refuse", headers={"Referer": "https://evil.example/x"})
    assert resp.headers["Location"] == "/"
    db.session.expire_all()
    assert db.session.scalar(select(Enterprise).where(Enterprise.name == "不应保存的企业")) is None


# --------------------------------------------------------------------------- mail after the commit

def test_decision_mail_goes_out_after_the_commit(probing, app, client, login_as):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status="pending", certificate=False)
    application = f.make_application(ent)
    _staff(login_as)
    app_id = application.id
    probing.probe = lambda conn: conn.execute(
        text("SELECT status FROM application WHERE id = :id"), {"id": app_id}).scalar()
    client.post(f"/staff/review/{app_id}/approve", data={"version": application.version})
    assert probing.seen == [(1, "approved")]  # sent once, and the approval was already committed


def test_reset_mail_is_not_sent_inside_a_transaction(probing, app, client):
    """The reset link goes out after the request's transaction ended (before, it was sent from
    inside the view while its transaction was still open)."""
    user = f.make_user(email="reset-me@example.com")
    db.session.commit()
    probing.probe = lambda conn: db.session().get_transaction() is None or \
        not db.session().get_transaction().is_active
    client.post("/account/forgot", data={"email": user.email})
    assert probing.seen == [(1, True)]


def test_rolled_back_change_sends_no_mail(app):
    merchant = f.make_user()
    ent = f.make_enterprise(owner=merchant, status="pending", certificate=False)
    application = f.make_application(ent)
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    review.approve(application.id, staff, shop_checks=_codes(application))
    assert len(queued_mail()) == 1 and read_outbox() == []
    db.session.rollback()
    assert queued_mail() == [] and read_outbox() == []
    review.approve(application.id, staff, shop_checks=_codes(application))
    db.session.commit()
    assert queued_mail() == [] and [m["To"] for m in read_outbox()] == [merchant.email]


def test_cli_job_mails_after_its_commit(probing, app, runner):
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner, certificate=False)
    f.make_certificate(ent, days_valid=-1)
    db.session.commit()
    ent_id = ent.id
    probing.probe = lambda conn: conn.execute(
        text("SELECT status FROM enterprise WHERE id = :id"), {"id": ent_id}).scalar()
    result = runner.invoke(args=["expire-certificates"])
    assert result.exit_code == 0, result.output
    assert probing.seen == [(1, "expired")]
