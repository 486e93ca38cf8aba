"""News, announcements and policy documents: staff write and schedule them, consumers read them.

Publishing is scheduled by time alone: an article is public while it is published and its
``publish_at`` (naive UTC) has passed — see :func:`public_filter`, the one definition every
public query uses. Nothing runs at the publish time; the page cache's TTL bounds how late a
scheduled article appears on cached pages (``PAGE_CACHE_SECONDS`` + stale seconds).

Every change by staff writes an audit entry and a ``search_outbox`` row of entity ``news``. The
outbox head is the site's content version: the page cache and the catalog cache drop their pages
when it moves, so an edited or withdrawn article disappears from every cached page at once. The
search applier ignores entities it does not index.

Functions flush, never commit; rule violations raise ``ServiceError`` with a Chinese message.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm.exc import StaleDataError

from ..clock import china_local_to_utc, utc_now
from ..extensions import db
from ..models import NewsArticle, NewsCategory, NewsStatus, SearchOutbox, directory_version
from ..validation import ValidationError
from ..validation.text import clean_text
from . import ServiceError
from .audit import record
from .catalog.cache import cached
from .rich_text import plain_text

TITLE_MAX = 120
SUMMARY_MAX = 300
SOURCE_MAX = 60
BODY_MAX = 50_000
EARLIEST_PUBLISH = china_local_to_utc(datetime(2000, 1, 1))  # backdating an old document is fine, 1970 is a typo
SCHEDULE_HORIZON = timedelta(days=366)
EXCERPT_CHARS = 110
STALE_EDIT = "这篇文章已被其他工作人员修改，请重新打开后再编辑。"


class State:
    """What staff see in the console: ``scheduled`` is a published article not yet due."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    LABELS = {DRAFT: "草稿", SCHEDULED: "定时发布", PUBLISHED: "已发布", WITHDRAWN: "已撤回"}


def state_of(article: NewsArticle, at: datetime) -> str:
    if article.status == NewsStatus.PUBLISHED:
        return State.SCHEDULED if article.publish_at is None or article.publish_at > at else State.PUBLISHED
    return article.status


def public_filter(at: datetime):
    """The one rule for "readers may see this article at ``at``"."""
    return and_(NewsArticle.status == NewsStatus.PUBLISHED, NewsArticle.publish_at.is_not(None),
                NewsArticle.publish_at <= at)


def is_public(article: NewsArticle, at: datetime) -> bool:
    return state_of(article, at) == State.PUBLISHED


def excerpt(article: NewsArticle, limit: int = EXCERPT_CHARS) -> str:
    """The summary staff wrote, or the start of the text."""
    return article.summary or plain_text(article.body, limit)


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class ArticleFields:
    """An article's editable fields, already cleaned (see :func:`clean_fields`)."""

    title: str
    category: str
    body: str
    summary: str = ""
    source: str = ""


def clean_fields(*, title: str | None, category: str | None, body: str | None, summary: str | None = "",
                 source: str | None = "") -> ArticleFields:
    """Check what staff typed; a ``ServiceError`` names the first problem in Chinese."""
    if category not in NewsCategory.LABELS:
        raise ServiceError("请选择文章分类（活动公告、政策文件、公示公告或工作动态）。")
    try:
        return ArticleFields(
            title=clean_text(title, field="标题", max_length=TITLE_MAX, required=True),
            category=category,
            body=clean_text(body, field="正文", max_length=BODY_MAX, required=True, multiline=True),
            summary=clean_text(summary, field="摘要", max_length=SUMMARY_MAX),
            source=clean_text(source, field="来源", max_length=SOURCE_MAX),
        )
    except ValidationError as err:
        raise ServiceError(str(err)) from err


def check_publish_time(at: datetime, now: datetime) -> None:
    """A publish time (naive UTC) staff may choose: not absurdly old, at most a year ahead."""
    if at < EARLIEST_PUBLISH:
        raise ServiceError("发布时间不能早于 2000 年 1 月 1 日。")
    if at > now + SCHEDULE_HORIZON:
        raise ServiceError("定时发布时间不能晚于一年以后。")


