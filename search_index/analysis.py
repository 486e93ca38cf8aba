"""Text analysis for Chinese directory search.

* ``normalize`` – the one normalisation used for documents AND queries: drop Unicode format
  characters (category Cf: zero-width spaces, bidi overrides ...) and control characters, NFKC
  (full-width ``ＭＩＤＥＡ`` -> ``MIDEA``), Latin accents and pinyin tone marks folded
  (``Měidì`` -> ``meidi``), Traditional -> Simplified (OpenCC ``t2s``), lower case.
* ``JiebaTokenizer`` – a Whoosh tokenizer over rjieba. Positions are numbered in emission order
  (jieba's own ``ChineseAnalyzer`` uses character offsets as positions, which breaks phrase
  queries); ``startchar``/``endchar`` point into the ORIGINAL text so highlights line up even
  when normalisation changed lengths. Its import path is pickled into the index: never move it.
* ``add_user_words`` / ``load_user_dictionary`` – brand and platform names are added to
  rjieba's dictionary so a brand stays one token (``岭南风`` instead of ``岭南`` + ``风``).
* ``hidden_bigrams`` – the character bigrams of Chinese text that segmentation did not emit as
  words (``大板岩板`` is segmented 大/板岩/板: ``岩板`` is hidden), indexed in a sub-word field
  so a word inside a longer compound is still found, below whole-word matches.
* ``pinyin_variants`` / ``initials_variants`` – every reading of polyphonic characters
  (美的 -> ``meidi``, ``meide``; initials ``md``), so people can type what they say.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import unicodedata
from functools import lru_cache

import opencc
import rjieba
from pypinyin import Style, lazy_pinyin, pinyin
from whoosh.analysis import Composable, Token, Tokenizer

_T2S = opencc.OpenCC("t2s")
_T2S_LOCK = threading.Lock()

# Single characters that carry no meaning on their own in a directory listing.
STOP_CHARS = frozenset("的了和与及是在有为之其或等")

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _is_dropped(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat == "Cf" or cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n\r"


@lru_cache(maxsize=4096)
def _t2s(text: str) -> str:
    with _T2S_LOCK:  # the OpenCC binding is not documented as thread-safe
        return _T2S.convert(text)


# Characters the fast path leaves alone: printable ASCII, Latin-1 symbols (not its accented
# letters, which are folded), CJK punctuation and the common CJK block.
_SLOW_RE = re.compile(r"[^\u0020-\u007e\u00a0-\u00bf\u3001-\u3011\u4e00-\u9fff]")


# Full-width ASCII (！ to ～) and the ideographic space: NFKC maps each to one half-width character.
_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=4096)
def _fold_latin(ch: str) -> str:
    """A Latin letter without its accent or tone mark (``ǎ`` -> ``a``, ``ü`` -> ``u``), so pinyin
    typed with tone marks meets the plain pinyin in the index; any other character unchanged."""
    if ch.isascii() or not ch.isalpha():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 and base.isascii() else ch


def normalize_with_map(text: str) -> tuple[str, list[int] | None]:
    """Normalise ``text`` and return it with, for every output character, its index in ``text``
    (None when the two line up one to one, the common case).

    The map lets tokenizers report offsets into the original text (for highlighting)."""
    fast = text if not _SLOW_RE.search(text) else text.translate(_FULL_TO_HALF)
    if fast is text or not _SLOW_RE.search(fast):
        if unicodedata.is_normalized("NFKC", fast):
            # fast path: printable ASCII/Latin-1 and common CJK only (full-width ASCII such as
            # （ turned half-width one for one); nothing to drop or fold
            converted = _t2s(fast) if _CJK_RE.search(fast) else fast
            if len(converted) == len(text):
                lowered = converted.lower()
                if len(lowered) == len(text):
                    return lowered, None
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        if _is_dropped(ch):
            continue
        if ch.isascii():
            out.append(ch)
            idx.append(i)
            continue
        norm = unicodedata.normalize("NFKC", ch)
        for c in norm:
            if not _is_dropped(c):
                out.append(_fold_latin(c))
                idx.append(i)
    joined = "".join(out)
    converted = _t2s(joined) if _CJK_RE.search(joined) else joined
    if len(converted) != len(joined):  # phrase-level conversion changed length: go per character
        converted = "".join(_t2s(c) if _CJK_RE.match(c) else c for c in joined)
        if len(converted) != len(joined):
            converted = joined
    lowered = converted.lower()
    if len(lowered) != len(converted):  # e.g. "İ".lower() has two characters
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in converted)
    return lowered, idx


@lru_cache(maxsize=65536)
def _normalize_cached(text: str) -> str:
    return normalize_with_map(text)[0]


def normalize(text: str) -> str:
    """The normalised form of ``text`` used on both the indexing and the query side."""
    if not text:
        return ""
    if len(text) <= 64:  # names, brands, places repeat a lot
        return _normalize_cached(text)
    return normalize_with_map(text)[0]


def has_cjk(text: str) -> bool:
    """True when ``text`` contains a CJK ideograph."""
    return bool(_CJK_RE.search(text))


def _keep(token: str) -> bool:
    if not any(c.isalnum() for c in token):
        return False
    return not (len(token) == 1 and token in STOP_CHARS)


def segment(text: str, mode: str = "search") -> list[tuple[str, int, int]]:
    """Tokens of already normalised ``text`` as (word, start, end) character offsets.

    ``mode="search"`` (documents) emits a long word and its dictionary sub-words; ``"default"``
    (queries) emits the precise, non-overlapping segmentation."""
    if not text:
        return []
    return [t for t in rjieba.tokenize(text, mode=mode) if _keep(t[0])]


def query_tokens(text: str) -> list[str]:
    """Precise tokens of a raw query string (normalised here), stop characters removed unless
    that would leave nothing."""
    norm = normalize(text)
    toks = [t for t, _s, _e in rjieba.tokenize(norm, mode="default") if any(c.isalnum() for c in t)]
    kept = [t for t in toks if not (len(t) == 1 and t in STOP_CHARS)]
    return kept or toks


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer: normalise, segment with rjieba in search mode, number positions in order.

    Search mode indexes both ``集团股份`` and ``集团`` / ``股份``, so a query for either finds the
    document; positions increase by one per emitted token."""

    def __init__(self, mode: str = "search"):
        self.mode = mode

    def __eq__(self, other):
        return isinstance(other, JiebaTokenizer) and other.mode == self.mode

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        norm, idx = normalize_with_map(value or "")
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = norm
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value or "")
            yield t
            return
        pos = start_pos
        for word, s, e in segment(norm, self.mode):
            t.text = word
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                if idx is None:
                    t.startchar, t.endchar = start_char + s, start_char + e
                else:
                    t.startchar = start_char + idx[s]
                    t.endchar = start_char + idx[e - 1] + 1
            yield t


