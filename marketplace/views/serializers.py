"""JSON shapes of the public API (documented in ``marketplace.views.openapi``).

Only public data leaves here: certified enterprises and their certified shops, reference data,
and for verify results the name and certificate of a listing that was public before it was
suspended, revoked or expired. Change a shape here and in the OpenAPI document together
(the schemathesis test checks every response against the document).
"""
from __future__ import annotations

from datetime import date, datetime

from ..models import Badge, Certification, City, Enterprise, Industry, Platform, Shop
from ..services.verify import Outcome, VerifyResult, certificate_outcome
from . import linking


def _dt(value: datetime | None) -> str | None:
    """Naive-UTC timestamp as RFC 3339 (``2025-01-02T03:04:05Z``)."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def city_ref(c: City) -> dict:
    return {"id": c.id, "name": c.name, "full_name": c.full_name, "slug": c.slug, "region": c.region,
            "code": c.code}


def industry_ref(i: Industry) -> dict:
    return {"id": i.id, "name": i.name, "slug": i.slug}


def badge_ref(b: Badge) -> dict:
    return {"name": b.name, "slug": b.slug}


def platform_ref(p: Platform) -> dict:
    return {"id": p.id, "name": p.name, "slug": p.slug}


def certificate(cert: Certification | None) -> dict | None:
    """A certificate with its effective status (``certified`` = valid today)."""
    if cert is None:
        return None
    outcome = certificate_outcome(cert)
    return {
        "number": cert.number,
        "issued_on": _d(cert.issued_on),
        "valid_until": _d(cert.valid_until),
        "status": outcome,
        "status_label": Outcome.LABELS[outcome],
        "valid": outcome == Outcome.CERTIFIED,
        "url": linking.certificate_url(cert),
        "badge_url": linking.badge_url(cert),
    }


def enterprise(ent: Enterprise, *, detail: bool = False, shop_count: int | None = None) -> dict:
    """A public enterprise (list item; ``detail`` adds its certified shops). Lists pass
    ``shop_count`` from one grouped query instead of loading every shop."""
    shops = ent.public_shops if detail or shop_count is None else []
    data = {
        "id": ent.id,
        "name": ent.name,
        "display_name": ent.display_name,
        "brands": ent.brand_names,
        "uscc": ent.uscc,
        "city": city_ref(ent.city),
        "industries": [industry_ref(i) for i in ent.industries],
        "badges": [badge_ref(b) for b in ent.badges],
        "description": ent.description or "",
        "website": ent.website or None,
        "founded_year": ent.founded_year,
        "logo_url": linking.logo_url(ent),
        "certified_at": _dt(ent.certified_at),
        "certificate": certificate(ent.certificate),
        "shop_count": len(shops) if shop_count is None else shop_count,
        "url": linking.enterprise_url(ent),
        "api_url": linking.url("api.enterprise_detail", enterprise_id=ent.id),
    }
    if detail:
        data["shops"] = [shop(s, with_enterprise=False) for s in shops]
    return data


def enterprise_ref(ent: Enterprise) -> dict:
    """A short reference; ``url`` is null when the enterprise page is not public."""
    public = ent.is_public
    return {
        "id": ent.id,
        "name": ent.name,
        "display_name": ent.display_name,
        "uscc": ent.uscc,
        "public": public,
        "url": linking.enterprise_url(ent) if public else None,
    }


def shop(s: Shop, *, with_enterprise: bool = True) -> dict:
    """A shop; ``url`` is the shop's own address, ``go_url`` the counted click-through."""
    public = s.is_public
    data = {
        "id": s.id,
        "name": s.name,
        "platform": platform_ref(s.platform),
        "shop_type": s.shop_type,
        "url": s.url,
        "go_url": linking.go_url(s) if public else None,
        "certified_at": _dt(s.certified_at),
        "public": public,
        "api_url": linking.url("api.shop_detail", shop_id=s.id) if public else None,
    }
    if with_enterprise:
        data["enterprise"] = enterprise_ref(s.enterprise)
    return data


def platform(p: Platform, shop_count: int, enterprise_count: int) -> dict:
    return {
        "id": p.id, "name": p.name, "slug": p.slug, "kind": p.kind, "description": p.description or "",
        "homepage": p.homepage or None, "hosts": p.host_list, "shop_count": shop_count,
        "enterprise_count": enterprise_count, "url": linking.platform_url(p),
    }


def industry(i: Industry, count: int) -> dict:
    return {**industry_ref(i), "enterprise_count": count, "url": linking.industry_url(i)}


def city(c: City, count: int) -> dict:
    return {**city_ref(c), "enterprise_count": count, "url": linking.city_url(c)}


def verify_result(r: VerifyResult, page_url: str) -> dict:
    """A verify result; the same facts the /verify page shows."""
    listing = r.found_listing
    return {
        "query_type": r.query_type,
        "query": r.query,
        "result": r.outcome,
        "result_label": r.label,
        "message": r.message,
        "advice": r.advice,
        "warnings": r.warnings,
        "normalized_url": r.normalized_url,
        "platform": platform_ref(r.platform) if r.platform is not None else None,
        "enterprise": enterprise_ref(r.enterprise) if listing and r.enterprise is not None else None,
        "shop": shop(r.shop, with_enterprise=False) if listing and r.shop is not None else None,
        "certificate": certificate(r.certificate) if listing and r.certificate is not None else None,
        "shops": [shop(s, with_enterprise=False) for s in r.shops] if listing else [],
        "mentioned": [enterprise_ref(e) for e in r.mentioned],
        "report_url": linking.complaint_url(r.enterprise if listing else None, r.shop if listing else None),
        "page_url": page_url,
    }
