"""News for consumers: ``/news`` (paged, by category), ``/news/<id>`` and ``/feeds/news.atom``.

Readers see an article only while it is published and its time has come (``news.public_filter``);
anything else is 404. Staff may open an unpublished article at its public address to check it:
the page says so, is ``private, no-store`` and ``noindex``, and is never put in the page cache.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_login import current_user

from ..clock import utc_now
from ..extensions import db
from ..models import NewsArticle, NewsCategory
from ..page_cache import cacheable
from ..services import news, rich_text
from . import linking
from .atom import AtomEntry, atom_response
from .helpers import choice_arg, page_arg
from .public import MAX_ID

bp = Blueprint("news", __name__)
PER_PAGE = 15
RELATED = 5
FEED_SIZE = 20


@bp.route("/news")
@cacheable
def index():
    """Published articles, newest first, optionally of one category."""
    category = choice_arg("category", NewsCategory.LABELS)
    page = page_arg()
    pagination = db.paginate(news.public_query(utc_now(), category), page=page, per_page=PER_PAGE,
                             error_out=False)
    args = {k: v for k, v in (("category", category), ("page", page if page > 1 else None)) if v}
    return render_template("news/index.html", pagination=pagination, category=category,
                           categories=NewsCategory.LABELS, canonical=url_for("news.index", _external=True, **args),
                           excerpt=news.excerpt)


def _staff_viewer() -> bool:
    return bool(current_user.is_authenticated and current_user.is_staff)


@bp.route("/news/<int:article_id>")
@cacheable
def article(article_id: int):
    """One article; unpublished ones are 404 except to staff (marked, private, not indexed)."""
    if article_id > MAX_ID:
        abort(404)
    now = utc_now()
    item = db.session.get(NewsArticle, article_id)
    if item is None:
        abort(404)
    public = news.is_public(item, now)
    if not public and not _staff_viewer():
        abort(404)
    response = current_app.make_response(render_template(
        "news/article.html", article=item, public=public, state=news.state_of(item, now),
        states=news.State.LABELS, body=rich_text.render(item.body), description=news.excerpt(item, 150),
        related=news.latest(RELATED, now, item.category, exclude=item.id),
        url=linking.url("news.article", article_id=item.id),
        modified=news.last_modified(item),
    ))
    if not public:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/feeds/news.atom")
def feed():
    """The newest published articles of every category as an Atom feed (full text)."""
    entries = [
        AtomEntry(
            title=f"【{a.category_label}】{a.title}",
            url=linking.url("news.article", article_id=a.id),
            published=a.publish_at, updated=news.last_modified(a), summary=news.excerpt(a, 200),
            content_html=str(rich_text.render(a.body)), categories=((a.category, a.category_label),),
        )
        for a in news.latest(FEED_SIZE, utc_now())
    ]
    return atom_response(title="广货网上行 · 资讯公告", subtitle="活动公告、政策文件、公示公告和工作动态",
                         self_url=linking.url("news.feed"),
                         alt_url=linking.url("news.index"), base_url=linking.base_url() + "/",
                         entries=entries)