def _snapshot(article: NewsArticle) -> dict:
    """What the audit log keeps of an article: every field, the body as length and digest."""
    return {
        "title": article.title, "category": article.category, "summary": article.summary, "source": article.source,
        "status": article.status,
        "publish_at": article.publish_at.isoformat(timespec="minutes") if article.publish_at else None,
        "body_chars": len(article.body or ""),
        "body_sha256": hashlib.sha256((article.body or "").encode()).hexdigest()[:16],
    }


def _changed(article: NewsArticle, action: str, actor, before: dict | None) -> None:
    """Flush, then record the audit entry and the outbox row that drops cached pages."""
    try:
        db.session.flush()
    except StaleDataError as err:
        raise ServiceError(STALE_EDIT) from err
    after = _snapshot(article)
    if before is not None:
        before, after = ({k: v for k, v in before.items() if before[k] != after[k]},
                         {k: v for k, v in after.items() if before[k] != after[k]})
    record(action, actor=actor, entity_kind="news_article", entity_id=article.id, before=before or None,
           after=after or None)
    db.session.add(SearchOutbox(entity="news", entity_id=article.id, created_at=utc_now()))
    db.session.flush()


def _check_version(article: NewsArticle, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != article.version:
        raise ServiceError(STALE_EDIT)


def create(fields: ArticleFields, actor) -> NewsArticle:
    """A new draft."""
    article = NewsArticle(title=fields.title, category=fields.category, body=fields.body, summary=fields.summary,
                          source=fields.source, status=NewsStatus.DRAFT, created_by_id=getattr(actor, "id", None),
                          updated_by_id=getattr(actor, "id", None))
    db.session.add(article)
    _changed(article, "news.create", actor, None)
    return article


def update(article: NewsArticle, fields: ArticleFields, actor, expected_version: int | None = None) -> NewsArticle:
    """Change the text of an article; a published one stays published and shows the change at once."""
    _check_version(article, expected_version)
    current = ArticleFields(article.title, article.category, article.body, article.summary, article.source)
    if fields == current:
        return article
    before = _snapshot(article)
    now = utc_now()
    if is_public(article, now):
        article.revised_at = now
    article.title, article.category, article.body = fields.title, fields.category, fields.body
    article.summary, article.source = fields.summary, fields.source
    article.updated_by_id = getattr(actor, "id", None)
    _changed(article, "news.update", actor, before)
    return article


def publish(article: NewsArticle, actor, at: datetime | None = None, expected_version: int | None = None) -> NewsArticle:
    """Publish now (``at`` None) or at ``at`` (naive UTC): in the future that schedules it, in the
    past it backdates it (an old policy document keeps its date)."""
    _check_version(article, expected_version)
    now = utc_now()
    at = now.replace(microsecond=0) if at is None else at
    check_publish_time(at, now)
    before = _snapshot(article)
    article.status, article.publish_at = NewsStatus.PUBLISHED, at
    article.updated_by_id = getattr(actor, "id", None)
    _changed(article, "news.schedule" if at > now else "news.publish", actor, before)
    return article


def unpublish(article: NewsArticle, actor, expected_version: int | None = None) -> NewsArticle:
    """Withdraw a published or scheduled article: it is gone from every public page at once."""
    _check_version(article, expected_version)
    if article.status != NewsStatus.PUBLISHED:
        raise ServiceError("这篇文章没有发布，无需撤回。")
    before = _snapshot(article)
    article.status = NewsStatus.WITHDRAWN
    article.updated_by_id = getattr(actor, "id", None)
    _changed(article, "news.unpublish", actor, before)
    return article


# ------------------------------------------------------------------ reading (staff)


def staff_query(state: str = "", category: str = "", at: datetime | None = None):
    """Every article for the console, most recently changed first; optional state and category."""
    at = at or utc_now()
    q = select(NewsArticle)
    if state == State.SCHEDULED:
        q = q.where(NewsArticle.status == NewsStatus.PUBLISHED, NewsArticle.publish_at > at)
    elif state == State.PUBLISHED:
        q = q.where(public_filter(at))
    elif state in (State.DRAFT, State.WITHDRAWN):
        q = q.where(NewsArticle.status == state)
    if category in NewsCategory.LABELS:
        q = q.where(NewsArticle.category == category)
    return q.order_by(NewsArticle.updated_at.desc(), NewsArticle.id.desc())


# ------------------------------------------------------------------ reading (public)


def public_query(at: datetime, category: str = ""):
    """Articles readers may see at ``at``, newest first (optionally one category)."""
    q = select(NewsArticle).where(public_filter(at))
    if category in NewsCategory.LABELS:
        q = q.where(NewsArticle.category == category)
    return q.order_by(NewsArticle.publish_at.desc(), NewsArticle.id.desc())


def get_public(article_id: int, at: datetime) -> NewsArticle | None:
    return db.session.scalar(select(NewsArticle).where(NewsArticle.id == article_id, public_filter(at)))


def latest(n: int, at: datetime, category: str = "", exclude: int | None = None) -> list[NewsArticle]:
    q = public_query(at, category)
    if exclude is not None:
        q = q.where(NewsArticle.id != exclude)
    return list(db.session.scalars(q.limit(n)))


@dataclass(frozen=True)
class Headline:
    """A plain copy of what the home page lists (safe to cache across sessions)."""

    id: int
    title: str
    category: str
    publish_at: datetime

    @property
    def category_label(self) -> str:
        return NewsCategory.LABELS.get(self.category, self.category)


UPCOMING_KEPT = 50


def latest_headlines(n: int, at: datetime, min_version: int | None = None) -> list[Headline]:
    """The ``n`` newest articles public at ``at``, from the per-process catalog cache.

    The cache keeps the ``n`` newest public at the time it was filled plus the next scheduled
    ones, so a scheduled article appears on time without a query; any edit moves the outbox head
    and refills it. A moment before the fill (a staff preview of the past) or beyond the kept
    schedule is computed directly, and so is a page that will be filed in the page cache under a
    newer outbox head (``min_version``) than the one the cache was filled at: the catalog cache
    notices a new head only every half second, and a withdrawn article must not be kept for the
    page cache's whole TTL.
    """

    def headlines(q):
        return tuple(Headline(r.id, r.title, r.category, r.publish_at) for r in db.session.execute(q))

    def compute():
        now = utc_now()
        version = directory_version()
        cols = select(NewsArticle.id, NewsArticle.title, NewsArticle.category, NewsArticle.publish_at)
        recent = headlines(cols.where(public_filter(now)).order_by(NewsArticle.publish_at.desc(),
                                                                   NewsArticle.id.desc()).limit(n))
        upcoming = headlines(cols.where(NewsArticle.status == NewsStatus.PUBLISHED, NewsArticle.publish_at > now)
                             .order_by(NewsArticle.publish_at, NewsArticle.id).limit(UPCOMING_KEPT + 1))
        return version, now, recent, upcoming

    version, filled_at, recent, upcoming = cached(f"news_headlines:{n}", compute)
    beyond_kept = len(upcoming) > UPCOMING_KEPT and at >= upcoming[UPCOMING_KEPT - 1].publish_at
    if at < filled_at or beyond_kept or (min_version is not None and min_version > version):
        return [Headline(a.id, a.title, a.category, a.publish_at) for a in latest(n, at)]
    due = [h for h in upcoming[:UPCOMING_KEPT] if h.publish_at <= at]
    return sorted(due + list(recent), key=lambda h: (h.publish_at, h.id), reverse=True)[:n]


def public_count(at: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(NewsArticle).where(public_filter(at))) or 0


def public_ids(at: datetime, offset: int, limit: int) -> list[tuple[int, datetime]]:
    """``(id, last change)`` of public articles in id order (the sitemap's stable slices)."""
    rows = db.session.execute(select(NewsArticle.id, NewsArticle.publish_at, NewsArticle.revised_at)
                              .where(public_filter(at)).order_by(NewsArticle.id).offset(offset).limit(limit))
    return [(i, max(p, r) if r else p) for i, p, r in rows]


def last_modified(article: NewsArticle) -> datetime:
    """When readers last saw a change: the publish time, or a later revision of the text."""
    if article.publish_at is None:
        return article.updated_at
    return max(article.publish_at, article.revised_at) if article.revised_at else article.publish_at