class SpaceTokenizer(Tokenizer):
    """Splits pre-computed pinyin strings on whitespace (they are already lower case ASCII)."""

    def __eq__(self, other):
        return isinstance(other, SpaceTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, m in enumerate(re.finditer(r"\S+", value or "")):
            t.text = m.group().lower()
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + m.start()
                t.endchar = start_char + m.end()
            yield t


_CJK_RUN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")


def hidden_bigrams(norm: str) -> list[str]:
    """See ``_hidden_bigrams``; short texts (names, brands: repeated on every shop) are cached."""
    if len(norm) <= 64:
        return list(_hidden_bigrams_cached(norm))
    return _hidden_bigrams(norm)


@lru_cache(maxsize=65536)
def _hidden_bigrams_cached(norm: str) -> tuple[str, ...]:
    return tuple(_hidden_bigrams(norm))


def _hidden_bigrams(norm: str, mode: str = "search") -> list[str]:
    """Character bigrams of the Chinese runs in already normalised ``norm`` that the segmenter
    did not emit as two-character words at that place, each once.

    Together with the word tokens they cover every bigram of the text, so a two-character query
    word finds ``岩板`` inside ``大板岩板`` (segmented 大/板岩/板) through this field, while the
    common case (the word was emitted) costs nothing extra in the index."""
    runs = list(_CJK_RUN_RE.finditer(norm))
    if not runs:
        return []
    emitted = {(s, e) for _w, s, e in rjieba.tokenize(norm, mode=mode) if e - s == 2}
    out: dict[str, None] = {}
    for m in runs:
        for k in range(m.start(), m.end() - 1):
            if (k, k + 2) not in emitted:
                out[norm[k:k + 2]] = None
    return list(out)


def bigrams(word: str) -> list[str]:
    """The overlapping character bigrams of a Chinese word (``抛釉瓷砖`` -> 抛釉, 釉瓷, 瓷砖)."""
    return [word[k:k + 2] for k in range(len(word) - 1)]


def chinese_analyzer() -> Composable:
    """The analyzer for Chinese text fields (documents); queries are built from ``query_tokens``."""
    return JiebaTokenizer("search")


def space_analyzer() -> Composable:
    return SpaceTokenizer()


# ---------------------------------------------------------------- user dictionary

_dict_lock = threading.Lock()
_loaded_words: set[str] = set()
_dict_state: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) already loaded


