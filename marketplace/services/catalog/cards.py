"""Enterprise cards for the list pages (home, browse, city / industry / platform pages) and the
enterprise hits of a search: what a card shows, read with narrow column queries into small
read-only objects, kept per process.

Why: building ORM objects for a home page's ~48 enterprises with their brands, industries,
badges and ~240 shops was 40-50 % of a render that misses the page cache (bench/README.md,
issue 15). A card needs a few columns of each: five narrow queries read them into plain rows
(``rows``), which outlive their session. Even so, reading them was still half of a home page
miss, though a card changes only when its enterprise does: so cards are kept per process
(``CardStore``) and judged by the same change tracker as cached pages (``page_changes``). A card
is reused while no change of its enterprise (a ``page_ent`` row: status, content, shops, brands,
certificate ...) or of everything (``page_all``: a platform, industry or badge renamed ...) was
seen since it was read, and for at most ``CATALOG_CACHE_SECONDS`` (click counts, which order the
fallback featured lists, change without an outbox row); 0 turns the store off.

The page cache learns which enterprises a page shows from ORM loads; cards are not ORM loads,
so ``load_cards`` reports them (``page_changes.note_shown``), cached or not.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, null, select, union_all

from ... import page_changes
from ...clock import machine_time, monotonic
from ...extensions import db
from ...models import (
    Badge, Brand, City, Enterprise, Industry, Platform, Shop, Status, display_name, enterprise_badge,
    enterprise_industry, enterprise_is_public, shop_is_public,
)
from .rows import BadgeRow, CityRow, IndustryRow, PlatformRow

MAX_CARDS = 1000  # per process: a home page and fifty list pages; ~3 KB each with their markup


class ShopChip(NamedTuple):
    """A certified shop as a card shows it: its platform."""

    platform_id: int
    platform: PlatformRow


@dataclass(slots=True)
class EnterpriseCard:
    """The part of a public enterprise a card (and the home page's carousel) shows; attribute
    names are ``Enterprise``'s, so the templates take either. Shared between requests: read-only."""

    id: int
    name: str
    uscc: str
    description: str | None
    logo_sha256: str | None
    certified_at: datetime | None
    click_count: int
    city: CityRow | None
    brand_names: list[str]
    industries: list[IndustryRow]
    badges: list[BadgeRow]
    public_shops: list[ShopChip]
    # the card's markup per (heading, note), filled by ``templating.enterprise_card``
    html: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def display_name(self) -> str:
        return display_name(self.brand_names, self.name)


class ShopHit(NamedTuple):
    """A public shop as a search hit shows it, with its enterprise's card (``Shop``'s names)."""

    id: int
    name: str
    shop_type: str
    enterprise_id: int
    platform: PlatformRow
    enterprise: EnterpriseCard


class _Kept(NamedTuple):
    card: EnterpriseCard
    read_at: float  # machine_time() before the read: a change seen after it may be missing
    known: tuple[int, frozenset[int]]  # the outbox rows the reader had seen (ChangeTracker.known)
    kept_at: float  # monotonic(), for the age limit


class CardStore:
    """This process's cards, least recently used dropped first (see the module doc)."""

    def __init__(self, limit: int = MAX_CARDS):
        self.limit = limit
        self.lock = threading.Lock()
        self.kept: OrderedDict[int, _Kept] = OrderedDict()

    def valid(self, ids, tracker: page_changes.ChangeTracker, ttl: float) -> dict[int, EnterpriseCard]:
        """The kept cards among ``ids`` that are still what a read would give."""
        now, out = monotonic(), {}
        with self.lock:
            for i in ids:
                kept = self.kept.get(i)
                if kept is None:
                    continue
                if now - kept.kept_at < ttl and tracker.valid(kept.read_at, kept.known, (i,), lists=False):
                    out[i] = kept.card
                    self.kept.move_to_end(i)
                else:
                    del self.kept[i]
        return out

    def keep(self, cards, read_at: float, known) -> None:
        now = monotonic()
        with self.lock:
            for card in cards:
                self.kept[card.id] = _Kept(card, read_at, known, now)
                self.kept.move_to_end(card.id)
            while len(self.kept) > self.limit:
                self.kept.popitem(last=False)


# The statements every list page and search asks, built once (docs/architecture.md, "Statements
# built once").
_PUBLIC_IDS = select(Enterprise.id).where(Enterprise.id.in_(bindparam("ids", expanding=True)), enterprise_is_public())
# A search page's enterprise and shop hits in one statement (one round trip: 0.35 ms less per
# search than two, bench/README.md): shop rows with their platform, then one row per public
# enterprise hit whose first column is NULL and fourth its id. The shop rows check that their
# enterprises are public too.
_PUBLIC_HITS = union_all(
    select(Shop.id, Shop.name, Shop.shop_type, Shop.enterprise_id, Platform.id, Platform.name, Platform.slug,
           Platform.kind, Platform.description, Platform.homepage, Platform.position)
    .join(Platform, Platform.id == Shop.platform_id).join(Enterprise, Enterprise.id == Shop.enterprise_id)
    .where(Shop.id.in_(bindparam("shop_ids", expanding=True)), shop_is_public()),
    select(null(), null(), null(), Enterprise.id, *[null()] * 7)
    .where(Enterprise.id.in_(bindparam("enterprise_ids", expanding=True)), enterprise_is_public()))


def load_cards(ids) -> dict[int, EnterpriseCard]:
    """Public enterprises by id as cards; ids no longer public are left out. Kept cards are
    reused (see the module doc); the others are read with five queries whatever their number.

    Which ids are public is asked every time (one query on the primary key): a status changed
    by bulk SQL that skips the outbox must still hide the enterprise at once."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return _public_cards(db.session.scalars(_PUBLIC_IDS, {"ids": ids}).all())


def load_hits(enterprise_ids, shop_ids) -> tuple[dict[int, EnterpriseCard], dict[int, ShopHit]]:
    """A search page's public enterprises (as cards) and public shops (with their enterprises'
    cards) by id, ids no longer public left out: one statement reads which are public and the
    shops' columns (every time, as ``load_cards``), the cards come from ``_public_cards``."""
    enterprise_ids, shop_ids = sorted(set(enterprise_ids)), sorted(set(shop_ids))
    if not enterprise_ids and not shop_ids:
        return {}, {}
    rows = db.session.execute(_PUBLIC_HITS, {"enterprise_ids": enterprise_ids, "shop_ids": shop_ids}).all()
    public = [r[3] for r in rows if r[0] is None]
    shop_rows = [r for r in rows if r[0] is not None]
    cards = _public_cards(sorted(set(public).union(r[3] for r in shop_rows)))
    one = _Interner()
    shops = {r[0]: ShopHit(*r[:4], one(PlatformRow, tuple(r[4:])), cards[r[3]]) for r in shop_rows if r[3] in cards}
    return {i: cards[i] for i in public if i in cards}, shops


