"""services.enterprise_fields: one set of rules for writing enterprise fields, whichever path
(merchant direct edit, staff approval of enterprise_edit, CSV import update) the change takes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Brand, Enterprise, Role, Status
from marketplace.services import ServiceError, review
from marketplace.services.listings.enterprises import clean_enterprise_fields, update_enterprise
from marketplace.services.enterprise_fields import apply_enterprise_fields, brand_key
from marketplace.services.importer.writer import run_import
from marketplace.validation.text import normalize_key, pinyin_sort_key
from tests.factories import city, industry, make_application, make_enterprise, make_user, make_uscc


def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)

ENT_HEADER = "uscc,name,brands,city,industries,description,website,founded,badges,certified"
BRANDS_TEXT = "美的；Midea；美的；ＭＩＤＥＡ；旧品牌"


def stored(ent_id: int) -> dict:
    """Everything the three paths write, except the (necessarily different) name itself."""
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent_id)
    assert ent.name_key == normalize_key(ent.name)[:120]
    assert ent.name_sort == pinyin_sort_key(ent.name)
    brands = db.session.scalars(select(Brand).where(Brand.enterprise_id == ent_id).order_by(Brand.position))
    return {
        "brands": [(b.name, b.name_key, b.position) for b in brands],
        "city_id": ent.city_id,
        "industry_ids": sorted(i.id for i in ent.industries),
        "description": ent.description,
        "website": ent.website,
        "founded_year": ent.founded_year,
    }


def brand_ids(ent_id: int) -> dict[str, int]:
    return {b.name: b.id for b in db.session.scalars(select(Brand).where(Brand.enterprise_id == ent_id))}


def test_same_change_stores_the_same_data_through_all_three_paths(app):
    merchant, staff = make_user(), make_user(Role.STAFF)
    start = dict(brands=["美的", "旧品牌", "将删除"], city_name="佛山", industries=["家电"], description="旧简介")
    direct = make_enterprise("佛山直接编辑电器有限公司", owner=merchant, status=Status.DRAFT, **start)
    approved = make_enterprise("佛山审核通过电器有限公司", owner=merchant, **start)
    imported = make_enterprise("佛山导入更新电器有限公司", status=Status.DRAFT, uscc=make_uscc(880001), **start)
    kept = {e.id: brand_ids(e.id) for e in (direct, approved, imported)}
    target_city, ids = city("中山"), sorted([industry("家电").id, industry("服装").id])
    data = {"brands": BRANDS_TEXT, "city_id": str(target_city.id), "industry_ids": ids,
            "description": "新的企业简介。", "website": "https://www.midea-demo.example.com/",
            "founded_year": "1998"}

    # 1. merchant edits a draft directly
    update_enterprise(merchant, direct.id, {**data, "name": "中山直接编辑电器有限公司"})
    # 2. staff approves an enterprise_edit whose payload still holds the duplicate brands
    payload = clean_enterprise_fields({**data, "name": "中山审核通过电器有限公司"})
    payload["brands"] = ["美的", "Midea", "", "美的", "ｍｉｄｅａ", "旧品牌"]
    application = make_application(approved, "enterprise_edit", payload=payload)
    review.approve(application.id, staff, shop_checks=_codes(application))
    # 3. the CSV import updates a stored row
    csv_text = (f"{ENT_HEADER}\n{imported.uscc},中山导入更新电器有限公司,{BRANDS_TEXT},中山,家电;服装,"
                f"新的企业简介。,https://www.midea-demo.example.com/,1998,,否\n")
    report = run_import(csv_text.encode(), None, dry_run=False)
    assert not report.errors
    db.session.flush()

    results = [stored(e.id) for e in (direct, approved, imported)]
    assert results[0] == results[1] == results[2]
    assert results[0]["brands"] == [("美的", "美的", 0), ("Midea", "midea", 1), ("旧品牌", "旧品牌", 2)]
    assert results[0]["city_id"] == target_city.id and results[0]["industry_ids"] == ids
    for ent_id, before in kept.items():
        after = brand_ids(ent_id)
        assert after["美的"] == before["美的"] and after["旧品牌"] == before["旧品牌"]
        assert "将删除" not in after
        assert db.session.get(Brand, before["将删除"]) is None


def test_duplicate_brands_are_dropped_and_unchanged_brand_keeps_its_row(app):
    ent = make_enterprise(brands=["美的", "旧品牌"])
    midea_id = brand_ids(ent.id)["美的"]
    changes = apply_enterprise_fields(ent, {"brands": ["Midea", "美的", " ", "MIDEA", "美的"]})
    db.session.flush()
    assert [(b.name, b.position) for b in ent.brands] == [("Midea", 0), ("美的", 1)]
    assert brand_ids(ent.id)["美的"] == midea_id
    assert changes == {"before": {"brands": ["美的", "旧品牌"]}, "after": {"brands": ["Midea", "美的"]}}
    # re-ordering only renumbers positions, ids stay
    ids = brand_ids(ent.id)
    apply_enterprise_fields(ent, {"brands": ["美的", "Midea"]})
    db.session.flush()
    db.session.expire_all()
    assert brand_ids(ent.id) == ids
    assert db.session.get(Enterprise, ent.id).brand_names == ["美的", "Midea"]


def test_keys_are_cut_to_the_column_and_duplicates_compared_on_the_cut_key(app):
    ent = make_enterprise()
    # NFKC turns each ㍿ into 株式会社: short names (fitting their columns) with keys too long
    long_a, long_b = "㍿" * 15 + "甲", "㍿" * 15 + "乙"  # same first 60 key characters
    apply_enterprise_fields(ent, {"name": "广东" + "㍿" * 40, "brands": [long_a, long_b]})
    db.session.flush()
    assert len(ent.name_key) == 120 and ent.name_key == normalize_key(ent.name)[:120]
    assert [b.name for b in ent.brands] == [long_a]
    assert ent.brands[0].name_key == brand_key(long_a) and len(brand_key(long_a)) == 60


def test_unknown_city_or_industry_is_refused_not_dropped(app):
    ent = make_enterprise(industries=["家电"])
    city_id, ind_ids = ent.city_id, [i.id for i in ent.industries]
    with pytest.raises(ServiceError):
        apply_enterprise_fields(ent, {"city_id": 999_999})
    with pytest.raises(ServiceError):
        apply_enterprise_fields(ent, {"industry_ids": [industry("服装").id, 999_999]})
    assert ent.city_id == city_id and [i.id for i in ent.industries] == ind_ids


def test_approving_an_edit_with_a_vanished_industry_fails_and_changes_nothing(app):
    merchant, staff = make_user(), make_user(Role.STAFF)
    ent = make_enterprise(owner=merchant, description="旧简介")
    application = make_application(ent, "enterprise_edit",
                                   payload={"description": "新简介", "industry_ids": [999_999]})
    with pytest.raises(ServiceError):
        review.approve(application.id, staff, shop_checks=_codes(application))
    assert ent.description == "旧简介"  # checked before anything was written
