"""A second claim cannot take over an enterprise (issue 11 item 2).

Approving a claim is one conditional UPDATE that only succeeds while the enterprise has no owner;
the other pending claims on it lapse ("已失效（企业已被认领）") and their senders are mailed; the review
page tells staff about competing claims and an existing owner before they decide.
"""
from __future__ import annotations

import threading

from marketplace.extensions import db
from marketplace.models import AppKind, Application, AppStatus, Enterprise, Role, User
from marketplace.services import ServiceError, review
from marketplace.services.mail import read_outbox
from tests import factories as f


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)


def _claim_via_form(client, login_as, user, ent) -> Application:
    login_as(user)
    resp = f.post_with_evidence(client, f"/merchant/claim/{ent.id}", {"note": f"{user.email} 是本企业电商负责人"})
    assert resp.status_code == 303
    return db.session.scalars(db.select(Application).where(
        Application.applicant_id == user.id, Application.kind == AppKind.CLAIM)).one()


def test_approving_a_second_claim_does_not_change_the_owner(app, client, login_as):
    """The reported case: staff approve A's claim, then B's — the owner used to become B."""
    ent = f.make_enterprise()
    a, b, staff = f.make_user(), f.make_user(), f.make_user(Role.STAFF)
    claim_a = f.make_application(ent, AppKind.CLAIM, applicant=a)
    claim_b = f.make_application(ent, AppKind.CLAIM, applicant=b)
    db.session.commit()
    login_as(staff)
    client.post(f"/staff/review/{claim_a.id}/approve", data=_codes_form(claim_a))
    client.post(f"/staff/review/{claim_b.id}/approve", data=_codes_form(claim_b))
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == a.id
    assert db.session.get(Application, claim_b.id).status != AppStatus.APPROVED


def test_second_claim_cannot_take_over_the_enterprise(app, client, login_as):
    ent = f.make_enterprise()  # imported, unowned
    a, b, staff = f.make_user(email="a@example.com"), f.make_user(email="b@example.com"), f.make_user(Role.STAFF)
    db.session.commit()
    claim_a = _claim_via_form(client, login_as, a, ent)
    claim_b = _claim_via_form(client, login_as, b, ent)

    login_as(staff)
    page = client.get(f"/staff/review/{claim_a.id}").get_data(as_text=True)
    assert "认领冲突" in page and f"#{claim_b.id}（b@example.com）" in page  # told before deciding
    assert client.post(f"/staff/review/{claim_a.id}/approve", data={"version": claim_a.version, **_codes_form(claim_a)}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == a.id
    lapsed = db.session.get(Application, claim_b.id)
    assert (lapsed.status, lapsed.status_label, lapsed.reason) == (AppStatus.LAPSED, "已失效", "企业已被认领")
    to_b = [m for m in read_outbox() if m["To"] == b.email]
    assert len(to_b) == 1 and "已失效（企业已被认领）" in to_b[0]["Subject"]

    # Approving B afterwards changes nothing: the enterprise stays A's.
    client.post(f"/staff/review/{claim_b.id}/approve", data={"version": lapsed.version, **_codes_form(claim_b)})
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == a.id
    assert db.session.get(Application, claim_b.id).status == AppStatus.LAPSED

    login_as(b)
    mine = client.get(f"/merchant/applications/{claim_b.id}").get_data(as_text=True)
    assert "已失效" in mine and "企业已被认领" in mine


def test_claim_on_an_owned_enterprise_is_refused_and_the_page_says_so(app, client, login_as):
    """A claim still pending on an enterprise that already has an owner (filed just before the
    other claim was approved, or left from before this rule) cannot be approved."""
    owner, late = f.make_user(email="owner@example.com"), f.make_user()
    ent = f.make_enterprise()
    won = f.make_application(ent, AppKind.CLAIM, applicant=owner)
    won.status = AppStatus.APPROVED
    won.decided_at = won.submitted_at
    ent.owner = owner
    pending = f.make_application(ent, AppKind.CLAIM, applicant=late)
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/review/{pending.id}").get_data(as_text=True)
    assert f"该企业已由 owner@example.com 管理（认领申请 #{won.id} 已于" in page
    resp = client.post(f"/staff/review/{pending.id}/approve", data={"version": pending.version, **_codes_form(pending)})
    assert resp.headers["Location"].endswith(f"/staff/review/{pending.id}")
    with client.session_transaction() as sess:
        assert any("已由其他账号管理" in message for _, message in sess["_flashes"])
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == owner.id
    assert db.session.get(Application, pending.id).status == AppStatus.PENDING
    assert [m for m in read_outbox() if m["To"] == late.email] == []


def test_competing_claims_approved_at_the_same_moment(app):
    """Two staff approve two claims on one enterprise in two threads at once: exactly one owner,
    the other claim refused (or lapsed), and no deadlock."""
    ent = f.make_enterprise()
    a, b = f.make_user(), f.make_user()
    claims = [f.make_application(ent, AppKind.CLAIM, applicant=u) for u in (a, b)]
    staff = [f.make_user(Role.STAFF) for _ in range(2)]
    db.session.commit()
    ids = [(c.id, s.id) for c, s in zip(claims, staff)]
    barrier = threading.Barrier(2)
    results = {}

    def approve(n):
        with app.app_context():
            app_id, staff_id = ids[n]
            actor = db.session.get(User, staff_id)
            barrier.wait()
            try:
                review.approve(app_id, actor)
                db.session.commit()
                results[n] = "won"
            except ServiceError as err:
                db.session.rollback()
                results[n] = str(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1] and list(results.values()).count("won") == 1
    winner = 0 if results[0] == "won" else 1
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == (a, b)[winner].id
    loser = db.session.get(Application, claims[1 - winner].id)
    assert loser.status in (AppStatus.LAPSED, AppStatus.PENDING)
