"""Issuing a certificate: review and the CSV importer use one function (services/certificates.py)
with one set of rules — number format and uniqueness, issued on the China date, valid for
CERTIFICATE_VALID_DAYS."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, Certification, Enterprise, Role
from marketplace.services import gongshi, review
from marketplace.services.certificates import issue_certificates
from marketplace.services.importer.writer import run_import
from tests import factories as f
from tests.test_import import ENT_HEADER


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)

# 16:30 UTC on 30 June is 00:30 on 1 July in China: the China date decides.
LATE_UTC = datetime(2026, 6, 30, 16, 30)
CHINA_DAY = date(2026, 7, 1)


def _assert_rules(cert: Certification, app) -> None:
    assert re.fullmatch(r"GDWS-2026-\d{6}", cert.number)
    assert cert.status == "valid"
    assert cert.issued_on == CHINA_DAY
    assert cert.valid_until == CHINA_DAY + timedelta(days=app.config["CERTIFICATE_VALID_DAYS"])


def test_review_and_import_issue_by_the_same_rules(app):
    merchant, staff = f.make_user(), f.make_user(Role.STAFF)
    reviewed = f.make_enterprise(owner=merchant, status="pending", certificate=False)
    application = f.make_application(reviewed)
    db.session.commit()
    uscc = f.make_uscc(910001)
    with clock.frozen(datetime(2026, 6, 22, 2, 0)):  # 公示 of 5 working days ends on 29 June
        review.approve(application.id, staff, shop_checks=_codes(application))
        db.session.commit()
    with clock.frozen(LATE_UTC):
        gongshi.take_effect()  # a reviewed certificate is issued when its 公示 takes effect
        report = run_import(f"{ENT_HEADER}\n{uscc},佛山市证书规则测试有限公司,规则牌,佛山,家电,,,,,是\n".encode(),
                            None, dry_run=False)
        assert report.ok, report.errors
        db.session.commit()
    imported = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    for ent in (reviewed, imported):
        db.session.refresh(ent)
        assert ent.status == "certified" and len(ent.certifications) == 1
        _assert_rules(ent.certificate, app)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "import.enterprise_create"))
    assert entry.after["certificate"] == imported.certificate.number


def test_numbers_are_unique_across_many_issues(app):
    ents = [f.make_enterprise(certificate=False) for _ in range(60)]
    db.session.commit()
    first = issue_certificates([e.id for e in ents[:30]])
    second = issue_certificates([e.id for e in ents[30:]])
    db.session.commit()
    numbers = [c.number for c in (*first.values(), *second.values())]
    assert len(numbers) == len(set(numbers)) == 60
    stored = db.session.scalars(select(Certification.number)).all()
    assert sorted(stored) == sorted(numbers)
