"""Turning untrusted user input into a structured query — without Whoosh's query parser.

The parser understands ``field:value``, ranges, wildcards, boosts and nesting, each of which is
an attack surface (thousands of ``(`` raise RecursionError, ``*`` expands every term). We never
call it: input is capped, stripped of control and format characters, normalised (tone marks
and accents folded, Traditional to Simplified), cut into words with rjieba, and every word
becomes a **group** of **alternatives** over plain terms. Syntax characters are just separators.

A query is an AND of groups (``电饭煲 电磁炉`` wants both), except that a group naming a place
only boosts (``佛山 瓷砖``: Foshan's tiles first, then other tiles); a group is the best of its
alternatives; an alternative is an AND of parts; a part is an OR of (field, text, weight) terms
or, for pinyin typed with spaces, a nested group. ``fastpath`` evaluates exactly this shape.

Alternatives of a group, best first:

* the words as typed, over the text fields (and, for Latin words, the pinyin and initials
  fields; for two-character Chinese words, also the sub-word bigram field, boosted lower);
* expansions from the ``thesaurus``: synonyms (雪柜 -> 冰箱) and places (羊城 -> 广州,
  gz -> 广州, 北滘 -> 顺德), each worth ``weight`` times a direct match;
* pinyin typed in pieces (``Mei Lan``, ``xing jian jia ju``): every way of joining neighbouring
  Latin words (``meilan``; ``xingjian`` + ``jiaju``);
* for a Chinese word of three or more characters, its bigrams anywhere (a fallback, used only
  when the word itself is not found);
* on a second pass when results are few, Latin words within one edit (transpositions count as
  one) of a brand, name or pinyin term (``searching`` adds these).

When no document has every group, the engine retries with any group (without sub-words and
fuzzy terms) and says the match is partial.
"""
from __future__ import annotations

import html
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from .analysis import bigrams, has_cjk, normalize, normalize_with_map, query_tokens
from .schema import TEXT_BOOSTS
from .thesaurus import Thesaurus

MAX_QUERY_CHARS = 256
MAX_TOKENS = 12
FUZZY_MIN_LEN = 4
MAX_RUN = 4  # Latin words joined into one pinyin word at most
SUB_WEIGHT = 0.5  # a long word found only through its bigrams

TEXT_FIELDS = tuple(TEXT_BOOSTS)  # brand, name, ent_name, tags, description

_LATIN_RE = re.compile(r"[a-z0-9]+")
_CJK2_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2}")


