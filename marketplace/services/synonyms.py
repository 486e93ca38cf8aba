"""Search synonyms: the curated list shipped in ``data/synonyms.csv`` and staff edits.

Two shapes, as in Elasticsearch synonym sets and Algolia's synonyms: a two-way **group**
(冰箱, 雪柜 — each word finds the others) and a **one-way** rule (水果 => 荔枝, 龙眼 — 水果 also
finds 荔枝, not the other way round). The search applies them to each query when it is parsed
(``search_sync.thesaurus``), so an edit takes effect on the next search without a rebuild.

* ``seed_synonyms`` adds the shipped rows that are missing (matched by their ``key``; run by
  ``flask init-db`` and the first start). A row staff switched off stays off; an edited shipped
  row is not overwritten.
* ``create`` / ``update`` / ``set_active`` are what the staff console calls; each writes an
  audit entry with the rule before and after. Rows are switched off, never deleted.

The shipped list's ``source`` column names where each entry comes from (Cantonese
dictionaries, the 现代汉语词典, the national industry classification); see README.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Select, or_, select

from ..clock import utc_now
from ..extensions import db
from ..models import SearchSynonym, SynonymCategory, SynonymKind
from ..models.synonym import SEP
from . import ServiceError
from .audit import record

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "synonyms.csv"
MAX_TERMS = 30
MAX_TERM_CHARS = 20
MAX_NOTE_CHARS = 300
_SPLIT_RE = re.compile(r"[,，、;；/|\s]+")


class SynonymError(ServiceError):
    """A synonym rule a staff member entered is not valid (message in Chinese)."""


@dataclass(frozen=True)
class SeedRule:
    """One row of the shipped list."""

    key: str
    kind: str
    category: str
    terms: tuple[str, ...]
    targets: tuple[str, ...]
    source: str


@lru_cache(maxsize=1)
def seed_rules() -> tuple[SeedRule, ...]:
    """The shipped list (``data/synonyms.csv``)."""
    with open(SEED_FILE, encoding="utf-8") as fh:
        return tuple(SeedRule(key=r["key"], kind=r["kind"], category=r["category"],
                              terms=tuple(parse_terms(r["terms"])), targets=tuple(parse_terms(r["targets"])),
                              source=r["source"]) for r in csv.DictReader(fh))


def seed_synonyms() -> int:
    """Add the shipped rules not in the table yet (by key); returns how many were added."""
    have = set(db.session.scalars(select(SearchSynonym.seed_key).where(SearchSynonym.seed_key.is_not(None))))
    added = 0
    now = utc_now()
    for rule in seed_rules():
        if rule.key in have:
            continue
        db.session.add(SearchSynonym(kind=rule.kind, terms=SEP.join(rule.terms), targets=SEP.join(rule.targets),
                                     category=rule.category, note=rule.source, seed_key=rule.key,
                                     created_at=now, updated_at=now))
        added += 1
    db.session.flush()
    return added


def parse_terms(text: str | None) -> list[str]:
    """Words from one input line: separated by commas, 、, semicolons, slashes or spaces; each
    once (compared without case and width), in the order given."""
    out: list[str] = []
    seen: set[str] = set()
    for word in _SPLIT_RE.split(text or ""):
        word = word.strip()
        key = _compare_key(word)
        if key and key not in seen:
            seen.add(key)
            out.append(word)
    return out


def _compare_key(word: str) -> str:
    return unicodedata.normalize("NFKC", word).lower().strip()


def _check_words(words: list[str], what: str) -> None:
    if len(words) > MAX_TERMS:
        raise SynonymError(f"{what}最多 {MAX_TERMS} 个词。")
    for w in words:
        if len(w) > MAX_TERM_CHARS:
            raise SynonymError(f"“{w[:30]}”太长：每个词不超过 {MAX_TERM_CHARS} 个字。")
        if not any(c.isalnum() for c in w):
            raise SynonymError(f"“{w}”不是有效的词：请使用汉字、字母或数字。")


def clean_rule(kind: str, terms_text: str, targets_text: str, category: str, note: str) -> dict:
    """Validated fields of a rule from the console's form; raises SynonymError (Chinese)."""
    if kind not in SynonymKind.LABELS:
        raise SynonymError("请选择规则类型：同义词组或单向扩展。")
    if category not in SynonymCategory.ALL:
        raise SynonymError("请选择分类。")
    terms = parse_terms(terms_text)
    targets = parse_terms(targets_text) if kind == SynonymKind.ONEWAY else []
    _check_words(terms, "词语")
    _check_words(targets, "扩展词")
    if kind == SynonymKind.GROUP and len(terms) < 2:
        raise SynonymError("同义词组至少需要两个不同的词（用逗号或空格分隔）。")
    if kind == SynonymKind.ONEWAY:
        if not terms:
            raise SynonymError("请填写输入词：用户搜索的词。")
        if not targets:
            raise SynonymError("请填写扩展词：搜索输入词时同时查找的词。")
        both = {_compare_key(t) for t in terms} & {_compare_key(t) for t in targets}
        if both:
            raise SynonymError(f"输入词和扩展词不能相同：“{sorted(both)[0]}”。")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise SynonymError(f"来源或备注不超过 {MAX_NOTE_CHARS} 字。")
    return {"kind": kind, "terms": terms, "targets": targets, "category": category, "note": note}