def _public_cards(public: list[int]) -> dict[int, EnterpriseCard]:
    """Cards of enterprises this transaction found public: kept ones, the others read."""
    ttl = float(current_app.config.get("CATALOG_CACHE_SECONDS", 60))
    if not public:
        cards = {}
    elif ttl <= 0:
        cards = _read_cards(public)
    else:
        store: CardStore = current_app.extensions.setdefault("card_store", CardStore())
        tracker = page_changes.tracker()
        tracker.poll()
        cards = store.valid(public, tracker, ttl)
        missing = [i for i in public if i not in cards]
        if missing:
            read_at, known = machine_time(), tracker.known()
            fresh = _read_cards(missing)
            store.keep(fresh.values(), read_at, known)
            cards.update(fresh)
    page_changes.note_shown(cards)
    return cards


def _read_cards(ids: list[int]) -> dict[int, EnterpriseCard]:
    """Five narrow queries: the enterprises still public, then their brands, industries, badges
    and certified shops. Equal reference rows are one object (a page's hundred shop chips name
    a dozen platforms)."""
    session = db.session
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.uscc, Enterprise.description, Enterprise.logo_sha256,
               Enterprise.certified_at, Enterprise.click_count,
               City.id, City.name, City.slug, City.region, City.code, City.position)
        .outerjoin(City, City.id == Enterprise.city_id)
        .where(Enterprise.id.in_(ids), enterprise_is_public())).all()
    ids = [r[0] for r in rows]
    one = _Interner()
    brands = _grouped(session.execute(select(Brand.enterprise_id, Brand.name)
                                      .where(Brand.enterprise_id.in_(ids)).order_by(Brand.position, Brand.id)))
    industries = _grouped(session.execute(
        select(enterprise_industry.c.enterprise_id, Industry.id, Industry.name, Industry.slug, Industry.position)
        .join(Industry).where(enterprise_industry.c.enterprise_id.in_(ids)).order_by(Industry.position)),
        lambda *cols: one(IndustryRow, cols))
    badges = _grouped(session.execute(
        select(enterprise_badge.c.enterprise_id, Badge.id, Badge.name, Badge.slug, Badge.description, Badge.position)
        .join(Badge).where(enterprise_badge.c.enterprise_id.in_(ids)).order_by(Badge.position)),
        lambda *cols: one(BadgeRow, cols))
    shops = _grouped(session.execute(
        select(Shop.enterprise_id, Shop.platform_id, Platform.id, Platform.name, Platform.slug, Platform.kind,
               Platform.description, Platform.homepage, Platform.position)
        .join(Platform, Platform.id == Shop.platform_id)
        .where(Shop.enterprise_id.in_(ids), Shop.status == Status.CERTIFIED).order_by(Shop.id)),
        lambda platform_id, *cols: one(ShopChip, (platform_id, one(PlatformRow, cols))))
    return {r[0]: EnterpriseCard(
        id=r[0], name=r[1], uscc=r[2], description=r[3], logo_sha256=r[4], certified_at=r[5],
        click_count=int(r[6] or 0), city=one(CityRow, tuple(r[7:])) if r[7] is not None else None,
        brand_names=brands.get(r[0], []), industries=industries.get(r[0], []), badges=badges.get(r[0], []),
        public_shops=shops.get(r[0], []),
    ) for r in rows}


class _Interner:
    """One object per (type, values) within one read."""

    def __init__(self):
        self.made: dict = {}

    def __call__(self, row_type, values: tuple):
        key = (row_type, values)
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = row_type(*values)
        return made


def _grouped(rows, make=None) -> dict[int, list]:
    """{enterprise id: [value, ...]} from (enterprise id, *columns) rows, in row order; the value
    is ``make(*columns)``, or the one column."""
    out: dict[int, list] = {}
    for ent_id, *columns in rows:
        out.setdefault(ent_id, []).append(make(*columns) if make else columns[0])
    return out