def clean_query(raw) -> str:
    """A safe query string: text only, at most 256 characters, no control/format characters,
    whitespace collapsed. Never raises."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = str(raw)[: MAX_QUERY_CHARS * 2]
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(" " if ch in "\t\n\r\x0b\x0c" else "")
        else:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()[:MAX_QUERY_CHARS]


def is_latin(token: str) -> bool:
    return bool(_LATIN_RE.fullmatch(token))


def token_terms(token: str) -> list[tuple[str, str, float]]:
    """The exact (field, text, weight) terms one word may match."""
    terms = [(f, token, 1.0) for f in TEXT_FIELDS]
    if is_latin(token):
        terms += [("pinyin", token, 1.0), ("initials", token, 1.0)]
    elif _CJK2_RE.fullmatch(token):
        terms.append(("sub", token, 1.0))
    return terms


@dataclass
class Alt:
    """One way a group may match: every part (AND), worth ``weight`` times a direct match."""

    parts: list  # each: list[(field, text, weight)] (any term) or Group
    weight: float = 1.0
    kind: str = "word"  # word | synonym | place | joined | sub | fuzzy
    label: str = ""  # for expansions: what the page tells the user
    fallback: bool = False  # only tried when the alternatives before it found nothing


@dataclass
class Group:
    """What one word (or a run of words) of the query may match: the best of ``alts``."""

    text: str
    alts: list[Alt]
    soft: bool = False  # a place: boosts its documents; required only if a page of them match (fastpath)


@dataclass
class ParsedQuery:
    """The words of a query and the groups built from them."""

    text: str
    words: list[str] = field(default_factory=list)  # user words (space separated, normalised)
    tokens: list[str] = field(default_factory=list)  # analysed tokens, deduplicated, capped
    groups: list[Group] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def latin_tokens(self) -> list[str]:
        return [t for t in self.tokens if is_latin(t)]

    @property
    def compact(self) -> str:
        """The whole query as one word (to recognise an exact name or brand)."""
        return "".join(self.words)

    def highlight_tokens(self) -> list[str]:
        """Words to mark in snippets: the typed words and the expansions' words."""
        out = list(self.tokens)
        for alt in _walk_alts(self.groups):
            if alt.kind in ("synonym", "place", "joined"):
                for part in alt.parts:
                    if isinstance(part, list) and part and part[0][1] not in out:
                        out.append(part[0][1])
        return out

    def word_terms(self) -> tuple[str, ...]:
        """Every text this query can match on: the typed words, their synonyms, places,
        sub-words, pinyin and approximate spellings. Each term reads a field whose every term is
        a substring of ``schema.searchable_text``, so a document whose text contains none of
        these cannot match (tests/test_search_text_terms.py). The page cache keeps a search page
        while a changed listing's text contains none of them (``marketplace.page_changes``)."""
        texts = {text for alt in _walk_alts(self.groups) for part in alt.parts
                 if not isinstance(part, Group) for _field, text, _weight in part}
        return tuple(sorted(texts))

    def add_fuzzy(self, lookup) -> bool:
        """Add a fuzzy alternative to every Latin word of at least FUZZY_MIN_LEN letters:
        ``lookup(word)`` returns the (field, text, weight) terms within reach. True if any was added."""
        added = False
        for group in self.groups:
            for g in _walk_groups(group):
                word = g.alts[0]
                if word.kind != "word" or len(word.parts) != 1 or not isinstance(word.parts[0], list):
                    continue
                token = word.parts[0][0][1]
                if not is_latin(token) or len(token) < FUZZY_MIN_LEN or token.isdigit():
                    continue
                terms = lookup(token)
                if terms:
                    g.alts.append(Alt(parts=[list(terms)], weight=0.5, kind="fuzzy"))
                    added = True
        return added


def _walk_groups(group: Group):
    yield group
    for alt in group.alts:
        for part in alt.parts:
            if isinstance(part, Group):
                yield from _walk_groups(part)


def _walk_alts(groups):
    for group in groups:
        for g in _walk_groups(group):
            yield from g.alts


def _expansion_alts(key: str, thesaurus: Thesaurus | None) -> list[Alt]:
    if not thesaurus:
        return []
    alts = []
    for exp in thesaurus.expansions(key):
        toks = query_tokens(exp.text)[:MAX_TOKENS]
        if toks:
            alts.append(Alt(parts=[token_terms(t) for t in toks], weight=exp.weight, kind=exp.kind,
                            label=exp.label))
    return alts


def word_group(tokens: list[str], thesaurus: Thesaurus | None) -> Group:
    """The group for one word (one or more tokens that form a thesaurus key, or one token)."""
    key = "".join(tokens)
    alts = [Alt(parts=[token_terms(t) for t in tokens])]
    alts += _expansion_alts(key, thesaurus)
    if len(tokens) == 1 and len(key) >= 3 and has_cjk(key) and not is_latin(key):
        parts = [token_terms(bg) for bg in bigrams(key)]
        alts.append(Alt(parts=parts, weight=SUB_WEIGHT, kind="sub", fallback=True))
    return Group(text=key, alts=alts)


def _compositions(n: int):
    """Every way of cutting n items into consecutive chunks, as lists of (start, end)."""
    for cuts in itertools.product((False, True), repeat=n - 1):
        bounds, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                bounds.append((start, i))
                start = i
        bounds.append((start, n))
        yield bounds


def latin_run_group(tokens: list[str], thesaurus: Thesaurus | None) -> Group:
    """Latin words typed apart (``mei lan``, ``Xing Jian``): each may be a pinyin syllable of one
    name. Alternatives: every way of joining neighbours, each chunk a word of its own."""
    alts = []
    for bounds in _compositions(len(tokens)):
        chunks = ["".join(tokens[s:e]) for s, e in bounds]
        parts = [word_group([c], thesaurus) for c in chunks]
        alts.append(Alt(parts=parts, kind="word" if len(chunks) == len(tokens) else "joined"))
    alts.sort(key=lambda a: len(a.parts))  # the fully joined reading first
    return Group(text=" ".join(tokens), alts=alts)


