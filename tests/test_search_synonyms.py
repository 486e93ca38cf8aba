"""Search synonyms as data: the shipped list, staff editing in the console (audited), applied to
the next search without a rebuild."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Role, SearchOutbox, SearchSynonym, SynonymCategory
from marketplace.search_sync import querying
from marketplace.services import synonyms
from tests import factories as f


def api(client, q: str) -> dict:
    resp = client.get("/api/v1/search", query_string={"q": q, "kind": "enterprise"})
    assert resp.status_code == 200
    return resp.get_json()


def names(data) -> list[str]:
    return [r["name"] for r in data["results"]]


@pytest.fixture
def staff(app, login_as):
    user = f.make_user(Role.STAFF)
    db.session.commit()
    login_as(user)
    return user


@pytest.fixture
def fridge(app):
    ent = f.make_enterprise("珠海市测试电器有限公司", brands=["霜澈"], city_name="珠海", industries=["家电"],
                            description="主营冰箱和洗衣机。")
    db.session.commit()
    return ent


def test_shipped_list_is_large_sourced_and_covers_cantonese_and_categories():
    rules = synonyms.seed_rules()
    assert len(rules) >= 200
    assert all(r.source and r.terms for r in rules)
    assert {r.category for r in rules} >= {SynonymCategory.CANTONESE, SynonymCategory.CATEGORY}
    assert {r.kind for r in rules} == {"group", "oneway"}
    assert len({r.key for r in rules}) == len(rules)
    by_word = {t: r for r in rules for t in r.terms}
    for cantonese, standard in [("雪柜", "冰箱"), ("冷气", "空调"), ("单车", "自行车"), ("梳化", "沙发"),
                                ("家私", "家具"), ("灯饰", "灯具")]:
        rule = by_word[cantonese]
        assert standard in rule.terms + rule.targets, cantonese
    assert "荔枝" in by_word["水果"].targets and "单丛" in by_word["茶叶"].targets
    assert "5G手机" in by_word["智能手机"].targets


def test_seeding_adds_missing_rows_once_and_keeps_staff_decisions(app):
    assert synonyms.seed_synonyms() == len(synonyms.seed_rules())
    first = db.session.scalars(select(SearchSynonym).order_by(SearchSynonym.id)).first()
    first.active = False
    db.session.commit()
    assert synonyms.seed_synonyms() == 0  # nothing new; the switched-off row stays off
    assert db.session.get(SearchSynonym, first.id).active is False


def test_shipped_synonyms_apply_at_query_time(app, client, fridge):
    assert api(client, "雪柜")["total"] == 0
    synonyms.seed_synonyms()
    db.session.commit()
    data = api(client, "雪柜")  # no rebuild in between
    assert names(data) == ["霜澈"] and data["synonyms"] == ["冰箱"] and data["partial"] is False
    html = client.get("/search", query_string={"q": "雪柜"}).get_data(as_text=True)
    assert "已包含同义词：冰箱" in html and "<mark>冰箱</mark>" in html


def test_staff_adds_a_group_in_the_console_and_the_next_search_uses_it(app, client, staff, fridge):
    assert api(client, "冻柜")["total"] == 0
    resp = client.post("/staff/synonyms", data={"kind": "group", "terms": "冰箱，冻柜", "targets": "",
                                                "category": "俗称", "note": "测试"})
    assert resp.status_code == 302
    assert names(api(client, "冻柜")) == ["霜澈"]
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "synonym.create")).one()
    assert entry.actor_id == staff.id and entry.after["terms"] == ["冰箱", "冻柜"]
    page = client.get("/staff/synonyms", query_string={"q": "冻柜"}).get_data(as_text=True)
    assert "冰箱，冻柜" in page
    tried = client.get("/staff/synonyms", query_string={"try": "冻柜"}).get_data(as_text=True)
    assert "冰箱" in tried and "同义词" in tried


def test_one_way_rule_does_not_work_backwards(app, client, staff):
    f.make_enterprise("湛江市测试果业有限公司", brands=["椰岸"], city_name="湛江", industries=["农产品"],
                      description="主营菠萝和荔枝。")
    f.make_enterprise("茂名市测试果业有限公司", brands=["荔乡"], city_name="茂名", industries=["农产品"],
                      description="主营龙眼。")
    db.session.commit()
    synonyms.create(staff, "oneway", "鲜果", "菠萝，龙眼", "品类", "")
    db.session.commit()
    assert sorted(names(api(client, "鲜果"))) == ["椰岸", "荔乡"]
    assert names(api(client, "菠萝")) == ["椰岸"]  # 菠萝 does not bring in every 鲜果


def test_edit_and_switch_off_are_audited_and_apply_at_once(app, client, staff, fridge):
    syn = synonyms.create(staff, "group", "冰箱，冻柜", "", "俗称", "")
    db.session.commit()
    resp = client.post(f"/staff/synonyms/{syn.id}", data={"kind": "group", "terms": "冰箱，冷柜",
                                                         "targets": "", "category": "俗称", "note": "改"})
    assert resp.status_code == 302
    assert api(client, "冻柜")["total"] == 0 and names(api(client, "冷柜")) == ["霜澈"]
    resp = client.post(f"/staff/synonyms/{syn.id}/active", data={"enable": "0"})
    assert resp.status_code == 302
    assert api(client, "冷柜")["total"] == 0
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_kind == "synonym")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["synonym.create", "synonym.update", "synonym.disable"]
    update = db.session.scalars(select(AuditLog).where(AuditLog.action == "synonym.update")).one()
    assert update.before["terms"] == ["冰箱", "冻柜"] and update.after["terms"] == ["冰箱", "冷柜"]


def test_a_synonym_change_moves_the_outbox_head(app, staff):
    """Cached search pages are dropped when the outbox head moves; a synonym edit must move it."""
    before = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    synonyms.create(staff, "group", "测一，测二", "", "其他", "")
    db.session.commit()
    assert (db.session.scalar(select(func.max(SearchOutbox.id))) or 0) > before


@pytest.mark.parametrize("data, message", [
    ({"kind": "group", "terms": "冰箱"}, "至少需要两个不同的词"),
    ({"kind": "group", "terms": "冰箱, 冰箱"}, "至少需要两个不同的词"),
    ({"kind": "oneway", "terms": "水果", "targets": ""}, "请填写扩展词"),
    ({"kind": "oneway", "terms": "水果", "targets": "水果"}, "不能相同"),
    ({"kind": "group", "terms": "冰箱，" + "长" * 21}, "太长"),
    ({"kind": "group", "terms": "冰箱，@@"}, "不是有效的词"),
    ({"kind": "nonsense", "terms": "冰箱，雪柜"}, "类型"),
])
def test_bad_input_gets_a_chinese_message_and_changes_nothing(app, client, staff, data, message):
    form = {"targets": "", "category": "俗称", "note": "", **data}
    resp = client.post("/staff/synonyms", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and message in html
    assert db.session.scalar(select(func.count()).select_from(SearchSynonym)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_duplicate_rule_is_refused(app, staff):
    synonyms.create(staff, "group", "冰箱，雪柜", "", "粤语", "")
    with pytest.raises(synonyms.SynonymError, match="已有相同的规则"):
        synonyms.create(staff, "group", "雪柜 冰箱", "", "粤语", "")


def test_console_is_for_staff_only(app, client, login_as):
    assert client.get("/staff/synonyms").status_code == 302  # to the login page
    merchant = f.make_user(Role.MERCHANT)
    db.session.commit()
    login_as(merchant)
    assert client.get("/staff/synonyms").status_code == 403
    assert client.post("/staff/synonyms", data={"kind": "group", "terms": "甲，乙", "category": "其他"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SearchSynonym)) == 0


def test_unknown_rule_is_404(app, client, staff):
    assert client.get("/staff/synonyms/999").status_code == 404
    assert client.post("/staff/synonyms/999/active", data={"enable": "0"}).status_code == 404


def test_explain_shows_synonyms_and_places(app):
    synonyms.seed_synonyms()
    db.session.commit()
    got = {g["text"]: [a["label"] for a in g["also"]] for g in querying.explain_expansions("羊城 雪柜")}
    assert got == {"羊城": ["广州"], "雪柜": ["冰箱", "电冰箱"]}
