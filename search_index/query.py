"""Turning untrusted user input into Whoosh queries — without Whoosh's query parser.

The parser understands ``field:value``, ranges, wildcards, boosts and nesting, each of which is
an attack surface (thousands of ``(`` raise RecursionError, ``*`` expands every term). We never
call it: input is capped, stripped of control and format characters, normalised, cut into words
with rjieba, and every word becomes a disjunction of plain ``Term`` queries over the public text
fields. Syntax characters are just separators.

Relevance rules expressed here:

* a word must match somewhere (AND across words: ``佛山 瓷砖`` wants both); when nothing has
  every word, the engine retries with OR and says the match is partial;
* field boosts in ``schema`` make a brand or name match outrank a description match;
* Latin words also match the pinyin and initials fields (``meidi``, ``md``) and, on a second
  pass when results are few, fuzzy terms (edit distance 1) on names and brands.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

from whoosh.query import And, FuzzyTerm, Or, Query, Term

from .analysis import JiebaTokenizer, has_cjk, normalize, query_tokens
from .schema import TEXT_BOOSTS

MAX_QUERY_CHARS = 256
MAX_TOKENS = 12
FUZZY_MIN_LEN = 4

TEXT_FIELDS = tuple(TEXT_BOOSTS)  # brand, name, ent_name, tags, description


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


@dataclass
class ParsedQuery:
    """The words of a query and the Whoosh queries built from them."""

    text: str
    words: list[str] = field(default_factory=list)  # user words (space separated, normalised)
    tokens: list[str] = field(default_factory=list)  # analysed tokens, deduplicated, capped

    @property
    def empty(self) -> bool:
        return not self.tokens

    @property
    def latin_tokens(self) -> list[str]:
        return [t for t in self.tokens if re.fullmatch(r"[a-z0-9]+", t)]

    def token_terms(self, token: str) -> list[tuple[str, str]]:
        """The exact (field, text) terms one token may match (the non-fuzzy part of ``clause``)."""
        terms = [(f, token) for f in TEXT_FIELDS]
        if re.fullmatch(r"[a-z0-9]+", token):
            terms += [("pinyin", token), ("initials", token)]
        return terms

    def clause(self, token: str, fuzzy: bool = False) -> Query:
        """All the ways one token may match a document."""
        subs: list[Query] = [Term(f, t) for f, t in self.token_terms(token)]
        if re.fullmatch(r"[a-z0-9]+", token):
            if fuzzy and len(token) >= FUZZY_MIN_LEN and not token.isdigit():
                for f in ("brand", "name"):
                    subs.append(FuzzyTerm(f, token, boost=0.5, maxdist=1, prefixlength=1))
                subs.append(FuzzyTerm("pinyin", token, boost=0.4, maxdist=1, prefixlength=2))
        return Or(subs)

    def build(self, mode: str = "and", fuzzy: bool = False) -> Query | None:
        """The query over all tokens: every token required (``and``) or any (``or``)."""
        if not self.tokens:
            return None
        clauses = [self.clause(t, fuzzy) for t in self.tokens]
        if len(clauses) == 1:
            return clauses[0]
        if mode == "and":
            return And(clauses)
        # any word, but documents with more of them score higher
        return Or(clauses)


def parse(raw) -> ParsedQuery:
    """Parse untrusted input into a ParsedQuery; never raises."""
    text = clean_query(raw)
    norm = normalize(text)
    # syntax characters are separators, nothing more
    words = [w for w in re.split(r"[^\w]+", norm) if w][:MAX_TOKENS]
    tokens: list[str] = []
    for w in words:
        for t in query_tokens(w):
            if t not in tokens:
                tokens.append(t)
    return ParsedQuery(text=text, words=words, tokens=tokens[:MAX_TOKENS])


# ---------------------------------------------------------------- highlighting

_HL_TOKENIZER = JiebaTokenizer("search")


def highlight(text: str, tokens, maxlen: int = 120, before: int = 24) -> str | None:
    """An HTML snippet of ``text`` around the first match of ``tokens``, matches in ``<mark>``.

    Every piece of the original text is HTML-escaped here, so the result can be inserted as
    markup. Returns None when no token occurs in ``text``."""
    if not text or not tokens:
        return None
    wanted = set(tokens)
    spans: list[list[int]] = []
    for tok in _HL_TOKENIZER(text, chars=True):
        if tok.text in wanted:
            spans.append([tok.startchar, tok.endchar])
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


def is_chinese(word: str) -> bool:
    return has_cjk(word)
