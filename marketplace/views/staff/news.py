"""Staff console: news (资讯发布) — write in Markdown, preview, save drafts, publish now or at a
China time, edit, withdraw. Every change is audited by ``services.news``.

One form serves new and existing articles; its submit button says what to do:
``preview`` renders the Markdown without storing anything, ``save`` stores the text (a new
article becomes a draft, a published one stays published), ``publish`` stores the text and
publishes at the chosen time (empty = now; a future time schedules it).
"""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, Optional

from ...clock import china_local_to_utc, to_china, utc_now
from ...extensions import db
from ...models import NewsArticle, NewsCategory
from ...services import news, rich_text
from ...unit_of_work import catch_refusal, on_refusal
from ..helpers import choice_arg, page_arg
from ..public import MAX_ID
from .blueprint import bp, staff_only
from ..form_fields import DT_FORMAT
from .forms import REQUIRED, EmptyForm

ACTIONS = ("preview", "save", "publish")


class ChinaTimeField(DateTimeLocalField):
    """A ``datetime-local`` input (China time) whose parse error is in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError("时间格式不正确，请按“年-月-日 时:分”填写。") from err


class NewsForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired(REQUIRED), Length(max=news.TITLE_MAX, message=f"标题不能超过 {news.TITLE_MAX} 个字符。")])
    category = SelectField("分类", choices=list(NewsCategory.LABELS.items()), validate_choice=False)
    source = StringField("来源（可选，如发布单位）", validators=[Optional(), Length(max=news.SOURCE_MAX, message=f"来源不能超过 {news.SOURCE_MAX} 个字符。")])
    summary = TextAreaField("摘要（可选）", validators=[Optional(), Length(max=news.SUMMARY_MAX, message=f"摘要不能超过 {news.SUMMARY_MAX} 个字符。")])
    body = TextAreaField("正文（Markdown）", validators=[DataRequired(REQUIRED), Length(max=news.BODY_MAX, message=f"正文不能超过 {news.BODY_MAX} 个字符。")])
    publish_at = ChinaTimeField("发布时间（北京时间，可空）", format=DT_FORMAT, validators=[Optional()])
    version = HiddenField()


def _article_or_404(article_id: int) -> NewsArticle:
    if article_id > MAX_ID:
        abort(404)
    article = db.session.get(NewsArticle, article_id)
    if article is None:
        abort(404)
    return article


@bp.route("/news")
@staff_only
def news_list():
    """Every article with its state (草稿 / 定时发布 / 已发布 / 已撤回), filterable."""
    state = choice_arg("state", news.State.LABELS)
    category = choice_arg("category", NewsCategory.LABELS)
    now = utc_now()
    pagination = db.paginate(news.staff_query(state, category, now), page=page_arg(), per_page=30, error_out=False)
    return render_template("staff/news_list.html", pagination=pagination, state=state, category=category,
                           states=news.State.LABELS, categories=NewsCategory.LABELS,
                           state_of=lambda a: news.state_of(a, now))


def _version(raw: str | None) -> int | None:
    """The article version an edit form was opened at (hidden field), or None when garbled."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _publish_time(form: NewsForm) -> datetime | None:
    value = form.publish_at.data
    return china_local_to_utc(value) if value else None


def _store(form: NewsForm, article: NewsArticle | None, action: str) -> NewsArticle:
    """Apply the form (text, then publishing) in the request's transaction; raises ServiceError."""
    fields = news.clean_fields(title=form.title.data, category=form.category.data, body=form.body.data,
                               summary=form.summary.data, source=form.source.data)
    if article is None:
        article = news.create(fields, current_user)
    else:
        news.update(article, fields, current_user, expected_version=_version(form.version.data))
    if action == "publish":
        news.publish(article, current_user, _publish_time(form))
    return article


def _done_message(article: NewsArticle, action: str) -> str:
    if action != "publish":
        return f"已保存：{article.title}。"
    if article.publish_at > utc_now():
        return f"已定时发布：{article.title}，将于 {to_china(article.publish_at):%Y-%m-%d %H:%M}（北京时间）对外公开。"
    return f"已发布：{article.title}。"


def _edit(article: NewsArticle | None):
    """The new / edit page for ``article`` (None = new): preview, save or publish."""
    form = NewsForm()
    action = request.form.get("action", "save") if request.method == "POST" else ""
    if request.method == "GET" and article is not None:
        form.process(obj=article)
        form.publish_at.data = to_china(article.publish_at).replace(tzinfo=None) if article.publish_at else None
        form.version.data = str(article.version)
    preview = None
    if request.method == "POST" and action not in ACTIONS:
        abort(400)
    if form.validate_on_submit():
        if action == "preview":
            preview = rich_text.render(form.body.data or "")
        else:
            with catch_refusal() as refusal:
                article = _store(form, article, action)
                flash(_done_message(article, action), "success")
                return redirect(url_for("staff.news_edit", article_id=article.id))
            flash(str(refusal.error), "error")
    now = utc_now()
    return render_template("staff/news_form.html", form=form, article=article, preview=preview,
                           state=news.state_of(article, now) if article else None, states=news.State.LABELS,
                           unpublish_form=EmptyForm())


@bp.route("/news/new", methods=["GET", "POST"])
@staff_only
def news_new():
    """Write a new article."""
    return _edit(None)


@bp.route("/news/<int:article_id>/edit", methods=["GET", "POST"])
@staff_only
def news_edit(article_id: int):
    """Edit, schedule or publish an article."""
    return _edit(_article_or_404(article_id))


@bp.route("/news/<int:article_id>/unpublish", methods=["POST"])
@staff_only
def news_unpublish(article_id: int):
    """Withdraw a published or scheduled article (it leaves every public page at once)."""
    article = _article_or_404(article_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    on_refusal(url_for("staff.news_edit", article_id=article.id))
    news.unpublish(article, current_user, expected_version=_version(request.form.get("version")))
    flash(f"已撤回：{article.title}。读者已无法访问这篇文章。", "success")
    return redirect(url_for("staff.news_edit", article_id=article.id))
