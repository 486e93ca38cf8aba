"""Applying a validated import: matching rows to stored enterprises/shops, updating changed ones,
bulk-inserting new ones in batches, issuing certificates and writing the audit log.

``run_import`` is the one entry point; it reads (csvfile), validates (rows), then writes here.
Services flush, never commit.
"""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    CHINA_TZ, AuditLog, Brand, Certification, Enterprise, Shop, Status, enterprise_badge,
    enterprise_industry, utcnow,
)
from ...validation import ValidationError
from ...validation.text import pinyin_sort_key
from ...validation.uscc import normalize_uscc
from ..enterprise_fields import apply_enterprise_fields, enterprise_name_key, unique_brands
from .csvfile import _read_rows
from .report import ImportReport, RowError, _chunks, _Progress
from .rows import _default_shop_type, _EntRow, _Refs, _ShopRow, _validate_enterprise, _validate_shop

BATCH = 1000


def _load_enterprises(usccs: list[str]) -> dict[str, Enterprise]:
    found: dict[str, Enterprise] = {}
    for chunk in _chunks(sorted(set(usccs))):
        q = (select(Enterprise).where(Enterprise.uscc.in_(chunk))
             .options(selectinload(Enterprise.brands), selectinload(Enterprise.industries),
                      selectinload(Enterprise.badges)))
        for ent in db.session.scalars(q):
            found[ent.uscc] = ent
    return found


def _load_shops(urls: list[str]) -> dict[str, Shop]:
    found: dict[str, Shop] = {}
    for chunk in _chunks(sorted(set(urls))):
        for shop in db.session.scalars(select(Shop).where(Shop.url.in_(chunk))):
            found[shop.url] = shop
    return found


def _enterprise_changes(ent: Enterprise | None, row: _EntRow) -> dict:
    """The fields of ``row`` that differ from ``ent`` (all of them for a new enterprise)."""
    if ent is None:
        return dict(row.fields)
    current = {
        "name": ent.name,
        "city_id": ent.city_id,
        "brands": [b.name for b in ent.brands],
        "industry_ids": sorted(i.id for i in ent.industries),
        "description": ent.description or "",
        "website": ent.website or "",
        "founded_year": ent.founded_year,
        "badge_ids": sorted(b.id for b in ent.badges),
    }
    return {k: v for k, v in row.fields.items() if current[k] != v}


def _will_certify(ent: Enterprise | None, row: _EntRow) -> bool:
    """Certify when the row says so and the stored status is not a deliberate staff decision."""
    if not row.certified:
        return False
    return ent is None or ent.status in (Status.DRAFT, Status.PENDING, Status.REJECTED, Status.EXPIRED)


def _apply_enterprise(ent: Enterprise, changes: dict, refs_by_id: dict) -> None:
    """Apply an import row's changes to a stored enterprise: the shared field rules plus badges."""
    apply_enterprise_fields(ent, {k: v for k, v in changes.items() if k != "badge_ids"},
                            industries_by_id=refs_by_id["industry"])
    if "badge_ids" in changes:
        ent.badges = [refs_by_id["badge"][i] for i in changes["badge_ids"]]


def _certificate_numbers(count: int, year: int) -> list[str]:
    """``count`` fresh numbers ``GDWS-<year>-<6 digits>`` not used by any stored certificate."""
    prefix = f"GDWS-{year}-"
    used = set(db.session.scalars(select(Certification.number).where(Certification.number.like(prefix + "%"))))
    if len(used) + count > 900_000:
        raise ValidationError(f"{year} 年的证书编号已用尽。")
    numbers: list[str] = []
    while len(numbers) < count:
        number = f"{prefix}{secrets.randbelow(1_000_000):06d}"
        if number not in used:
            used.add(number)
            numbers.append(number)
    return numbers