def _stored(fields: dict) -> dict:
    """Form fields as the model stores them (word lists as ``;``-separated text)."""
    return {**fields, "terms": SEP.join(fields["terms"]), "targets": SEP.join(fields["targets"])}


def _signature(kind: str, terms, targets) -> tuple:
    return kind, frozenset(map(_compare_key, terms)), frozenset(map(_compare_key, targets))


def _check_duplicate(fields: dict, exclude_id: int | None = None) -> None:
    """Refuse a rule identical to another switched-on rule (same kind and the same words)."""
    sig = _signature(fields["kind"], fields["terms"], fields["targets"])
    for other in db.session.scalars(select(SearchSynonym).where(
            SearchSynonym.active.is_(True), SearchSynonym.kind == fields["kind"])):
        if other.id != exclude_id and _signature(other.kind, other.term_list, other.target_list) == sig:
            raise SynonymError(f"已有相同的规则（#{other.id}），无需重复添加。")


def get(syn_id: int) -> SearchSynonym:
    syn = db.session.get(SearchSynonym, syn_id)
    if syn is None:
        raise SynonymError("没有这条同义词规则。")
    return syn


def create(actor, kind: str, terms: str, targets: str, category: str, note: str) -> SearchSynonym:
    """Add a rule (switched on) and audit it."""
    fields = clean_rule(kind, terms, targets, category, note)
    _check_duplicate(fields)
    now = utc_now()
    syn = SearchSynonym(**_stored(fields), active=True, created_at=now, updated_at=now,
                        updated_by_id=getattr(actor, "id", None))
    db.session.add(syn)
    db.session.flush()
    record("synonym.create", actor=actor, entity_kind="synonym", entity_id=syn.id, after=syn.snapshot())
    return syn


def update(syn_id: int, actor, kind: str, terms: str, targets: str, category: str, note: str) -> SearchSynonym:
    """Change a rule's words, kind, category or note and audit before/after."""
    syn = get(syn_id)
    fields = clean_rule(kind, terms, targets, category, note)
    if syn.active:
        _check_duplicate(fields, exclude_id=syn.id)
    before = syn.snapshot()
    for name, value in _stored(fields).items():
        setattr(syn, name, value)
    if syn.snapshot() == before:
        return syn
    syn.updated_at = utc_now()
    syn.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record("synonym.update", actor=actor, entity_kind="synonym", entity_id=syn.id, before=before,
           after=syn.snapshot())
    return syn


def set_active(syn_id: int, active: bool, actor) -> SearchSynonym:
    """Switch a rule on or off (the search stops or starts using it at once) and audit it."""
    syn = get(syn_id)
    if bool(syn.active) == bool(active):
        return syn
    if active:
        _check_duplicate({"kind": syn.kind, "terms": syn.term_list, "targets": syn.target_list}, syn.id)
    before = syn.snapshot()
    syn.active = bool(active)
    syn.updated_at = utc_now()
    syn.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record("synonym.enable" if active else "synonym.disable", actor=actor, entity_kind="synonym",
           entity_id=syn.id, before=before, after=syn.snapshot())
    return syn


def list_query(q: str = "", kind: str = "", category: str = "", state: str = "active") -> Select:
    """Rules for the console, newest change first; ``q`` matches a word or the note."""
    stmt = select(SearchSynonym)
    if state in ("active", "inactive"):
        stmt = stmt.where(SearchSynonym.active.is_(state == "active"))
    if kind in SynonymKind.LABELS:
        stmt = stmt.where(SearchSynonym.kind == kind)
    if category in SynonymCategory.ALL:
        stmt = stmt.where(SearchSynonym.category == category)
    q = (q or "").strip()[:20]
    if q:
        stmt = stmt.where(or_(SearchSynonym.terms.contains(q, autoescape=True),
                              SearchSynonym.targets.contains(q, autoescape=True),
                              SearchSynonym.note.contains(q, autoescape=True)))
    return stmt.order_by(SearchSynonym.updated_at.desc(), SearchSynonym.id.desc())