def dictionary_word(name: str) -> str | None:
    """The normalised form of a brand/platform name worth adding to the dictionary, or None."""
    word = normalize(name).strip()
    if len(word) < 2 or len(word) > 20 or not has_cjk(word) or re.search(r"\s", word):
        return None
    return word


def add_user_words(words) -> list[str]:
    """Add words to rjieba's process-wide dictionary; returns the ones that were new."""
    new = []
    with _dict_lock:
        for w in words:
            if w and w not in _loaded_words:
                _loaded_words.add(w)
                if not rjieba.has_word(w):
                    rjieba.add_word(w, None, None)
                new.append(w)
    return new


def load_user_dictionary(path: str) -> int:
    """Load (or re-load when it grew) a dictionary file of one word per line; returns words added.

    Every process that analyses text or queries calls this when it opens the index, so all
    processes segment the same way as the writer did."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return 0
    key = (st.st_size, st.st_mtime_ns)
    if _dict_state.get(path) == key:
        return 0
    with open(path, encoding="utf-8") as fh:
        words = [line.strip() for line in fh if line.strip()]
    _dict_state[path] = key
    return len(add_user_words(words))


def append_user_dictionary(path: str, words) -> list[str]:
    """Append new words to a dictionary file (the caller holds the index write lock); returns
    the words the segmenter of this process learnt, in the order it learnt them (empty: it
    segments as before). The order matters: a word's frequency is suggested from the
    dictionary as it stands, so another process learning the same words in the same order
    (``bulk.Deriver``) segments the same way."""
    existing: set[str] = set()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            existing = {line.strip() for line in fh}
    words = [w for w in dict.fromkeys(words) if w]
    new = [w for w in words if w not in existing]
    if new:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(w + "\n" for w in new))
            fh.flush()
            os.fsync(fh.fileno())
    # every word, not only the ones new to the file: another process may have written a word
    # this process has not loaded yet, and this process is about to analyse text with it
    return add_user_words(existing | set(words))


# ---------------------------------------------------------------- pinyin

MAX_VARIANTS = 8


@lru_cache(maxsize=None)
def _char_readings(ch: str, style: Style) -> tuple[str, ...]:
    """Every reading of one character (at most 3), lower case ASCII; the character itself for
    non-Chinese characters."""
    if not _CJK_RE.match(ch):
        return (ch.lower(),) if ch.isalnum() and ch.isascii() else ("",)
    parts = pinyin(ch, style=style, heteronym=True, errors=lambda s: [s.lower()])
    opts = [x.lower() for x in dict.fromkeys(parts[0] if parts else []) if x]
    opts = [x for x in opts if re.fullmatch(r"[a-z0-9]+", x)][:3]
    # pypinyin spells ü as v (绿 lv); people also type u (and tone-marked ǜ folds to u)
    opts += [x.replace("v", "u") for x in opts if "v" in x and x.replace("v", "u") not in opts]
    return tuple(opts[:4]) or ("",)


@lru_cache(maxsize=65536)
def _readings(word: str, style: Style) -> tuple[str, ...]:
    """Every concatenation of the readings of ``word`` (capped), common readings first."""
    choices = [_char_readings(c, style) for c in word if not c.isspace()]
    out = []
    for combo in itertools.product(*choices):
        s = "".join(combo)
        if s and s not in out:
            out.append(s)
        if len(out) >= MAX_VARIANTS:
            break
    return tuple(out)


@lru_cache(maxsize=65536)
def default_pinyin(word: str) -> str:
    """The most common full pinyin of ``word``, syllables joined (广州 -> guangzhou)."""
    return "".join(_char_readings(c, Style.NORMAL)[0] for c in normalize(word) if not c.isspace())


def pinyin_variants(word: str) -> tuple[str, ...]:
    """Full pinyin of ``word`` in every reading (美的 -> meide, meidi)."""
    return _readings(word, Style.NORMAL)


def initials_variants(word: str) -> tuple[str, ...]:
    """Initials of ``word`` in every reading (美的 -> md)."""
    return _readings(word, Style.FIRST_LETTER)


@lru_cache(maxsize=65536)
def _spoken_word(word: str) -> str:
    return "".join(lazy_pinyin(word)).lower()


def spoken_pinyin(text: str) -> str:
    """The pinyin of ``text`` as people say it: pypinyin's phrase-aware reading, word by word
    (words are cached: names share most of their words)."""
    return "".join(_spoken_word(w) for w in rjieba.cut(text))


def name_pinyin(names) -> tuple[list[str], list[str]]:
    """Pinyin (full, initials) tokens for a list of names: the whole name and each word in it.

    The reading people say (pypinyin's phrase-aware one) is listed twice, so it outweighs the
    rare readings of polyphonic characters (溪岸家 can also be read qiangu, which is 芊谷)."""
    full, inits = _name_pinyin(tuple(names))
    return list(full), list(inits)


@lru_cache(maxsize=16384)
def _name_pinyin(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    full: list[str] = []
    inits: list[str] = []
    spoken: list[str] = []
    for name in names:
        f, i, s = _one_name_pinyin(name)
        full.extend(f)
        inits.extend(i)
        spoken.extend(s)
    return list(dict.fromkeys(full)) + list(dict.fromkeys(spoken)), list(dict.fromkeys(inits))


@lru_cache(maxsize=65536)
def _one_name_pinyin(name: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(full, initials, spoken) pinyin pieces of one name, before de-duplication: cached per
    name, since a shop repeats its enterprise's brands (a rebuild's largest pinyin cost)."""
    full: list[str] = []
    inits: list[str] = []
    spoken: list[str] = []
    norm = normalize(name)
    if not norm:
        return (), (), ()
    words = [w for w, _s, _e in segment(norm, "default")]
    pieces = [(w, _spoken_word(w)) for w in words if len(w) >= 2 and has_cjk(w)]
    if len(norm) <= 12 and has_cjk(norm):  # the whole name, spoken word by word
        pieces.insert(0, (re.sub(r"\s+", "", norm), "".join(map(_spoken_word, words))))
    for compact, said in pieces:
        spoken.append(said)
        full.extend([said, *pinyin_variants(compact)])
        inits.extend(initials_variants(compact))
    return tuple(full), tuple(inits), tuple(spoken)
