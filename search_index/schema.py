"""The index schema and the conversion of a plain document dict into Whoosh fields.

One index holds four kinds of documents, told apart by ``kind``: ``enterprise``, ``shop``,
``platform`` and ``product``. A document dict (what ``marketplace.search_sync`` builds from the database, or the
benchmark builds synthetically) looks like::

    {"kind": "enterprise", "id": 12, "name": "佛山市美的电器有限公司", "brands": ["美的", "Midea"],
     "enterprise_name": "", "description": "...", "city": "佛山", "region": "珠三角",
     "industries": ["家电"], "platforms": ["天猫"], "shop_types": ["旗舰店"],
     "badges": ["中华老字号"], "places": ["顺德区", "顺德"], "certified_at": datetime | None,
     "visits": 0}

``places`` are extra place names (the district the enterprise is registered in), searchable like
the city through the ``tags`` field. A shop or product document also carries ``enterprise_id``.

Boosts: brand (4) > name (3) > enterprise name of a shop (2) > pinyin (2) > tags (1.2) >
description (1) > sub-word bigrams (0.5); a per-document boost rewards badges modestly (x1.1 per
badge, at most x1.3).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from functools import lru_cache

from whoosh import columns
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import (
    chinese_analyzer, dictionary_word, has_cjk, hidden_bigrams, name_pinyin, normalize, pinyin_variants,
    segment, space_analyzer,
)

KINDS = ("enterprise", "shop", "platform", "product")

# Facet name -> document dict key.
FACET_FIELDS = {
    "industry": "industries",
    "city": "city",
    "region": "region",
    "platform": "platforms",
    "shop_type": "shop_types",
    "badge": "badges",
}

TEXT_BOOSTS = {
    "brand": 4.0,
    "name": 3.0,
    "ent_name": 2.0,
    "tags": 1.2,
    "description": 1.0,
}
PINYIN_BOOSTS = {"pinyin": 2.0, "initials": 1.5}
# Character bigrams hidden inside longer words: found, but below any whole-word match.
SUB_BOOST = 0.5

# The index format: bump it whenever the schema or the analysis of documents changes, so an
# index written by older code is rebuilt (``store`` reports it unavailable) instead of being
# searched with a different analysis than it was written with.
FORMAT_VERSION = 2

SEP = "\x1f"  # between facet groups in the meta column
VSEP = "\x1e"  # between values of one facet


def build_schema() -> Schema:
    """The schema every index generation is created with."""
    ana = chinese_analyzer()
    sp = space_analyzer()
    fields = {
        "key": ID(stored=True, unique=True),  # "<kind>:<id>"
        "kind": ID(stored=True),
        "db_id": STORED(),
        "name": TEXT(analyzer=ana, stored=True, phrase=True, field_boost=TEXT_BOOSTS["name"]),
        "brand": TEXT(analyzer=ana, stored=True, phrase=True, field_boost=TEXT_BOOSTS["brand"]),
        "ent_name": TEXT(analyzer=ana, phrase=False, field_boost=TEXT_BOOSTS["ent_name"]),
        "description": TEXT(analyzer=ana, stored=True, phrase=True, field_boost=TEXT_BOOSTS["description"]),
        "tags": TEXT(analyzer=ana, phrase=False, field_boost=TEXT_BOOSTS["tags"]),
        "sub": TEXT(analyzer=sp, phrase=False, field_boost=SUB_BOOST),
        "pinyin": TEXT(analyzer=sp, phrase=False, field_boost=PINYIN_BOOSTS["pinyin"]),
        "initials": TEXT(analyzer=sp, phrase=False, field_boost=PINYIN_BOOSTS["initials"]),
        # whole normalised names, for autocomplete by Chinese prefix
        "names": KEYWORD(commas=True, scorable=False),
        # "did you mean": pinyin of known words, and pinyin:word pairs
        "pykey": KEYWORD(commas=True, scorable=False),
        "pymap": KEYWORD(commas=True, scorable=False),
        # content hash of the source document (consistency check)
        "digest": STORED(),
        # sortable fields (columns only: sorting never needs them as terms)
        "certified": COLUMN(columns.NumericColumn("q", default=0)),
        "visits": COLUMN(columns.NumericColumn("q", default=0)),
        # everything faceting and sorting needs, in one column read per document
        "meta": COLUMN(columns.VarBytesColumn()),
    }
    # Facet filters and counts read the meta column (see engine._filter_and_count); the facet
    # values are also searchable words through the "tags" field.
    return Schema(**fields)


class RebuildCodec(W3Codec):
    """Whoosh's default codec minus two costs a full rebuild does not need (it is pickled into
    the segments it writes: never move or rename it).

    * ``length_stats = False``: Whoosh otherwise looks up every posting's field length while
      writing (a file-existence check per posting for fields without lengths) to record each
      block's min/max length, which only BM25 uses; our weighting (``TF_IDF``) never does.
      Field lengths themselves are still stored.
    * ``compression=0``: posting blocks are not zlib-compressed, so writing skips ~90,000
      ``compress`` calls per 10,000 documents and every search skips the matching decompress;
      the index is larger on disk."""

    length_stats = False

    def __init__(self, blocklimit=128, compression=0, inlinelimit=1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)


def doc_key(kind: str, ident: int) -> str:
    return f"{kind}:{int(ident)}"


@lru_cache(maxsize=65536)
def _clean_kw(value: str) -> str:
    return re.sub(r"[,\s]+", " ", str(value)).strip()


def _as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v not in (None, "")]


def doc_digest(doc: dict) -> str:
    """A stable content hash of a document dict (compared by the consistency check)."""
    def _default(o):
        return o.isoformat() if isinstance(o, datetime) else str(o)

    raw = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=_default)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


def encode_meta(kind: str, ident: int, facets: dict[str, list[str]], certified: int, visits: int,
                group: int = 0) -> bytes:
    parts = [kind, str(ident), str(certified), str(visits)]
    parts += [VSEP.join(facets[f]) for f in FACET_FIELDS]
    parts.append(str(group))
    return SEP.join(parts).encode("utf-8")


def decode_meta(raw: bytes):
    """(kind, id, certified, visits, {facet: tuple(values)}, ((facet, value), ...), group) from
    the meta column; ``group`` is the enterprise a document belongs to (0 for a platform)."""
    if not raw:
        return None
    parts = raw.decode("utf-8").split(SEP)
    facets = {}
    for i, f in enumerate(FACET_FIELDS):
        v = parts[4 + i] if len(parts) > 4 + i else ""
        facets[f] = tuple(v.split(VSEP)) if v else ()
    flat = tuple((f, v) for f, vals in facets.items() for v in vals)  # for one-pass counting
    group = parts[4 + len(FACET_FIELDS)] if len(parts) > 4 + len(FACET_FIELDS) else "0"
    return parts[0], int(parts[1]), int(parts[2]), int(parts[3]), facets, flat, int(group or 0)


def dictionary_words(doc: dict) -> list[str]:
    """Brand and platform names of a document that belong in the user dictionary."""
    words = []
    for name in _as_list(doc.get("brands")):
        w = dictionary_word(name)
        if w:
            words.append(w)
    if doc.get("kind") == "platform":
        w = dictionary_word(doc.get("name", ""))
        if w:
            words.append(w)
    return words


def _group(doc: dict) -> int:
    """The enterprise a document belongs to (its own id, or its shop's enterprise), 0 for a
    platform: results are spread over enterprises rather than one enterprise's shops in a row."""
    if doc["kind"] == "enterprise":
        return int(doc["id"])
    return int(doc.get("enterprise_id") or 0)


def _pinyin_terms(name: str, brands: list[str]) -> tuple[list[str], list[str]]:
    """(full pinyin, initials) of a document's own name and brands. A shop carries its own name
    and its brands in pinyin; the enterprise's legal name stays on the enterprise document."""
    full, inits = name_pinyin([name] + brands)
    # Latin brand names are searchable "as pinyin" too (midea typed in the pinyin box)
    for b in brands:
        nb = normalize(b)
        if nb and not has_cjk(nb) and re.fullmatch(r"[a-z0-9 ]+", nb):
            full.append(nb.replace(" ", ""))
    return full, inits


def _lexicon(kind: str, name: str, brands: list[str], facets: dict) -> tuple[set[str], set[str]]:
    """The did-you-mean lexicon of an enterprise or platform (shops add nothing: same answers,
    fewer postings): words people type (places, industries, brands, name words), as ``pykey``
    (their pinyin in every reading, so 崇光 chongguang finds 重光) and ``pymap`` (pinyin:word)."""
    if kind in ("shop", "product"):
        return set(), set()
    lex_words = set(facets["city"]) | set(facets["industry"]) | set(facets["platform"])
    for n in [name] + brands:
        nn = normalize(n)
        if has_cjk(nn):
            lex_words.update(w for w, _s, _e in segment(nn, "default") if len(w) >= 2 and has_cjk(w))
            if len(nn) <= 8:
                lex_words.add(nn)
        elif re.fullmatch(r"[a-z0-9]{3,}", nn or ""):
            lex_words.add(nn)
    pykeys, pymap = set(), set()
    for w in lex_words:
        w = _clean_kw(normalize(w))
        for py in (pinyin_variants(w) if has_cjk(w) else (w,)) if w else ():
            if py and re.fullmatch(r"[a-z0-9]+", py):
                pykeys.add(py)
                pymap.add(f"{py}:{w}")
    return pykeys, pymap


def _sub_words(texts) -> str:
    """The hidden bigrams of a document's texts, each once, for the ``sub`` field."""
    out: dict[str, None] = {}
    for text in texts:
        if text:
            out.update(dict.fromkeys(hidden_bigrams(normalize(text))))
    return " ".join(out)


# The fields ``derived_fields`` computes: pinyin, the lexicon and the hidden bigrams, the costly
# part of a document's fields and the part whose values depend on the segmenter's dictionary.
DERIVED_FIELDS = ("pinyin", "initials", "sub", "names", "pykey", "pymap")


def doc_facets(doc: dict) -> dict[str, list[str]]:
    facets = {f: [_clean_kw(v) for v in _as_list(doc.get(src))] for f, src in FACET_FIELDS.items()}
    return {f: [v for v in dict.fromkeys(vals) if v] for f, vals in facets.items()}


def doc_boost(facets: dict[str, list[str]]) -> float:
    """The per-document boost: badges, modestly."""
    return 1.0 + min(0.3, 0.1 * len(facets["badge"]))


def to_fields(doc: dict) -> dict:
    """Whoosh fields for a document dict (see the module docstring)."""
    facets = doc_facets(doc)
    return base_fields(doc, facets) | derived_fields(doc, facets)


def base_fields(doc: dict, facets: dict[str, list[str]]) -> dict:
    """Every field of ``to_fields`` except the ``DERIVED_FIELDS``, and the document boost
    (``facets``: ``doc_facets(doc)``)."""
    kind = doc["kind"]
    ident = int(doc["id"])
    brands = _as_list(doc.get("brands"))
    certified_at = doc.get("certified_at")
    certified = int(certified_at.timestamp()) if isinstance(certified_at, datetime) else int(certified_at or 0)
    visits = max(0, int(doc.get("visits") or 0))
    tag_values = [v for f in ("city", "region", "industry", "platform", "shop_type", "badge") for v in facets[f]]
    tag_values += [_clean_kw(p) for p in _as_list(doc.get("places"))]
    return {
        "key": doc_key(kind, ident),
        "kind": kind,
        "db_id": ident,
        "name": str(doc.get("name") or ""),
        "brand": "\n".join(brands),
        "ent_name": str(doc.get("enterprise_name") or ""),
        "description": str(doc.get("description") or ""),
        "tags": " ".join(tag_values),
        "digest": doc.get("digest") or doc_digest(doc),
        "certified": certified,
        "visits": visits,
        "meta": encode_meta(kind, ident, facets, certified, visits, _group(doc)),
        "_boost": doc_boost(facets),
    }


def derived_fields(doc: dict, facets: dict[str, list[str]]) -> dict:
    """The ``DERIVED_FIELDS`` of a document. A two-process rebuild computes them in its second
    process (``bulk``), which calls this for every document in order, as ``to_fields`` would:
    the pinyin and bigram caches then hold exactly what they would hold in one process."""
    kind = doc["kind"]
    brands = _as_list(doc.get("brands"))
    name = str(doc.get("name") or "")
    ent_name = str(doc.get("enterprise_name") or "")
    description = str(doc.get("description") or "")
    names = [name] + brands + ([ent_name] if ent_name else [])
    full, inits = _pinyin_terms(name, brands)
    pykeys, pymap = _lexicon(kind, name, brands, facets)
    return {
        "sub": _sub_words(brands + [name, ent_name, description]),
        "pinyin": " ".join(full),
        "initials": " ".join(inits),
        "names": ",".join(_clean_kw(normalize(n)).replace(" ", "") for n in names if n),
        "pykey": ",".join(sorted(pykeys)),
        "pymap": ",".join(sorted(pymap)),
    }


def searchable_text(doc: dict) -> str:
    """A document's word fields, each normalised as the analyzer reads it, and its pinyin and
    initials, one per line. Every term of those fields (and of ``sub``, their bigrams) is a
    substring of this text, so a search none of whose ``ParsedQuery.word_terms`` occurs in it
    cannot match the document: the page cache uses that to keep search pages a change of this
    listing cannot alter."""
    fields = to_fields(doc)
    lines = [normalize(fields[f]) for f in TEXT_BOOSTS] + [fields[f].lower() for f in PINYIN_BOOSTS]
    return "\n".join(lines)
