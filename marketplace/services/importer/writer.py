"""Step 3 of an import, apply: the planned changes written. Stored rows are updated through the
ORM (the search outbox listener sees them); new rows, the bulk of any large import, are inserted
with Core executemany in batches and queued for the search index explicitly. Certificates are
issued and every created or changed row is recorded in the audit log.

``run_import`` is the one entry point: parse (parse.py), plan (plan.py), then apply here.
Services flush, never commit.
"""
from __future__ import annotations

import time

from sqlalchemy import insert

from ...search_sync.outbox import enqueue
from ...extensions import db
from ...models import (
    AuditLog, Brand, Enterprise, Shop, Status, enterprise_badge, enterprise_industry,
)
from ...clock import utc_now
from ...validation.text import pinyin_sort_key
from ..audit import record_many
from ..certificates import issue_certificates
from ..enterprise_fields import apply_enterprise_fields, enterprise_name_key, unique_brands
from .parse import ParsedImport, parse_import
from .plan import ImportPlan, plan_import
from .report import ImportReport, RowError, _chunks, _Progress
from .rows import _default_shop_type

BATCH = 1000


def _apply_enterprise(ent: Enterprise, changes: dict, refs_by_id: dict) -> None:
    """Apply an import row's changes to a stored enterprise: the shared field rules plus badges."""
    apply_enterprise_fields(ent, {k: v for k, v in changes.items() if k != "badge_ids"},
                            industries_by_id=refs_by_id["industry"])
    if "badge_ids" in changes:
        ent.badges = [refs_by_id["badge"][i] for i in changes["badge_ids"]]


