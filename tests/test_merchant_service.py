"""Merchant domain rules (marketplace.services.listings), exercised on a real database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AppKind, Application, AppStatus, AuditLog, ClickEvent, Enterprise, Shop, ShopType, Status,
)
from marketplace.clock import utc_now
from marketplace.services import NotFound, ServiceError
from marketplace.services.listings.applications import submit_for_certification, withdraw_application
from marketplace.services.listings.claims import claim_enterprise, find_claimable
from marketplace.services.listings.common import FieldErrors
from marketplace.services.listings.dashboard import clicks_by_day
from marketplace.services.listings.enterprises import create_enterprise, set_logo, update_enterprise
from marketplace.services.listings.lookups import get_owned_enterprise, queue_position
from marketplace.services.listings.shops import add_shop, remove_shop, submit_shop, update_shop
from marketplace.validation.uscc import check_character
from tests import factories as f


def uscc(n: int, area: str = "440606") -> str:
    body = f"91{area}{n:09d}"[:17]
    return body + check_character(body)


def ent_data(**over) -> dict:
    data = {
        "name": "佛山岭南风家居有限公司", "uscc": uscc(777001), "brands": "岭南风；岭南风家居、岭南风",
        "city_id": "", "industry_ids": [f.industry("家电").id], "description": "专注岭南风格家居。",
        "website": "https://www.lingnanfeng.cn/", "founded_year": "2008",
    }
    data.update(over)
    return data


def shop_data(slug="tmall", url="https://lingnanfeng.tmall.com/", **over) -> dict:
    data = {"platform_id": f.platform(slug).id, "name": "岭南风旗舰店", "url": url,
            "shop_type": ShopType.FLAGSHIP}
    data.update(over)
    return data


@pytest.fixture
def merchant(app):
    return f.make_user()


# --------------------------------------------------------------------------- create


def test_create_enterprise_cleans_fields_and_suggests_city(merchant):
    ent = create_enterprise(merchant, ent_data(uscc=" " + uscc(777001).lower() + " "))
    assert ent.uscc == uscc(777001)
    assert ent.status == Status.DRAFT and ent.owner_id == merchant.id and ent.source == "merchant"
    assert ent.city.name == "佛山"  # 440606 -> 4406 -> 佛山
    assert ent.brand_names == ["岭南风", "岭南风家居"]
    assert ent.name_key == "佛山岭南风家居有限公司"
    assert ent.name_sort.startswith("fo shan")
    assert ent.website == "https://www.lingnanfeng.cn/"
    assert ent.founded_year == 2008
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "enterprise.create")).one()
    assert entry.enterprise_id == ent.id and entry.actor_id == merchant.id


def test_explicit_city_wins_over_suggestion(merchant):
    ent = create_enterprise(merchant, ent_data(city_id=str(f.city("广州").id)))
    assert ent.city.name == "广州"


def test_non_guangdong_code_needs_a_city(merchant):
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(uscc="91350100M000100Y43"))
    assert "city_id" in err.value.errors


@pytest.mark.parametrize("code, fragment", [
    ("91440606000777001X", "校验位"),
    ("91440606O00777001X", "不允许的字符"),
    ("9144060600077700", "18 位"),
    ("", "请填写"),
])
def test_bad_uscc_refused(merchant, code, fragment):
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(uscc=code))
    assert fragment in err.value.errors["uscc"]
    assert db.session.scalar(select(Enterprise).where(Enterprise.owner_id == merchant.id)) is None


def test_existing_unowned_uscc_points_to_claim(merchant):
    imported = f.make_enterprise(owner=None, status=Status.CERTIFIED)
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(uscc=imported.uscc))
    assert "认领" in err.value.errors["uscc"]


def test_uscc_owned_by_other_points_to_staff(merchant):
    other = f.make_user()
    owned = f.make_enterprise(owner=other, status=Status.DRAFT)
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(uscc=owned.uscc))
    assert "工作人员" in err.value.errors["uscc"]
    assert owned.name not in err.value.errors["uscc"]


@pytest.mark.parametrize("field, value", [
    ("name", "佛山\u202e司公限有"),
    ("name", "佛山\x00公司"),
    ("brands", "岭南\u2066风"),
    ("description", "简介\x00"),
    ("website", "javascript:alert(1)"),
    ("website", "data:text/html,hi"),
    ("founded_year", "1700"),
    ("founded_year", "abcd"),
    ("founded_year", "2999"),
    ("industry_ids", []),
    ("industry_ids", ["999999"]),
    ("city_id", "999999"),
])
def test_bad_fields_refused(merchant, field, value):
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(**{field: value}))
    assert field in err.value.errors
    assert db.session.scalar(select(Enterprise).where(Enterprise.owner_id == merchant.id)) is None


def test_duplicate_legal_name_refused_after_normalisation(merchant):
    f.make_enterprise(name="佛山岭南风家居有限公司", owner=None)
    with pytest.raises(FieldErrors) as err:
        create_enterprise(merchant, ent_data(name="佛山岭南风家居有限公司 "))
    assert "认领" in err.value.errors["name"]


def test_staff_cannot_use_merchant_services(app):
    staff = f.make_user(role="staff")
    with pytest.raises(ServiceError):
        create_enterprise(staff, ent_data())


# --------------------------------------------------------------------------- edits


def test_draft_enterprise_edited_directly(merchant):
    ent = create_enterprise(merchant, ent_data())
    result = update_enterprise(merchant, ent.id, ent_data(name="佛山新名称有限公司", brands="新品牌"))
    assert result.applied and set(result.changed) == {"name", "brands"}
    assert ent.name == "佛山新名称有限公司" and ent.brand_names == ["新品牌"]
    assert ent.name_key == "佛山新名称有限公司"


def test_certified_enterprise_edit_waits_for_review(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED, name="佛山已认证有限公司",
                            brands=["老品牌"])
    data = ent_data(name="佛山改名有限公司", brands="老品牌；新品牌", city_id=str(ent.city_id),
                    industry_ids=[i.id for i in ent.industries], description=ent.description, website="",
                    founded_year="")
    with pytest.raises(FieldErrors, match="变更企业名称需要变更后的营业执照"):
        update_enterprise(merchant, ent.id, data)  # a new name needs the new licence first
    licence = f.make_evidence(ent, merchant)
    result = update_enterprise(merchant, ent.id, data)
    db.session.expire_all()
    assert not result.applied and result.application.evidence_id == licence.id
    app_ = result.application
    assert app_.kind == AppKind.ENTERPRISE_EDIT and app_.status == AppStatus.PENDING
    assert app_.payload == {"name": "佛山改名有限公司", "brands": ["老品牌", "新品牌"]}
    live = db.session.get(Enterprise, ent.id)
    assert live.name == "佛山已认证有限公司" and live.brand_names == ["老品牌"]
    assert live.status == Status.CERTIFIED
    # A second edit updates the same pending application with only the changed fields.
    data["name"] = "佛山已认证有限公司"
    data["description"] = "新的简介"
    result2 = update_enterprise(merchant, ent.id, data)
    assert result2.application.id == app_.id
    assert result2.application.payload == {"brands": ["老品牌", "新品牌"], "description": "新的简介"}
    assert db.session.scalar(select(Application).where(Application.kind == AppKind.ENTERPRISE_EDIT)
                             .where(Application.status == AppStatus.PENDING)).id == app_.id
    # Putting everything back withdraws the pending change.
    data["brands"] = "老品牌"
    data["description"] = ent.description
    result3 = update_enterprise(merchant, ent.id, data)
    assert result3.application.status == AppStatus.WITHDRAWN


def test_pending_enterprise_cannot_be_edited(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.PENDING)
    with pytest.raises(ServiceError, match="撤回"):
        update_enterprise(merchant, ent.id, ent_data())


def test_other_merchants_objects_not_found(merchant):
    other = f.make_user()
    ent = f.make_enterprise(owner=other, status=Status.DRAFT)
    shop = f.make_shop(ent, status=Status.DRAFT)
    for call in (
        lambda: get_owned_enterprise(merchant, ent.id),
        lambda: update_enterprise(merchant, ent.id, ent_data()),
        lambda: add_shop(merchant, ent.id, shop_data()),
        lambda: update_shop(merchant, shop.id, shop_data()),
        lambda: remove_shop(merchant, shop.id),
        lambda: submit_for_certification(merchant, ent.id, f.evidence_input()),
        lambda: set_logo(merchant, ent.id, b"x"),
    ):
        with pytest.raises(NotFound):
            call()
    assert ent.status == Status.DRAFT and db.session.get(Shop, shop.id) is not None


# --------------------------------------------------------------------------- claims


def test_claim_imported_enterprise(merchant):
    imported = f.make_enterprise(owner=None, name="汕头澄海玩具有限公司")
    found = find_claimable("澄海玩具")
    assert imported in found
    assert find_claimable(imported.uscc.lower()) == [imported]
    app_ = claim_enterprise(merchant, imported.id, "我是法定代表人", f.evidence_input())
    assert app_.kind == AppKind.CLAIM and app_.payload == {"note": "我是法定代表人"}
    assert imported.owner_id is None  # staff decide
    with pytest.raises(ServiceError, match="已提交"):
        claim_enterprise(merchant, imported.id, "", f.evidence_input())


def test_owned_enterprise_not_claimable(merchant):
    owned = f.make_enterprise(owner=f.make_user(), name="东莞已有主人有限公司")
    assert find_claimable("已有主人") == []
    with pytest.raises(ServiceError, match="工作人员"):
        claim_enterprise(merchant, owned.id, "", f.evidence_input())


def test_claim_search_escapes_like_wildcards(merchant):
    f.make_enterprise(owner=None, name="珠海百分百有限公司")
    assert find_claimable("%%") == []
    assert find_claimable("__") == []


# --------------------------------------------------------------------------- shops


def test_add_shop_to_draft_enterprise(merchant):
    ent = create_enterprise(merchant, ent_data())
    shop = add_shop(merchant, ent.id, shop_data(url="HTTPS://LingNanFeng.TMALL.com/?spm=a1.b2#top"))
    assert shop.status == Status.DRAFT
    assert shop.url == "https://lingnanfeng.tmall.com/"
    assert db.session.scalar(select(Application).where(Application.kind == AppKind.SHOP)) is None


@pytest.mark.parametrize("url, fragment", [
    ("https://mall.jd.com/index-1.html", "不属于天猫"),
    ("https://tmall.com.evil.example/", "不属于天猫"),
    ("javascript:alert(1)", "http"),
    ("JaVaScRiPt:alert(1)", "http"),
    ("java\tscript:alert(1)", "不允许"),
    ("data:text/html;base64,PHNjcmlwdD4=", "http"),
    ("vbscript:msgbox", "http"),
    ("https://shop\x00.tmall.com/", "空字符"),
])
def test_bad_shop_urls_refused(merchant, url, fragment):
    ent = create_enterprise(merchant, ent_data())
    with pytest.raises(FieldErrors) as err:
        add_shop(merchant, ent.id, shop_data(url=url))
    assert fragment in err.value.errors["url"]
    assert ent.shops == []


def test_own_site_shop_must_use_enterprise_domain(merchant):
    ent = create_enterprise(merchant, ent_data())
    with pytest.raises(FieldErrors) as err:
        add_shop(merchant, ent.id, shop_data("own-site", url="https://shop.other-brand.cn/"))
    assert "lingnanfeng.cn" in err.value.errors["url"]
    shop = add_shop(merchant, ent.id, shop_data("own-site", url="https://mall.lingnanfeng.cn/",
                                                         shop_type=ShopType.OFFICIAL))
    assert shop.platform.slug == "own-site"


def test_duplicate_shop_url_refused_without_leaking(merchant):
    other_owner = f.make_user()
    hidden = f.make_enterprise(owner=other_owner, status=Status.DRAFT, name="秘密草稿有限公司", brands=["秘密品牌"])
    f.make_shop(hidden, url="https://secret.tmall.com/", status=Status.DRAFT)
    public = f.make_enterprise(owner=other_owner, status=Status.CERTIFIED, brands=["公开品牌"])
    f.make_shop(public, url="https://public.tmall.com/")
    ent = create_enterprise(merchant, ent_data())
    with pytest.raises(FieldErrors) as err:
        add_shop(merchant, ent.id, shop_data(url="https://secret.tmall.com/?spm=x"))
    msg = err.value.errors["url"]
    assert "已被" in msg and "秘密" not in msg
    with pytest.raises(FieldErrors) as err:
        add_shop(merchant, ent.id, shop_data(url="https://PUBLIC.tmall.com/"))
    assert "公开品牌" in err.value.errors["url"]
    mine = add_shop(merchant, ent.id, shop_data(url="https://mine.tmall.com/"))
    with pytest.raises(FieldErrors) as err:
        add_shop(merchant, ent.id, shop_data(url="https://mine.tmall.com/"))
    assert "您的店铺" in err.value.errors["url"] and mine.name in err.value.errors["url"]


def test_shop_added_to_certified_enterprise_is_pending(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    shop = add_shop(merchant, ent.id, shop_data(url="https://newshop.tmall.com/"))
    assert shop.status == Status.PENDING
    app_ = db.session.scalars(select(Application).where(Application.kind == AppKind.SHOP)).one()
    assert app_.shop_id == shop.id and app_.status == AppStatus.PENDING
    # Withdrawing leaves a draft that can be submitted again.
    withdraw_application(merchant, app_.id)
    assert shop.status == Status.DRAFT
    again = submit_shop(merchant, shop.id)
    assert again.kind == AppKind.SHOP and shop.status == Status.PENDING


def test_certified_shop_edit_waits_for_review(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    shop = f.make_shop(ent, url="https://approved.tmall.com/")
    result = update_shop(merchant, shop.id, shop_data(url="https://changed.tmall.com/", name=shop.name))
    db.session.expire_all()
    assert result.application.kind == AppKind.SHOP_EDIT
    assert result.application.payload == {"url": "https://changed.tmall.com/"}
    assert db.session.get(Shop, shop.id).url == "https://approved.tmall.com/"
    assert db.session.get(Shop, shop.id).status == Status.CERTIFIED
    # The pending URL is reserved: nobody else can list it meanwhile.
    other = f.make_user()
    other_ent = create_enterprise(other, ent_data(uscc=uscc(777002), name="另一家有限公司"))
    with pytest.raises(FieldErrors):
        add_shop(other, other_ent.id, shop_data(url="https://changed.tmall.com/"))


def test_remove_certified_shop_is_immediate_and_audited(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    shop = f.make_shop(ent)
    update_shop(merchant, shop.id, shop_data(url="https://elsewhere.tmall.com/", name=shop.name))
    shop_id = shop.id
    remove_shop(merchant, shop_id)
    db.session.commit()
    assert db.session.get(Shop, shop_id) is None
    edit = db.session.scalars(select(Application).where(Application.kind == AppKind.SHOP_EDIT)).one()
    assert edit.status == AppStatus.WITHDRAWN and edit.shop_id is None  # history kept
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "shop.delete")).one()
    assert entry.before["url"] == shop.url


def test_revoked_shop_cannot_be_removed_or_edited(merchant):
    ent = f.make_enterprise(owner=merchant, status=Status.CERTIFIED)
    shop = f.make_shop(ent, status=Status.REVOKED)
    with pytest.raises(ServiceError):
        remove_shop(merchant, shop.id)
    with pytest.raises(ServiceError):
        update_shop(merchant, shop.id, shop_data(url="https://x1.tmall.com/"))
    assert db.session.get(Shop, shop.id) is not None


# --------------------------------------------------------------------------- submission and queue


def test_submit_needs_a_shop(merchant):
    ent = create_enterprise(merchant, ent_data())
    with pytest.raises(ServiceError, match="网店"):
        submit_for_certification(merchant, ent.id, f.evidence_input())
    assert ent.status == Status.DRAFT


def test_submit_withdraw_and_queue_position(merchant):
    earlier = f.make_enterprise(owner=None)
    first = Application(kind=AppKind.CLAIM, enterprise_id=earlier.id, payload={"note": ""},
                        submitted_at=utc_now() - timedelta(hours=1))
    db.session.add(first)
    ent = create_enterprise(merchant, ent_data())
    s1 = add_shop(merchant, ent.id, shop_data(url="https://a1.tmall.com/"))
    s2 = add_shop(merchant, ent.id, shop_data("jd", url="https://mall.jd.com/index-1.html"))
    app_ = submit_for_certification(merchant, ent.id, f.evidence_input())
    assert app_.kind == AppKind.ENTERPRISE
    assert ent.status == Status.PENDING and s1.status == s2.status == Status.PENDING
    assert queue_position(app_) == 2
    with pytest.raises(ServiceError):
        submit_for_certification(merchant, ent.id, f.evidence_input())
    with pytest.raises(ServiceError):
        add_shop(merchant, ent.id, shop_data(url="https://a2.tmall.com/"))
    first.status = AppStatus.APPROVED
    db.session.flush()
    assert queue_position(app_) == 1
    withdraw_application(merchant, app_.id)
    assert app_.status == AppStatus.WITHDRAWN and queue_position(app_) is None
    assert ent.status == Status.DRAFT and s1.status == Status.DRAFT
    with pytest.raises(ServiceError):
        withdraw_application(merchant, app_.id)


def test_withdraw_loses_to_a_staff_decision(merchant):
    ent = create_enterprise(merchant, ent_data())
    add_shop(merchant, ent.id, shop_data(url="https://race.tmall.com/"))
    app_ = submit_for_certification(merchant, ent.id, f.evidence_input())
    db.session.commit()
    # Staff decide in another transaction (conditional UPDATE), the merchant's copy is stale.
    from sqlalchemy import update
    with db.engine.begin() as conn:
        conn.execute(update(Application).where(Application.id == app_.id).values(status=AppStatus.APPROVED))
    with pytest.raises(ServiceError, match="已被工作人员处理|已处理"):
        withdraw_application(merchant, app_.id)


def test_other_merchant_cannot_withdraw(merchant):
    ent = create_enterprise(merchant, ent_data())
    add_shop(merchant, ent.id, shop_data(url="https://w.tmall.com/"))
    app_ = submit_for_certification(merchant, ent.id, f.evidence_input())
    with pytest.raises(NotFound):
        withdraw_application(f.make_user(), app_.id)
    assert app_.status == AppStatus.PENDING


def test_clicks_by_day_buckets_last_30_days(merchant):
    ent = f.make_enterprise(owner=merchant)
    shop = f.make_shop(ent)
    now = utc_now()
    for delta in (timedelta(0), timedelta(0), timedelta(days=3), timedelta(days=45)):
        db.session.add(ClickEvent(shop_id=shop.id, at=now - delta))
    db.session.flush()
    series = clicks_by_day([shop.id], now=now)[shop.id]
    assert len(series) == 30
    assert sum(c for _, c in series) == 3
    assert series[-1][1] == 2 and series[-4][1] == 1


def test_racing_submissions_create_one_application(merchant):
    ent = create_enterprise(merchant, ent_data())
    add_shop(merchant, ent.id, shop_data(url="https://race2.tmall.com/"))
    db.session.commit()
    # Another request submitted in the meantime; this session still holds the stale 'draft' row.
    from sqlalchemy import update
    with db.engine.begin() as conn:
        conn.execute(update(Enterprise).where(Enterprise.id == ent.id).values(status=Status.PENDING))
    assert ent.status == Status.DRAFT
    with pytest.raises(ServiceError, match="审核中"):
        submit_for_certification(merchant, ent.id, f.evidence_input())
    db.session.rollback()
    assert db.session.scalar(select(Application)) is None
