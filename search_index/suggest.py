"""Autocomplete: name prefix, pinyin and initials suggestions (mixin of ``SearchEngine``)."""
from __future__ import annotations


from whoosh.query import Or, Term

from .analysis import has_cjk, initials_variants, normalize, pinyin_variants
from .api import Suggestion


class SuggestMixin:
    """Autocomplete half of ``SearchEngine``."""

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Autocomplete over brand, enterprise and platform names by Chinese prefix, pinyin or
        initials (``美``, ``mei``, ``md``). Never raises on input; raises IndexUnavailable."""
        from .query import clean_query

        text = normalize(clean_query(prefix)[:40]).replace(" ", "")
        if not text:
            return []
        limit = max(1, min(10, limit))
        with self._searcher() as ref:
            reader = ref.searcher.reader()
            terms = []
            fields = ["names"] if has_cjk(text) else ["names", "pinyin", "initials"]
            for f in fields:
                for i, btext in enumerate(reader.expand_prefix(f, text)):
                    if i >= 50:
                        break
                    terms.append(Term(f, btext.decode("utf-8") if isinstance(btext, bytes) else btext))
            if not terms:
                return []
            flt = Or([Term("kind", "enterprise"), Term("kind", "platform")])
            results = ref.searcher.search(Or(terms), limit=40, filter=flt, sortedby="visits", reverse=True)
            out: list[Suggestion] = []
            seen = set()
            for hit in results:
                stored = hit.fields()
                names = [n for n in (stored.get("brand") or "").split("\n") if n] + [stored.get("name", "")]
                chosen = _matching_name(names, text) or names[0]
                key = (chosen, stored["kind"])
                if key in seen or not chosen:
                    continue
                seen.add(key)
                out.append(Suggestion(text=chosen, kind=stored["kind"], id=int(stored["db_id"])))
                if len(out) >= limit:
                    break
        return out


def _matching_name(names: list[str], prefix: str) -> str | None:
    for n in names:
        if normalize(n).replace(" ", "").startswith(prefix):
            return n
    for n in names:
        if not has_cjk(n):
            continue
        if any(v.startswith(prefix) for v in pinyin_variants(normalize(n))) or any(
            v.startswith(prefix) for v in initials_variants(normalize(n))
        ):
            return n
    return None
