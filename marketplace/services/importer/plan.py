"""Step 2 of an import, plan: for every valid row, what it will change on the stored row it
matches (or that it creates one), whether it certifies, and the counts of the report. A dry run
stops here; nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...models import Enterprise, Shop, Status
from .parse import ParsedImport
from .report import ImportReport
from .rows import _EntRow, _ShopRow

# Statuses an import may move to certified: never a deliberate staff decision (suspended, revoked).
CERTIFIABLE = (Status.DRAFT, Status.PENDING, Status.REJECTED, Status.EXPIRED)


@dataclass
class ImportPlan:
    """What applying the import will do, row by row."""

    enterprises: list[tuple[_EntRow, Enterprise | None, dict, bool]] = field(default_factory=list)
    shops: list[tuple[_ShopRow, Shop | None, dict, str]] = field(default_factory=list)
    certify_usccs: set[str] = field(default_factory=set)


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
    return ent is None or ent.status in CERTIFIABLE


def _shop_changes(shop: Shop, row: _ShopRow, status: str) -> dict:
    """The columns of a stored shop that the row changes (certified with its enterprise)."""
    changes: dict = {}
    if shop.name != row.name:
        changes["name"] = row.name
    if shop.platform_id != row.platform.id:
        changes["platform_id"] = row.platform.id
    if row.shop_type and shop.shop_type != row.shop_type:
        changes["shop_type"] = row.shop_type
    if status == Status.CERTIFIED and shop.status in CERTIFIABLE:
        changes["status"] = Status.CERTIFIED
    return changes


def _plan_enterprises(parsed: ParsedImport, plan: ImportPlan, report: ImportReport) -> None:
    for row in parsed.ent_rows:
        ent = parsed.existing.get(row.uscc)
        changes = _enterprise_changes(ent, row)
        certify = _will_certify(ent, row)
        if certify:
            plan.certify_usccs.add(row.uscc)
        if ent is None:
            report.created["enterprise"] += 1
        elif changes or certify:
            report.updated["enterprise"] += 1
        else:
            report.unchanged["enterprise"] += 1
        plan.enterprises.append((row, ent, changes, certify))
    report.certificates = len(plan.certify_usccs)


def _plan_shops(parsed: ParsedImport, plan: ImportPlan, report: ImportReport) -> None:
    for row in parsed.shop_rows:
        shop = parsed.stored_shops.get(row.url)
        if row.uscc in plan.certify_usccs:
            status = Status.CERTIFIED
        else:
            ent = parsed.existing.get(row.uscc)
            status = ent.status if ent is not None else Status.DRAFT
        changes: dict = {}
        if shop is None:
            report.created["shop"] += 1
        else:
            changes = _shop_changes(shop, row, status)
            if changes:
                report.updated["shop"] += 1
            else:
                report.unchanged["shop"] += 1
        plan.shops.append((row, shop, changes, status))


def plan_import(parsed: ParsedImport, report: ImportReport) -> ImportPlan:
    """Decide every row's effect and count it in ``report``."""
    plan = ImportPlan()
    _plan_enterprises(parsed, plan, report)
    _plan_shops(parsed, plan, report)
    return plan