class _Writer:
    """Writes one planned import: the shared moment, audit rows, the enterprises to certify and
    the enterprises to re-index, collected as the steps go. Certificates are issued by
    ``certificates.issue_certificates``, the function review uses too."""

    def __init__(self, parsed: ParsedImport, plan: ImportPlan, actor, bar: _Progress):
        self.parsed, self.plan, self.bar = parsed, plan, bar
        self.now = utc_now()
        self.certified: dict[int, dict] = {}  # enterprise id -> its audit "after"; the number is added on issue
        self.actor_id = getattr(actor, "id", None)
        self.audit: list[dict] = []
        self.ent_ids: dict[str, int] = {u: e.id for u, e in parsed.existing.items()}
        self.reindex: set[int] = set()
        refs = parsed.refs
        self.refs_by_id = {
            "city": {c.id: c for c in refs.cities.values()},
            "industry": {i.id: i for i in refs.industries.values()},
            "badge": {b.id: b for b in refs.badges.values()},
        }

    def audit_row(self, action: str, kind: str, entity_id, enterprise_id, before, after) -> None:
        self.audit.append({"at": self.now, "actor_id": self.actor_id, "action": action, "entity_kind": kind,
                           "entity_id": entity_id, "enterprise_id": enterprise_id, "before": before,
                           "after": after, "note": "CSV 导入"})

    def certify_after(self, ent_id: int, after: dict, certify: bool) -> dict:
        """The audit's "after" of a row; a certifying row is remembered so that ``issue`` can add
        its certificate number to this same dict."""
        if not certify:
            return after
        after = self.certified[ent_id] = {**after, "status": Status.CERTIFIED}
        return after

    def issue(self) -> None:
        """Certificates for every enterprise this import certifies (the rules review uses too)."""
        for ent_id, cert in issue_certificates(list(self.certified)).items():
            self.certified[ent_id]["certificate"] = cert.number

    def update_enterprises(self) -> None:
        """Stored enterprises: changed fields, and certification, through the ORM."""
        for row, ent, changes, certify in self.plan.enterprises:
            if ent is None or not (changes or certify):
                continue
            _apply_enterprise(ent, changes, self.refs_by_id)
            after = self.certify_after(ent.id, dict(changes), certify)
            if certify:
                ent.status = Status.CERTIFIED
                ent.status_reason = ""
                ent.certified_at = self.now
            self.audit_row("import.enterprise_update", "enterprise", ent.id, ent.id, None, after)
        db.session.flush()

    def _enterprise_values(self, row, changes: dict, certify: bool) -> dict:
        f = changes
        return {
            "uscc": row.uscc, "name": f["name"], "name_key": enterprise_name_key(f["name"]),
            "name_sort": pinyin_sort_key(f["name"]), "description": f.get("description", ""),
            "website": f.get("website", ""), "founded_year": f.get("founded_year"),
            "city_id": f["city_id"], "status": Status.CERTIFIED if certify else Status.DRAFT,
            "status_reason": "", "owner_id": None, "source": "import", "click_count": 0,
            "created_at": self.now, "updated_at": self.now, "certified_at": self.now if certify else None,
        }

    def insert_enterprises(self) -> None:
        """New enterprises in batches, with their brands, industries, badges and certificates."""
        ent_table = Enterprise.__table__
        new = [(row, changes, certify) for row, ent, changes, certify in self.plan.enterprises if ent is None]
        for chunk in self.bar.chunks(new, BATCH, "写入企业"):
            values = [self._enterprise_values(row, changes, certify) for row, changes, certify in chunk]
            result = db.session.execute(
                insert(ent_table).returning(ent_table.c.id, ent_table.c.uscc, sort_by_parameter_order=True),
                values)
            links: dict = {Brand.__table__: [], enterprise_industry: [], enterprise_badge: []}
            for (ent_id, uscc), (_row, changes, certify) in zip(result, chunk):
                self.ent_ids[uscc] = ent_id
                self.reindex.add(ent_id)
                self._linked_rows(links, ent_id, changes)
                after = self.certify_after(ent_id, dict(changes), certify)
                self.audit_row("import.enterprise_create", "enterprise", ent_id, ent_id, None, after)
            for table, rows in links.items():
                if rows:
                    db.session.execute(insert(table), rows)

    def _linked_rows(self, links: dict, ent_id: int, changes: dict) -> None:
        """A new enterprise's brand, industry and badge rows, into ``links``."""
        links[Brand.__table__] += [{"enterprise_id": ent_id, "name": b, "name_key": key, "position": i}
                                   for i, (b, key) in enumerate(unique_brands(changes.get("brands", [])))]
        links[enterprise_industry] += [{"enterprise_id": ent_id, "industry_id": i}
                                       for i in changes.get("industry_ids", [])]
        links[enterprise_badge] += [{"enterprise_id": ent_id, "badge_id": i} for i in changes.get("badge_ids", [])]

    def update_shops(self) -> None:
        """Stored shops: changed columns (and certification) through the ORM."""
        for _row, shop, changes, _status in self.plan.shops:
            if shop is None or not changes:
                continue
            before = {k: getattr(shop, k) for k in changes}
            for key, value in changes.items():
                setattr(shop, key, value)
            if changes.get("status") == Status.CERTIFIED:
                shop.certified_at = self.now
                shop.status_reason = ""
            self.audit_row("import.shop_update", "shop", shop.id, shop.enterprise_id, before, dict(changes))
        db.session.flush()

    def insert_shops(self) -> None:
        """New shops in batches (certified when their enterprise is or becomes certified)."""
        shop_table = Shop.__table__
        new = [(row, status) for row, shop, _changes, status in self.plan.shops if shop is None]
        for chunk in self.bar.chunks(new, BATCH, "写入店铺"):
            values = []
            for row, status in chunk:
                shop_status = Status.CERTIFIED if status == Status.CERTIFIED else Status.DRAFT
                values.append({
                    "enterprise_id": self.ent_ids[row.uscc], "platform_id": row.platform.id, "name": row.name,
                    "url": row.url, "shop_type": row.shop_type or _default_shop_type(row.platform),
                    "status": shop_status, "status_reason": "", "click_count": 0, "created_at": self.now,
                    "updated_at": self.now, "certified_at": self.now if shop_status == Status.CERTIFIED else None,
                })
            result = db.session.execute(
                insert(shop_table).returning(shop_table.c.id, sort_by_parameter_order=True), values)
            for (shop_id,), value in zip(result, values):
                self.reindex.add(value["enterprise_id"])
                self.audit_row("import.shop_create", "shop", shop_id, value["enterprise_id"], None,
                               {"name": value["name"], "url": value["url"], "status": value["status"]})

    def finish(self, report: ImportReport) -> None:
        """The audit log (one row per change plus the run's summary) and the search queue."""
        for chunk in _chunks(self.audit, 2000):
            record_many(chunk)  # certifying rows become changes-feed events too
        if report.created["enterprise"] or report.updated["enterprise"] or report.created["shop"] \
                or report.updated["shop"]:
            db.session.add(AuditLog(actor_id=self.actor_id, action="import.run", entity_kind="import",
                                    note="；".join(report.summary_lines()),
                                    after={"created": report.created, "updated": report.updated,
                                           "unchanged": report.unchanged}))
        db.session.flush()
        if self.reindex:
            _queue_reindex(sorted(self.reindex))


def apply_import(parsed: ParsedImport, plan: ImportPlan, report: ImportReport, actor, bar: _Progress) -> None:
    """Write the plan: stored enterprises first, then new ones (shops need their ids), their
    certificates, then shops."""
    writer = _Writer(parsed, plan, actor, bar)
    writer.update_enterprises()
    writer.insert_enterprises()
    writer.issue()
    writer.update_shops()
    writer.insert_shops()
    writer.finish(report)


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
    if enterprises is None and shops is None:
        report.errors.append(RowError(filenames[0], 0, "", "请至少提供 enterprises.csv 或 shops.csv 之一。"))
        return report
    with db.session.no_autoflush:
        parsed = parse_import(enterprises, shops, filenames, report.errors, bar)
        if not report.errors:
            plan = plan_import(parsed, report)
            if not dry_run:
                apply_import(parsed, plan, report, actor, bar)
    report.seconds = time.perf_counter() - started
    return report


def _queue_reindex(enterprise_ids: list[int]) -> None:
    """Queue the enterprises (and with them their shops) that Core inserts touched for search."""
    enqueue("enterprise", enterprise_ids)
