"""What the campaign publishes itself: news, announcements and policy documents (资讯 / 公告 / 政策).

An article is public while ``status`` is published and ``publish_at`` (naive UTC) has passed, so
a scheduled article needs no job to go live: every public query compares ``publish_at`` with the
request's clock. Drafts and withdrawn articles are never public.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utc_now
from ..extensions import db


class NewsCategory:
    """The four kinds of article, in the order the news page lists them."""

    EVENT = "event"
    POLICY = "policy"
    NOTICE = "notice"
    WORK = "work"
    LABELS = {EVENT: "活动公告", POLICY: "政策文件", NOTICE: "公示公告", WORK: "工作动态"}


class NewsStatus:
    """Life of an article. "Scheduled" is not a status: it is a published article whose
    ``publish_at`` is still in the future (see ``services.news.state_of``)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    LABELS = {DRAFT: "草稿", PUBLISHED: "已发布", WITHDRAWN: "已撤回"}


class NewsArticle(db.Model):
    """One article written by staff in Markdown (rendered and sanitised when shown)."""

    __tablename__ = "news_article"
    __table_args__ = (Index("ix_news_article_status_publish_at", "status", "publish_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stable key of an article shipped in the project's data (the seed policy, demo items), so
    # loading them again finds them; NULL for articles staff write.
    source_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)  # Markdown
    source: Mapped[str] = mapped_column(String(60), default="")  # 来源 / 发布单位
    status: Mapped[str] = mapped_column(String(12), default=NewsStatus.DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC; set once published or scheduled
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utc_now, onupdate=utc_now)
    # When the text was last changed while readers could see it (the page's 更新于, the feed's and
    # the sitemap's dates); edits of drafts and scheduled articles do not count.
    revised_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Optimistic lock: an edit form carries the version it was opened at, and SQLAlchemy refuses
    # an UPDATE whose version moved meanwhile (two staff editing the same article).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User", foreign_keys=[created_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    @property
    def category_label(self) -> str:
        return NewsCategory.LABELS.get(self.category, self.category)