def run_import(enterprises: bytes | None, shops: bytes | None, *, dry_run: bool, actor=None,
               filenames: tuple[str, str] = ("enterprises.csv", "shops.csv"),
               progress: bool = False) -> ImportReport:
    """Validate and (unless ``dry_run``) apply an enterprises.csv and/or shops.csv upload.

    Returns an ``ImportReport``. With any error nothing is written; otherwise the changes are
    flushed (the caller commits). ``actor`` (a staff user or None for the CLI) is recorded in the
    audit log. ``progress`` shows a tqdm bar for large files (the CLI on a terminal).
    """
    started = time.perf_counter()
    report = ImportReport(dry_run=dry_run)
    bar = _Progress(progress)
    ent_name, shop_name = filenames
    if enterprises is None and shops is None:
        report.errors.append(RowError(ent_name, 0, "", "请至少提供 enterprises.csv 或 shops.csv 之一。"))
        return report

    refs = _Refs()
    errors = report.errors

    # 1. Parse and validate every enterprise row.
    ent_rows: list[_EntRow] = []
    listed_usccs: set[str] = set()  # every code in enterprises.csv, valid row or not
    if enterprises is not None:
        parsed = _read_rows(enterprises, ent_name, "enterprise", errors)
        if parsed is not None:
            rows, header = parsed
            first_line: dict[str, int] = {}
            for _line, values in rows:
                listed_usccs.add((values.get("uscc") or "").strip().upper())
            for line, values in bar(rows, len(rows), "检查企业"):
                row = _validate_enterprise(line, values, refs, header, ent_name, errors)
                if row is None:
                    continue
                if row.uscc in first_line:
                    errors.append(RowError(ent_name, line, header["uscc"],
                                           f"统一社会信用代码与第 {first_line[row.uscc]} 行重复。"))
                    continue
                first_line[row.uscc] = line
                ent_rows.append(row)

    with db.session.no_autoflush:
        existing = _load_enterprises([r.uscc for r in ent_rows])
        file_ents = {r.uscc: r for r in ent_rows}

        # 2. Parse and validate every shop row (needs the enterprises: file first, then database).
        shop_rows: list[_ShopRow] = []
        shop_header: dict[str, str] = {}
        if shops is not None:
            parsed = _read_rows(shops, shop_name, "shop", errors)
            if parsed is not None:
                rows, shop_header = parsed
                shop_usccs = set()
                for _line, values in rows:
                    try:
                        shop_usccs.add(normalize_uscc(values["uscc"]))
                    except ValidationError:
                        pass
                missing = [u for u in shop_usccs if u not in file_ents and u not in existing]
                existing.update(_load_enterprises(missing))
                first_url: dict[str, int] = {}
                for line, values in bar(rows, len(rows), "检查店铺"):
                    row = _validate_shop(line, values, refs, shop_header, shop_name, errors,
                                         file_ents, existing, listed_usccs, ent_name)
                    if row is None:
                        continue
                    if row.url in first_url:
                        errors.append(RowError(shop_name, line, shop_header["url"],
                                               f"店铺网址与第 {first_url[row.url]} 行重复。"))
                        continue
                    first_url[row.url] = line
                    shop_rows.append(row)
        stored_shops = _load_shops([r.url for r in shop_rows])
        for row in shop_rows:
            shop = stored_shops.get(row.url)
            target = existing.get(row.uscc)
            if shop is not None and (target is None or shop.enterprise_id != target.id):
                owner = db.session.get(Enterprise, shop.enterprise_id)
                errors.append(RowError(shop_name, row.line, shop_header["url"],
                                       f"该网址已登记在其他企业（{owner.name if owner else '未知'}）名下。"))
        if errors:
            report.seconds = time.perf_counter() - started
            return report

        # 3. Plan (and, unless a dry run, apply) the enterprise rows.
        refs_by_id = {
            "city": {c.id: c for c in refs.cities.values()},
            "industry": {i.id: i for i in refs.industries.values()},
            "badge": {b.id: b for b in refs.badges.values()},
        }
        now = utcnow()
        today = datetime.now(CHINA_TZ).date()
        valid_days = int(current_app.config["CERTIFICATE_VALID_DAYS"])
        certify_usccs: set[str] = set()
        plans = []
        for row in ent_rows:
            ent = existing.get(row.uscc)
            changes = _enterprise_changes(ent, row)
            certify = _will_certify(ent, row)
            if certify:
                certify_usccs.add(row.uscc)
            if ent is None:
                report.created["enterprise"] += 1
            elif changes or certify:
                report.updated["enterprise"] += 1
            else:
                report.unchanged["enterprise"] += 1
            plans.append((row, ent, changes, certify))
        report.certificates = len(certify_usccs)

        def final_status(uscc: str) -> str:
            if uscc in certify_usccs:
                return Status.CERTIFIED
            ent = existing.get(uscc)
            return ent.status if ent is not None else Status.DRAFT

        shop_plans = []
        for row in shop_rows:
            shop = stored_shops.get(row.url)
            status = final_status(row.uscc)
            shop_changes: dict = {}
            if shop is None:
                report.created["shop"] += 1
            else:
                if shop.name != row.name:
                    shop_changes["name"] = row.name
                if shop.platform_id != row.platform.id:
                    shop_changes["platform_id"] = row.platform.id
                if row.shop_type and shop.shop_type != row.shop_type:
                    shop_changes["shop_type"] = row.shop_type
                if status == Status.CERTIFIED and shop.status in (Status.DRAFT, Status.PENDING,
                                                                   Status.REJECTED, Status.EXPIRED):
                    shop_changes["status"] = Status.CERTIFIED
                if shop_changes:
                    report.updated["shop"] += 1
                else:
                    report.unchanged["shop"] += 1
            shop_plans.append((row, shop, shop_changes, status))

        if dry_run:
            report.seconds = time.perf_counter() - started
            return report

        # 4. Write. Changes to stored rows go through the ORM (the search outbox listener sees
        # them); new rows, the bulk of any large import, are inserted with Core executemany in
        # batches and queued for the search index explicitly (search_sync.outbox.enqueue).
        numbers = iter(_certificate_numbers(len(certify_usccs), today.year))
        audit: list[dict] = []
        actor_id = getattr(actor, "id", None)

        def audit_row(action: str, kind: str, entity_id, enterprise_id, before, after) -> dict:
            return {"at": now, "actor_id": actor_id, "action": action, "entity_kind": kind,
                    "entity_id": entity_id, "enterprise_id": enterprise_id, "before": before,
                    "after": after, "note": "CSV 导入"}

        def cert_after(after: dict, certify: bool) -> tuple[dict, str | None]:
            if not certify:
                return after, None
            number = next(numbers)
            return {**after, "status": Status.CERTIFIED, "certificate": number}, number

        ent_ids: dict[str, int] = {u: e.id for u, e in existing.items()}
        reindex: set[int] = set()
        new_plans = [(row, changes, certify) for row, ent, changes, certify in plans if ent is None]
        for row, ent, changes, certify in plans:
            if ent is None or not (changes or certify):
                continue
            _apply_enterprise(ent, changes, refs_by_id)
            after, number = cert_after(dict(changes), certify)
            if number:
                ent.status = Status.CERTIFIED
                ent.status_reason = ""
                ent.certified_at = now
                ent.certifications.append(Certification(number=number, issued_on=today,
                                                        valid_until=today + timedelta(days=valid_days)))
            audit.append(audit_row("import.enterprise_update", "enterprise", ent.id, ent.id, None, after))
        db.session.flush()

        ent_table, cert_table = Enterprise.__table__, Certification.__table__
        for chunk in bar.chunks(new_plans, BATCH, "写入企业"):
            values, extras = [], []
            for row, changes, certify in chunk:
                f = changes
                values.append({
                    "uscc": row.uscc, "name": f["name"], "name_key": enterprise_name_key(f["name"]),
                    "name_sort": pinyin_sort_key(f["name"]), "description": f.get("description", ""),
                    "website": f.get("website", ""), "founded_year": f.get("founded_year"),
                    "city_id": f["city_id"], "status": Status.CERTIFIED if certify else Status.DRAFT,
                    "status_reason": "", "owner_id": None, "source": "import", "click_count": 0,
                    "created_at": now, "updated_at": now, "certified_at": now if certify else None,
                })
                extras.append(cert_after(dict(changes), certify))
            result = db.session.execute(
                insert(ent_table).returning(ent_table.c.id, ent_table.c.uscc, sort_by_parameter_order=True),
                values)
            brands, inds, badges, certs = [], [], [], []
            for (ent_id, uscc), (row, changes, _certify), (after, number) in zip(result, chunk, extras):
                ent_ids[uscc] = ent_id
                reindex.add(ent_id)
                brands += [{"enterprise_id": ent_id, "name": b, "name_key": key, "position": i}
                           for i, (b, key) in enumerate(unique_brands(changes.get("brands", [])))]
                inds += [{"enterprise_id": ent_id, "industry_id": i} for i in changes.get("industry_ids", [])]
                badges += [{"enterprise_id": ent_id, "badge_id": i} for i in changes.get("badge_ids", [])]
                if number:
                    certs.append({"enterprise_id": ent_id, "number": number, "issued_on": today,
                                  "valid_until": today + timedelta(days=valid_days), "status": "valid",
                                  "reason": "", "created_at": now})
                audit.append(audit_row("import.enterprise_create", "enterprise", ent_id, ent_id, None, after))
            for table, rows in ((Brand.__table__, brands), (enterprise_industry, inds),
                                (enterprise_badge, badges), (cert_table, certs)):
                if rows:
                    db.session.execute(insert(table), rows)

        new_shops = []
        for row, shop, shop_changes, status in shop_plans:
            if shop is None:
                new_shops.append((row, status))
            elif shop_changes:
                before = {k: getattr(shop, k) for k in shop_changes}
                for key, value in shop_changes.items():
                    setattr(shop, key, value)
                if shop_changes.get("status") == Status.CERTIFIED:
                    shop.certified_at = now
                    shop.status_reason = ""
                audit.append(audit_row("import.shop_update", "shop", shop.id, shop.enterprise_id, before,
                                       dict(shop_changes)))
        db.session.flush()

        shop_table = Shop.__table__
        for chunk in bar.chunks(new_shops, BATCH, "写入店铺"):
            values = []
            for row, status in chunk:
                shop_status = Status.CERTIFIED if status == Status.CERTIFIED else Status.DRAFT
                values.append({
                    "enterprise_id": ent_ids[row.uscc], "platform_id": row.platform.id, "name": row.name,
                    "url": row.url, "shop_type": row.shop_type or _default_shop_type(row.platform),
                    "status": shop_status, "status_reason": "", "click_count": 0, "created_at": now,
                    "updated_at": now, "certified_at": now if shop_status == Status.CERTIFIED else None,
                })
            result = db.session.execute(
                insert(shop_table).returning(shop_table.c.id, sort_by_parameter_order=True), values)
            for (shop_id,), value in zip(result, values):
                reindex.add(value["enterprise_id"])
                audit.append(audit_row("import.shop_create", "shop", shop_id, value["enterprise_id"], None,
                                       {"name": value["name"], "url": value["url"], "status": value["status"]}))

        for chunk in _chunks(audit, 2000):
            db.session.execute(insert(AuditLog), chunk)
        if report.created["enterprise"] or report.updated["enterprise"] or report.created["shop"] \
                or report.updated["shop"]:
            db.session.add(AuditLog(actor_id=actor_id, action="import.run", entity_kind="import",
                                    note="；".join(report.summary_lines()),
                                    after={"created": report.created, "updated": report.updated,
                                           "unchanged": report.unchanged}))
        db.session.flush()
        if reindex:
            _queue_reindex(sorted(reindex))
    report.seconds = time.perf_counter() - started
    return report


def _queue_reindex(enterprise_ids: list[int]) -> None:
    """Queue the enterprises (and with them their shops) that Core inserts touched for search."""
    from ...search_sync.outbox import enqueue

    enqueue("enterprise", enterprise_ids)
