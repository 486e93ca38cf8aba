"""Review checks at scale: the similar-name pre-filters may only drop names difflib would reject,
and the checks' query count does not grow with the shops or the similar enterprises shown."""
import difflib

from sqlalchemy import event, select

from marketplace.extensions import db
from marketplace.models import Brand, Enterprise
from marketplace.services import review_checks
from marketplace.services.review_checks import SIMILAR_NAME_RATIO, similar_names
from marketplace.validation.text import normalize_key
from tests.factories import make_application, make_enterprise, make_shop, make_user

KEY = "佛山美味食品有限公司"  # 10 characters: similar lengths are 8..13 at the 0.85 cutoff


def brute_force(keys: set[str], exclude_id: int) -> list[str]:
    """What the page showed before the pre-filters: difflib over every legal name and brand."""
    candidates: dict[str, set[int]] = {}
    for eid, key in db.session.execute(select(Enterprise.id, Enterprise.name_key).where(Enterprise.id != exclude_id)):
        candidates.setdefault(key, set()).add(eid)
    for eid, key in db.session.execute(select(Brand.enterprise_id, Brand.name_key)
                                       .where(Brand.enterprise_id != exclude_id)):
        candidates.setdefault(key, set()).add(eid)
    found: dict[int, str] = {}
    for key in sorted(keys):
        for match in difflib.get_close_matches(key, list(candidates), n=5, cutoff=SIMILAR_NAME_RATIO):
            for eid in candidates[match]:
                found.setdefault(eid, match)
    out = []
    for eid, match in list(found.items())[:10]:
        other = db.session.get(Enterprise, eid)
        ratio = max(difflib.SequenceMatcher(None, k, match).ratio() for k in keys)
        out.append(f"名称与企业 #{other.id}「{other.name}」（{other.status_label}）非常相似（相似度 {ratio:.0%}）。")
    return out


def _names_at_the_boundaries() -> dict[str, str]:
    """Names just inside and just outside the cutoff, by length and by shared characters."""
    return {
        "one_changed": "佛山美味食品有限公馆",      # 9/10 kept: 0.90
        "two_changed": "佛山美味食品有限会馆",      # 0.80
        "longest": KEY + "集团股",                # 13 characters: 20/23 = 0.87, the window's top
        "too_long": KEY + "集团股份",             # 14: 20/24 = 0.83
        "shortest": "佛山美味食品有限",            # 8: 16/18 = 0.89, the window's bottom
        "too_short": "佛山美味食品有",              # 7: 14/17 = 0.82
        "same_letters": "司公限有品食味美山佛",     # every character shared, order reversed: 0.10
        "brand_plus_one": "美味坊坊",              # vs brand 美味坊: 6/7 = 0.86
        "brand_minus_one": "美味",                 # vs brand 美味坊: 0.80
        "regex_chars": "a-b.c*[d]^$\\",          # vs brand a-b.c*[d]^$| : one character differs
        "unrelated": "汕头市澄海区玩具有限公司",
    }


def test_similar_names_match_brute_force_at_the_boundaries(app):
    names = _names_at_the_boundaries()
    ents = {label: make_enterprise(name, brands=[f"无关品牌{i}"]) for i, (label, name) in enumerate(names.items())}
    me = make_enterprise(KEY, brands=["美味坊", "a-b.c*[d]^$|"])
    db.session.commit()
    keys = {normalize_key(me.name)} | {b.name_key for b in me.brands}
    got = similar_names(keys, exclude_id=me.id)
    assert got == brute_force(keys, me.id)
    shown = "".join(got)
    for label in ("one_changed", "longest", "shortest", "brand_plus_one", "regex_chars"):
        assert f"#{ents[label].id}「" in shown, label
    for label in ("two_changed", "too_long", "too_short", "same_letters", "brand_minus_one", "unrelated"):
        assert f"#{ents[label].id}「" not in shown, label


def test_similar_names_match_brute_force_for_many_keys(app):
    """Every enterprise checked against all the others gives the old warnings. (Enterprises sharing
    one matched name come in database row order, which no query ever fixed; hence sorted.)"""
    # Seven near copies of one name: only the five best per key may be reported, as before.
    for i, last in enumerate("司甲乙丙丁戊己"):
        make_enterprise(f"佛山美味食品有限公{last}", brands=[f"别的{i}"])
    stems = ["佛山美味食品", "广州美味食品", "佛山美昧食品", "深圳科技创新", "深圳科枝创新", "东莞五金制品"]
    for i, stem in enumerate(stems):
        for suffix in ("有限公司", "有限公司分店", "股份有限公司"):
            make_enterprise(stem + suffix, brands=[stem[2:4], stem[2:5] + str(i % 2)])
    db.session.commit()
    checked = 0
    for ent in db.session.scalars(select(Enterprise)).all():
        keys = {normalize_key(ent.name)} | {b.name_key for b in ent.brands}
        expected = brute_force(keys, ent.id)
        assert sorted(similar_names(keys, exclude_id=ent.id)) == sorted(expected), ent.name
        checked += bool(expected)
    assert checked >= 10  # the comparison is not vacuous
    assert similar_names(set(), exclude_id=0) == []


def _count_queries():
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1
    return counter, count


def test_checks_query_count_does_not_grow_with_shops_or_matches(app):
    """One duplicate-URL query for all shops under review, one query for all similar enterprises."""
    def enterprise_with(shops: int, similar: int):
        for i in range(similar):
            make_enterprise(f"江门市联华五金制品有限公司{i}")
        merchant = make_user()
        ent = make_enterprise("江门市联华五金制品有限公司", owner=merchant, status="pending", certificate=False,
                              brands=[f"联华{shops}"])
        for _ in range(shops):
            make_shop(ent, status="pending")
        a = make_application(ent, applicant=merchant)
        db.session.commit()
        return a

    def queries(a):
        counter, count = _count_queries()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            db.session.expire_all()
            a = db.session.get(type(a), a.id)
            a.enterprise.shops, a.enterprise.brands  # noqa: B018 - relationship loads are not the checks
            for s in a.enterprise.shops:
                s.platform  # noqa: B018
            counter["n"] = 0
            shops = review_checks.shop_checks(a)
            warnings = review_checks.duplicate_warnings(a)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return counter["n"], shops, warnings

    small, shops, warnings = queries(enterprise_with(shops=1, similar=1))
    assert len(shops) == 1 and sum("非常相似" in w for w in warnings) == 1
    db.session.execute(Enterprise.__table__.update().where(Enterprise.name_key.like("江门市联华%"))
                       .values(name_key="retired"))  # the first set must not count as similar below
    db.session.commit()
    large, shops, warnings = queries(enterprise_with(shops=6, similar=5))  # difflib reports 5 per key
    assert len(shops) == 6 and sum("非常相似" in w for w in warnings) == 5
    assert large == small


def test_shop_url_duplicates_stay_per_shop(app):
    """Batching the URL lookup must not hand one shop's duplicate to its sibling."""
    other = make_enterprise()
    taken = make_shop(other, url="https://taken.tmall.com/")
    merchant = make_user()
    ent = make_enterprise(owner=merchant, status="pending", certificate=False)
    dup = make_shop(ent, status="pending", url="http://taken.tmall.com")
    clean = make_shop(ent, status="pending", url="https://clean.tmall.com/")
    a = make_application(ent, applicant=merchant)
    db.session.commit()
    checks = {c["shop"].id: c["duplicates"] for c in review_checks.shop_checks(a)}
    assert checks == {dup.id: [taken], clean.id: []}
    assert any(f"店铺 #{taken.id}" in w for w in review_checks.duplicate_warnings(a))
