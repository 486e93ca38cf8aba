"""The reference data shipped with the site: cities, industries, platforms (with their hosts), badges.

One reader for the CSV files in this folder, so the database seed (``services.reference_data``),
the demo generator (``marketplace.demo_data``) and the synthetic generator
(``services.synthetic``) agree on names, codes and platform hosts. Pure Python: no Flask.
"""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def rows(name: str) -> list[dict[str, str]]:
    """The rows of ``name`` (e.g. ``cities.csv``) as dicts, in file order."""
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def platform_hosts() -> dict[str, tuple[str, ...]]:
    """Each platform's hosts by slug, as ``platforms.csv`` lists them (own-site has none)."""
    return {r["slug"]: tuple(h for h in r["hosts"].split(";") if h) for r in rows("platforms.csv")}


def platform_host(slug: str, index: int = 0) -> str:
    """The ``index``-th host of a platform in ``platforms.csv`` (generators build shop URLs on it)."""
    return platform_hosts()[slug][index]
