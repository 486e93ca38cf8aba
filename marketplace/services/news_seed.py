"""Articles shipped with the project: the campaign's founding policy document and the demo news.

* The seed document — the Guangdong provincial government's 2012 opinions on accelerating
  e-commerce, whose §(七) launched 广货网上行 — is real and belongs on every site, so
  ``flask init-db`` adds it (:func:`seed_documents`). The text is a verbatim copy kept in
  ``marketplace/data/policy/``; :func:`policy_markdown` turns its layout into Markdown.
* The demo news (``marketplace/data/demo/news.toml``) is fictional and loaded with the demo data
  (:func:`load_demo_news`). Publish times are relative to the loading day, so the demo always has
  recent news, one scheduled article and one draft.

Both go through the same service functions as staff edits (audit entries by "系统"), and both
are idempotent: an article is found again by its ``source_key``, and one that staff withdrew or
edited is left alone.
"""
from __future__ import annotations

import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from ..clock import china_local_to_utc, china_today
from ..extensions import db
from ..models import NewsArticle, NewsCategory
from . import news

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
POLICY_FILE = DATA_DIR / "policy" / "gd-2012-ecommerce-opinions.txt"
DEMO_NEWS_FILE = DATA_DIR / "demo" / "news.toml"
POLICY_KEY = "policy-gd-2012-ecommerce-opinions"
POLICY_TITLE = "广东省人民政府关于加快发展电子商务的意见"
POLICY_SOURCE = "广东省人民政府"
POLICY_DATE = datetime(2012, 12, 25, 9, 0)  # China time; the document's date (no hour is given)
POLICY_SUMMARY = ("2012 年广东省人民政府印发的加快发展电子商务的意见。第（七）条提出实施“广货网上行”工程，"
                  "推动“万家名优企业”应用电子商务，打造广货电子商务综合门户，树立“实惠、优质、安全”的品牌形象。")
_SECTION = re.compile(r"^[一二三四五六七八九十]+、\S{1,20}$")


def policy_markdown(text: str) -> str:
    """The official text's layout as Markdown: one paragraph per line (the indent of full-width
    spaces dropped), and the part headings (``一、总体要求``) as headings. Nothing is reworded."""
    blocks = []
    for line in text.splitlines():
        line = line.strip(" \t\u3000")
        if not line:
            continue
        blocks.append(f"# {line}" if _SECTION.match(line) else line)
    return "\n\n".join(blocks) + "\n"


def _exists(key: str) -> bool:
    return db.session.scalar(select(NewsArticle.id).where(NewsArticle.source_key == key)) is not None


def _add(key: str, fields: news.ArticleFields, publish_at: datetime | None) -> NewsArticle:
    article = news.create(fields, None)
    article.source_key = key
    if publish_at is not None:
        news.publish(article, None, publish_at)
    return article


def seed_documents() -> dict[str, int]:
    """Add the seed policy document when missing; return how many articles were added."""
    if _exists(POLICY_KEY):
        return {"news": 0}
    fields = news.ArticleFields(title=POLICY_TITLE, category=NewsCategory.POLICY,
                                body=policy_markdown(POLICY_FILE.read_text(encoding="utf-8")),
                                summary=POLICY_SUMMARY, source=POLICY_SOURCE)
    _add(POLICY_KEY, fields, china_local_to_utc(POLICY_DATE))
    return {"news": 1}


def load_demo_news(path: Path | None = None) -> dict[str, int]:
    """Add the demo articles that are missing (and the seed document); flushes, never commits.

    Each entry's ``days`` is its publish day relative to today (China time), at ``hour``;
    ``draft = true`` keeps it unpublished.
    """
    added = seed_documents()["news"]
    entries = tomllib.loads((path or DEMO_NEWS_FILE).read_text(encoding="utf-8"))["article"]
    today = china_today()
    for entry in entries:
        key = f"demo-{entry['key']}"
        if _exists(key):
            continue
        fields = news.clean_fields(title=entry["title"], category=entry["category"], body=entry["body"],
                                   summary=entry.get("summary", ""), source=entry.get("source", ""))
        day = today + timedelta(days=int(entry.get("days", 0)))
        at = None if entry.get("draft") else china_local_to_utc(
            datetime(day.year, day.month, day.day, int(entry.get("hour", 10))))
        _add(key, fields, at)
        added += 1
    return {"news": added}
