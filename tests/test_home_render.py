"""The home page's render cost: every card of the carousel, the industry rows and the newest list
comes from one shared load, and the cached newest ids never show a listing that is no longer public."""
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, update

from factories import industry, make_enterprise, make_shop
from marketplace.extensions import db
from marketplace.models import Enterprise, FeaturedSlot, Placement, Status
from marketplace.clock import utc_now


@contextmanager
def _counting():
    statements: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _section(html: str, title_id: str) -> str:
    return html.split(f'id="{title_id}"')[1].split("</section>")[0]


def test_home_cards_come_from_one_load(client, app):
    ceramics = industry("陶瓷")
    start = utc_now() - timedelta(hours=1)
    ents = []
    for k in range(12):
        e = make_enterprise(brands=[f"卡片品牌{k:02d}", f"副牌{k:02d}"], industries=["陶瓷", "家电"],
                            badges=["中华老字号"] if k % 2 else [], city_name="广州" if k % 3 else "佛山")
        make_shop(e)
        make_shop(e, platform_slug="jd")
        make_shop(e, platform_slug="pinduoduo", status=Status.PENDING)  # not public: no chip
        ents.append(e)
    for pos, e in enumerate(ents[:3]):
        db.session.add(FeaturedSlot(placement=Placement.CAROUSEL, enterprise=e, position=pos, starts_at=start,
                                    title=f"焦点{pos}"))
    for pos, e in enumerate(ents[3:7]):
        db.session.add(FeaturedSlot(placement=Placement.INDUSTRY, industry=ceramics, enterprise=e,
                                    position=pos, starts_at=start))
    db.session.commit()
    assert client.get("/").status_code == 200  # warms the directory aggregates (cached per version)

    with _counting() as statements:
        html = client.get("/").get_data(as_text=True)
    # the live slots, the cards (enterprises with their city; brands; industries; badges; shops
    # with their platform: narrow column queries, services/catalog/cards.py) and at most the
    # directory version check (twice a second), whatever the number of cards. It was 16 or more:
    # the slot query and each of the three lists loaded their own cards with four eager loads.
    assert len(statements) <= 7, statements

    carousel = _section(html, "focus-title")
    assert all(f"卡片品牌{k:02d}" in carousel for k in range(3)) and "焦点0" in carousel
    row = _section(html, f"row-{ceramics.slug}")
    assert [f"卡片品牌{k:02d}" in row for k in range(3, 8)] == [True] * 4 + [False]
    newest = _section(html, "new-title")
    assert [f"卡片品牌{k:02d}" in newest for k in range(12)] == [False] * 4 + [True] * 8
    # what a card shows, for one of them: city, industries, badge, chips of public shops only
    card = newest.split("卡片品牌11")[1].split("</article>")[0]
    assert "广州" in card and "陶瓷" in card and "家电" in card and "中华老字号" in card
    assert "天猫" in card and "京东" in card and "拼多多" not in card


def test_newest_list_rechecks_status_of_cached_ids(client, app):
    ents = [make_enterprise(brands=[f"新认证{k:02d}"]) for k in range(9)]
    for k, e in enumerate(ents):  # distinct certification times, oldest first
        e.certified_at = utc_now() - timedelta(days=9 - k)
    db.session.commit()
    newest = _section(client.get("/").get_data(as_text=True), "new-title")
    assert [f"新认证{k:02d}" in newest for k in range(9)] == [False] + [True] * 8

    # bulk SQL skips the outbox, so the cached ids stay; the newest card is dropped anyway and
    # the list is still eight long (the next one moves up)
    db.session.execute(update(Enterprise).where(Enterprise.id == ents[8].id).values(status=Status.REVOKED))
    db.session.commit()
    newest = _section(client.get("/").get_data(as_text=True), "new-title")
    assert [f"新认证{k:02d}" in newest for k in range(9)] == [True] * 8 + [False]
