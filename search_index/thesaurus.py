"""Query-time expansions: synonyms and place names (no Flask, no database).

Modelled on Elasticsearch synonym sets and Algolia's synonyms:

* a **two-way group** (``冰箱, 雪柜, 雪櫃``) makes every word in it stand for all the others;
* a **one-way rule** (``水果 => 荔枝, 龙眼, 菠萝``) expands the words on the left only: a search
  for 水果 also finds 荔枝, a search for 荔枝 does not find every fruit;
* a **place** entry is a one-way rule onto the place's name as documents spell it (the nickname
  ``羊城`` onto ``广州``, the town ``北滘`` onto its district ``顺德``, ``gz`` onto ``广州``).
  A query word that names a place (those, or a city or district name itself) *boosts* the
  documents there: ``羊城 凉茶`` lists Guangzhou's 凉茶 first, then the others.

Expansions are applied when a query is parsed, never when documents are indexed, so editing
them needs no rebuild. The query keeps the words the user typed as the best-scoring
alternative; an expansion scores ``weight`` times as much (synonyms slightly below the word
itself, a town's district lower still), so exact matches stay on top.

Keys and targets are normalised with ``analysis.normalize`` (Traditional -> Simplified, lower
case, full-width -> half-width) and written without spaces, the form ``query`` looks them up in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .analysis import normalize

SYNONYM_WEIGHT = 0.9
MAX_KEY_CHARS = 20
MAX_EXPANSIONS = 24  # per key: a one-way category rule names at most this many words


@dataclass(frozen=True)
class Expansion:
    """One alternative for a key: the text to search instead, how much a match on it is worth
    relative to the word itself, and what to tell the user (``kind`` is ``synonym`` or ``place``)."""

    text: str
    weight: float
    kind: str = "synonym"
    label: str = ""


def compact(text: str) -> str:
    """The lookup form of a word: normalised, without whitespace."""
    return re.sub(r"\s+", "", normalize(text or ""))


class Thesaurus:
    """Expansions by key. Build with ``add_group`` / ``add_rule`` / ``add_place``; read with
    ``expansions``. Immutable in use: build a new one when the source data changes."""

    def __init__(self) -> None:
        self._map: dict[str, dict[str, Expansion]] = {}
        self._places: set[str] = set()
        self.max_key_chars = 0

    def __bool__(self) -> bool:
        return bool(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def _add(self, key: str, exp: Expansion) -> None:
        key = compact(key)
        text = compact(exp.text)
        if not key or not text or key == text or len(key) > MAX_KEY_CHARS:
            return
        slot = self._map.setdefault(key, {})
        old = slot.get(text)
        if (old is None and len(slot) < MAX_EXPANSIONS) or (old is not None and exp.weight > old.weight):
            slot[text] = Expansion(text, exp.weight, exp.kind, exp.label or exp.text)
        self.max_key_chars = max(self.max_key_chars, len(key))

    def add_group(self, words: Sequence[str], weight: float = SYNONYM_WEIGHT) -> None:
        """A two-way group: each word expands to every other word."""
        for key in words:
            for other in words:
                self._add(key, Expansion(other, weight, "synonym"))

    def add_rule(self, inputs: Sequence[str], outputs: Sequence[str], weight: float = SYNONYM_WEIGHT) -> None:
        """A one-way rule: each input expands to every output (not the other way round)."""
        for key in inputs:
            for out in outputs:
                self._add(key, Expansion(out, weight, "synonym"))

    def add_place(self, key: str, target: str, weight: float, label: str = "") -> None:
        """A place name typed by people (nickname, town, pinyin) onto the name documents use."""
        self._add(key, Expansion(target, weight, "place", label or target))

    def add_place_name(self, name: str) -> None:
        """A name documents carry for a place (佛山, 顺德区): a query word naming a place boosts
        the documents there instead of excluding every other document."""
        key = compact(name)
        if key and len(key) <= MAX_KEY_CHARS:
            self._places.add(key)
            self.max_key_chars = max(self.max_key_chars, len(key))

    def is_place(self, key: str) -> bool:
        """Whether an already compact key names a place (a place name, or a key with a place
        expansion such as 羊城 or gz)."""
        return key in self._places or any(e.kind == "place" for e in self._map.get(key, {}).values())

    def expansions(self, key: str) -> list[Expansion]:
        """The expansions of an already compact key (empty when it has none)."""
        slot = self._map.get(key)
        return list(slot.values()) if slot else []

    def has(self, key: str) -> bool:
        return key in self._map or key in self._places


def build(groups: Iterable[Sequence[str]] = (), rules: Iterable[tuple[Sequence[str], Sequence[str]]] = (),
          places: Iterable[tuple[str, str, float, str]] = (), place_names: Iterable[str] = ()) -> Thesaurus:
    """A thesaurus from two-way groups, one-way (inputs, outputs) rules,
    (key, target, weight, label) place entries and the place names documents carry."""
    th = Thesaurus()
    for name in place_names:
        th.add_place_name(name)
    for words in groups:
        th.add_group(list(words))
    for inputs, outputs in rules:
        th.add_rule(list(inputs), list(outputs))
    for key, target, weight, label in places:
        th.add_place(key, target, weight, label)
    return th
