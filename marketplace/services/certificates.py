"""Issuing certificates: the one function review and the CSV importer both use.

The rules, in one place: a certificate number is ``GDWS-<year>-<6 random digits>``, never used
before; it is issued on today's China date and valid for ``CERTIFICATE_VALID_DAYS`` days from
then; it starts ``valid``. Rows are written with one Core ``INSERT`` (executemany), so an import of
10,000 enterprises costs a handful of statements. The search index hears about the new
certificates through the caller's change of the enterprise itself (its status): review changes
it through the ORM (the outbox listener), the importer queues its rows explicitly.
"""
from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import NamedTuple, Sequence

from flask import current_app
from sqlalchemy import insert, select

from .. import clock
from ..extensions import db
from ..models import Certification, CertStatus
from . import ServiceError

NUMBER_DIGITS = 6
_LOOKUP_CHUNK = 500


class IssuedCertificate(NamedTuple):
    number: str
    issued_on: date
    valid_until: date


def certificate_terms(today: date | None = None) -> tuple[date, date]:
    """``(issued_on, valid_until)`` of a certificate issued on ``today`` (default: China today)."""
    issued_on = today or clock.china_today()
    return issued_on, issued_on + timedelta(days=int(current_app.config["CERTIFICATE_VALID_DAYS"]))


def _fresh_numbers(count: int, year: int) -> list[str]:
    """``count`` distinct numbers of ``year`` that no stored certificate uses."""
    prefix = f"GDWS-{year}-"
    numbers: list[str] = []
    chosen: set[str] = set()
    for _ in range(50):
        need = count - len(numbers)
        if need <= 0:
            return numbers
        candidates = list(dict.fromkeys(
            f"{prefix}{secrets.randbelow(10 ** NUMBER_DIGITS):0{NUMBER_DIGITS}d}" for _ in range(need + need // 8 + 4)))
        candidates = [n for n in candidates if n not in chosen]
        taken: set[str] = set()
        for start in range(0, len(candidates), _LOOKUP_CHUNK):
            chunk = candidates[start:start + _LOOKUP_CHUNK]
            taken.update(db.session.scalars(select(Certification.number).where(Certification.number.in_(chunk))))
        fresh = [n for n in candidates if n not in taken][:need]
        numbers += fresh
        chosen.update(fresh)
    raise ServiceError("无法生成证书编号，请重试。")  # pragma: no cover - a million numbers per year


def issue_certificates(enterprise_ids: Sequence[int], today: date | None = None) -> dict[int, IssuedCertificate]:
    """Issue one new certificate to each enterprise; return them by enterprise id.

    The caller sets the enterprises' own status (certified) and expires any loaded
    ``Enterprise.certifications`` collection it still reads.
    """
    ids = list(dict.fromkeys(enterprise_ids))
    if not ids:
        return {}
    issued_on, valid_until = certificate_terms(today)
    numbers = _fresh_numbers(len(ids), issued_on.year)
    issued = {ent_id: IssuedCertificate(number, issued_on, valid_until) for ent_id, number in zip(ids, numbers)}
    now = clock.utc_now()
    db.session.execute(insert(Certification.__table__), [
        {"enterprise_id": ent_id, "number": cert.number, "issued_on": cert.issued_on,
         "valid_until": cert.valid_until, "status": CertStatus.VALID, "reason": "", "created_at": now}
        for ent_id, cert in issued.items()])
    return issued
