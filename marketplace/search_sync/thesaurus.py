"""The search's query-time expansions for this process: staff's synonyms and the place names.

``current()`` returns the ``search_index`` Thesaurus every search passes to the engine. It is
rebuilt only when the synonym table changed, which one cheap fingerprint query tells (row count,
highest id, latest edit), so an edit made in any process or on any machine applies to the next
searches everywhere, without a rebuild of the index. The query is asked when this process has
seen a change of the lists or of everything since the last time (a synonym edit writes a
``page_all`` outbox row, ``page_changes``; the editing process sees it at its next request), and
at least every ``FINGERPRINT_SECONDS`` (edits by SQL that write no outbox row); not on every
search, where it was a sixth of a search page that missed the page cache.

Places (``services.places``) become one-way expansions onto the names documents carry:

* a city's nicknames and pinyin (羊城, 鹏城, guangzhou, and two-letter initials such as ``gz``,
  ``dg``) onto the city (广州), worth as much as the city's own name;
* a district's pinyin (``shunde``) onto the district (顺德), when no other place shares it;
* a well-known town (北滘, 虎门, 古镇) onto its district, or its city where the city has no
  districts (东莞, 中山), worth a little less: the enterprise may be elsewhere in that district.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from pypinyin import lazy_pinyin

from search_index.analysis import pinyin_variants
from search_index.thesaurus import Thesaurus, build

from .. import page_changes
from ..clock import monotonic
from ..extensions import db
from ..models import SearchSynonym, SynonymKind
from ..services.places import all_places

TOWN_WEIGHT = 0.8
PLACE_WEIGHT = 1.0

FINGERPRINT_SECONDS = 1.0


class _Built(NamedTuple):
    fingerprint: tuple
    thesaurus: Thesaurus
    lists_version: int  # the app's change tracker's when the fingerprint was last compared
    checked_at: float  # monotonic() then


def current() -> Thesaurus:
    """The thesaurus for the app's database: active synonyms plus places (kept per app)."""
    session = db.session
    tracker = page_changes.tracker()
    tracker.poll()
    version, now = tracker.lists_version, monotonic()
    got: _Built | None = current_app.extensions.get("thesaurus")
    if got is not None and got.lists_version == version and now - got.checked_at < FINGERPRINT_SECONDS:
        return got.thesaurus
    fingerprint = tuple(session.execute(select(
        func.count(SearchSynonym.id), func.max(SearchSynonym.id), func.max(SearchSynonym.updated_at))).one())
    if got is not None and got.fingerprint == fingerprint:
        th = got.thesaurus
    else:
        rules = session.execute(select(SearchSynonym.kind, SearchSynonym.terms, SearchSynonym.targets)
                                .where(SearchSynonym.active.is_(True)).order_by(SearchSynonym.id)).all()
        th = build_thesaurus((kind, _words(terms), _words(targets)) for kind, terms, targets in rules)
    current_app.extensions["thesaurus"] = _Built(fingerprint, th, version, now)
    return th


def _words(text: str | None) -> list[str]:
    return [w for w in (text or "").split(";") if w]


def build_thesaurus(rules) -> Thesaurus:
    """A thesaurus from (kind, terms, targets) synonym rules and the places table."""
    rules = list(rules)
    groups = [terms for kind, terms, _t in rules if kind == SynonymKind.GROUP]
    oneway = [(terms, targets) for kind, terms, targets in rules if kind == SynonymKind.ONEWAY]
    return build(groups, oneway, place_entries(), place_names())


@lru_cache(maxsize=1)
def place_entries() -> tuple[tuple[str, str, float, str], ...]:
    """(key, target, weight, label) for every nickname, town and pinyin of a place."""
    places = all_places()
    entries: list[tuple[str, str, float, str]] = []
    for p in places:
        if p.is_city:
            entries += [(nick, p.short_name, PLACE_WEIGHT, p.short_name) for nick in p.nicknames]
            initials = "".join(s[0] for s in lazy_pinyin(p.short_name))
            entries.append((initials, p.short_name, PLACE_WEIGHT, p.short_name))
        entries += [(town, p.short_name, TOWN_WEIGHT, p.short_name) for town in p.towns]
    # full pinyin in every reading (花都: huadu, huadou), kept only when it names one place
    owners = Counter(py for p in places for py in _readings(p.short_name))
    for p in places:
        entries += [(py, p.short_name, PLACE_WEIGHT, p.short_name) for py in _readings(p.short_name)
                    if owners[py] == 1 and (p.is_city or len(py) >= 5)]
    return tuple(entries)


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """The city and district names documents carry (佛山, 顺德区, 顺德): such a query word boosts."""
    return tuple(n for p in all_places() for n in {p.name, p.short_name} if n != "城区")


def _readings(name: str) -> list[str]:
    """A place name's pinyin as people say it (pypinyin's phrase reading first: 佛山 foshan),
    then every other reading of its characters."""
    return list(dict.fromkeys(["".join(lazy_pinyin(name)), *pinyin_variants(name)]))
