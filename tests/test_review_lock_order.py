"""A merchant's edit and a reviewer's approval of the same pending application take their row
locks in one order (enterprise, then application), so on PostgreSQL neither dies in a deadlock:
the approval waits for the edit, then finds the application changed since its page was shown.

Under ``bench/load_test.py`` the two used to deadlock about once a minute and one of them
answered 503. (SQLite locks the whole database, so there the test passes either way; CI runs it
on PostgreSQL too.)"""
from __future__ import annotations

import threading
import time

from marketplace.extensions import db
from marketplace.models import AppKind, Application, AppStatus, Enterprise, Role, User
from marketplace.services import EditConflict, review
from marketplace.services.versioning import begin_edit
from tests import factories as f


def _merchant_edit(app, ent_id: int, app_id: int, locked: threading.Event, out: dict) -> None:
    """What ``_queue_enterprise_edit`` does, with a pause between its two locks."""
    with app.app_context():
        try:
            begin_edit(db.session.get(Enterprise, ent_id))  # the enterprise row first
            locked.set()
            time.sleep(1.5)  # the approval starts meanwhile
            db.session.get(Application, app_id).payload = {"description": "审核时商家又改的简介"}
            db.session.commit()
            out["merchant"] = "saved"
        except Exception as exc:  # noqa: BLE001 - asserted below
            db.session.rollback()
            out["merchant"] = exc


def _approve(app, app_id: int, staff_id: int, seen: int, locked: threading.Event, out: dict) -> None:
    locked.wait(10)
    with app.app_context():
        try:
            application = db.session.get(Application, app_id)
            review.approve(app_id, db.session.get(User, staff_id), seen_version=seen,
                           shop_checks=f.all_codes_verified(application))
            db.session.commit()
            out["reviewer"] = "approved"
        except Exception as exc:  # noqa: BLE001 - asserted below
            db.session.rollback()
            out["reviewer"] = exc


def test_an_approval_racing_an_edit_of_the_same_application_waits_instead_of_deadlocking(app):
    owner = f.make_user()
    ent = f.make_enterprise(owner=owner)
    edit = f.make_application(ent, AppKind.ENTERPRISE_EDIT, applicant=owner, payload={"description": "审核页上的简介"})
    staff = f.make_user(Role.STAFF)
    db.session.commit()
    ids = ent.id, edit.id, staff.id, edit.version
    locked, out = threading.Event(), {}
    threads = [threading.Thread(target=_merchant_edit, args=(app, ids[0], ids[1], locked, out)),
               threading.Thread(target=_approve, args=(app, ids[1], ids[2], ids[3], locked, out))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out["merchant"] == "saved", out
    assert isinstance(out["reviewer"], EditConflict), out  # not a deadlock (OperationalError)
    db.session.expire_all()
    assert db.session.get(Application, ids[1]).status == AppStatus.PENDING
    assert db.session.get(Application, ids[1]).payload == {"description": "审核时商家又改的简介"}