def _window(units, i: int, thesaurus: Thesaurus | None) -> int:
    """How many tokens from ``i`` (within one word) form the longest thesaurus key; 0 if none."""
    if not thesaurus:
        return 0
    word = units[i][1]
    best, key = 0, ""
    for n in range(1, min(4, len(units) - i) + 1):
        tok, w = units[i + n - 1]
        if w != word:
            break
        key += tok
        if len(key) > thesaurus.max_key_chars:
            break
        if thesaurus.has(key):
            best = n
    return best


def _groups(units, thesaurus: Thesaurus | None) -> list[Group]:
    groups: list[Group] = []
    seen: set[str] = set()
    i = 0
    while i < len(units) and len(groups) < MAX_TOKENS:
        n = _window(units, i, thesaurus)
        if n > 1 or (n == 1 and not is_latin(units[i][0])):
            group = word_group([t for t, _w in units[i:i + n]], thesaurus)
            i += n
        else:
            run = 1
            while i + run < len(units) and run < MAX_RUN and is_latin(units[i + run][0]) and is_latin(units[i][0]):
                run += 1
            if run > 1:
                group = latin_run_group([t for t, _w in units[i:i + run]], thesaurus)
            else:
                group = word_group([units[i][0]], thesaurus)
            i += run
        if group.text not in seen:
            seen.add(group.text)
            group.soft = bool(thesaurus) and (thesaurus.is_place(group.text) or any(
                a.kind == "place" for a in group.alts))
            groups.append(group)
    return groups


def parse(raw, thesaurus: Thesaurus | None = None) -> ParsedQuery:
    """Parse untrusted input into a ParsedQuery (with the thesaurus's expansions); never raises."""
    text = clean_query(raw)
    norm = normalize(text)
    # syntax characters are separators, nothing more
    words = [w for w in re.split(r"[^\w]+", norm) if w][:MAX_TOKENS]
    units: list[tuple[str, int]] = []
    tokens: list[str] = []
    for wi, w in enumerate(words):
        for t in query_tokens(w):
            units.append((t, wi))
            if t not in tokens:
                tokens.append(t)
    units = units[: MAX_TOKENS * 2]
    return ParsedQuery(text=text, words=words, tokens=tokens[:MAX_TOKENS], groups=_groups(units, thesaurus))


# ---------------------------------------------------------------- highlighting


def highlight(text: str, tokens, maxlen: int = 120, before: int = 24) -> str | None:
    """An HTML snippet of ``text`` around the first match of ``tokens``, matches in ``<mark>``.

    Matches are found in the normalised text (so 岩板 is marked inside 大板岩板, which the
    segmenter cuts 大/板岩/板; Latin words only as whole words) and mapped back to the original
    characters. Every piece of the original text is HTML-escaped here, so the result can be
    inserted as markup. Returns None when no token occurs in ``text``."""
    if not text or not tokens:
        return None
    spans = _spans(text, tokens)
    if not spans:
        return None
    spans.sort()
    merged = [spans[0]]
    for s, e in spans[1:]:
        if s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    start = max(0, merged[0][0] - before)
    end = min(len(text), start + maxlen)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in merged:
        if s >= end:
            break
        if s < pos:
            continue
        out.append(html.escape(text[pos:s], quote=False))
        out.append("<mark>" + html.escape(text[s:min(e, end)], quote=False) + "</mark>")
        pos = min(e, end)
    out.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        out.append("…")
    return "".join(out)


def _spans(text: str, tokens) -> list[list[int]]:
    """[start, end) character ranges of ``text`` where any token occurs."""
    norm, idx = normalize_with_map(text)
    found: list[list[int]] = []
    for tok in set(tokens):
        if not tok:
            continue
        if is_latin(tok):
            pattern = r"(?<![a-z0-9])" + re.escape(tok) + r"(?![a-z0-9])"
            hits = [(m.start(), m.end()) for m in re.finditer(pattern, norm)]
        else:
            hits, at = [], norm.find(tok)
            while at >= 0:
                hits.append((at, at + len(tok)))
                at = norm.find(tok, at + 1)
        for s, e in hits:
            found.append([s, e] if idx is None else [idx[s], idx[e - 1] + 1])
    return found


def is_chinese(word: str) -> bool:
    return has_cjk(word)
