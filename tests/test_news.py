"""News and announcements (issue 16 §3): Markdown sanitising, scheduled publishing in China time,
drafts private, staff console with audit, /news, /news/<id>, the Atom feed, the home page's news,
the sitemap, the page cache and the seed policy document."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, NewsArticle, NewsCategory, NewsStatus, Role
from marketplace.services import ServiceError, news, news_seed, rich_text
from tests.factories import make_user

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
T0 = datetime(2030, 3, 1, 2, 0)  # naive UTC = 2030-03-01 10:00 China time


def make_article(title="测试资讯", *, category=NewsCategory.WORK, body="正文内容。", publish_at=None,
                 status=NewsStatus.PUBLISHED, summary="") -> NewsArticle:
    """A stored article; published ones default to an hour ago."""
    if status == NewsStatus.PUBLISHED and publish_at is None:
        publish_at = clock.utc_now() - timedelta(hours=1)
    article = NewsArticle(title=title, category=category, body=body, summary=summary, status=status,
                          publish_at=publish_at)
    db.session.add(article)
    db.session.flush()
    return article


def _staff(login_as, role=Role.STAFF):
    user = make_user(role)
    db.session.commit()
    login_as(user)
    return user


def _count(model=NewsArticle) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(**changes) -> dict:
    data = {"title": "新春广货节开幕", "category": "event", "source": "活动办公室", "summary": "",
            "body": "## 活动安排\n\n- 第一项\n- 第二项", "publish_at": "", "action": "save"}
    data.update(changes)
    return data


# ------------------------------------------------------------------ sanitising


class _Audit(HTMLParser):
    """Everything in rendered HTML that could run code."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "svg", "img", "style", "form", "input", "meta", "base"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}")
            if name == "style" and value.replace(" ", "") not in ("text-align:right", "text-align:left",
                                                                  "text-align:center"):
                self.problems.append(f"{tag} style={value}")
            if name in ("href", "src", "action") and value:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower().split(":", 1)[0]
                if ":" in value and scheme not in ("http", "https", "mailto", "tel"):
                    self.problems.append(f"{tag} {name}={value}")


def _problems(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems


HOSTILE_MARKDOWN = """正文开始 <script>alert('x')</script> 正文继续

<iframe src="https://evil.example/frame">框架里的字</iframe>

[普通链接](https://www.12315.cn/) [脚本链接](javascript:alert(1)) [大写](JaVaScRiPt:alert(2))
[实体](&#106;avascript:alert(3)) [数据](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox(1))
<javascript:alert(4)>

<a href="javascript:alert(5)" onclick="alert(6)">原始链接</a> <a href=" jav&#x09;ascript:alert(7)">空白</a>

<p onmouseover="alert(8)" style="background:url(javascript:alert(9))">段落</p>

<img src=x onerror=alert(10)> <svg onload=alert(11)><circle r=1></circle></svg>

<object data="evil.swf"></object><embed src="evil.swf"><form action="/staff"><input name=a></form>

<style>body{display:none}</style><meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">

<details open ontoggle=alert(12)><summary>x</summary></details>

| 左 | 右 |
|:--|--:|
| 1 | 2 |
"""


def test_rendered_markdown_has_no_scripts_iframes_handlers_or_script_links():
    html = str(rich_text.render(HOSTILE_MARKDOWN))
    assert _problems(html) == [], html
    for payload in ("alert('x')", "框架里的字", "evil.example", "display:none"):
        assert payload not in html, payload  # dropped with their content, not just their tags
    # the harmless parts survive
    assert "正文开始" in html and "正文继续" in html and "段落" in html and "原始链接" in html
    assert '<a href="https://www.12315.cn/" rel="noopener noreferrer">普通链接</a>' in html
    assert '<td style="text-align:right">2</td>' in html


def test_markdown_formatting_and_headings_below_the_page_title():
    html = str(rich_text.render("# 一、总体要求\n\n**重点** *强调*\n第二行\n\n1. 甲\n2. 乙\n\n> 引用"))
    assert "<h2>一、总体要求</h2>" in html and "<h1>" not in html
    assert "<strong>重点</strong>" in html and "<em>强调</em>" in html
    assert "<br>" in html  # a single line break stays a line break (Chinese text)
    assert "<ol>" in html and "<blockquote>" in html
    assert rich_text.plain_text("## 标题\n\n**粗**体 [链接](https://x.example)", 6) == "标题 粗体…"


def test_article_page_and_feed_serve_the_sanitised_html(app, client):
    art = make_article("含恶意代码的文章", body=HOSTILE_MARKDOWN)
    db.session.commit()
    page = client.get(f"/news/{art.id}").get_data(as_text=True)
    prose = page.split('<div class="prose">')[1].split("</div>")[0]
    assert _problems(prose) == [] and "正文开始" in prose and "alert('x')" not in prose
    feed = ET.fromstring(client.get("/feeds/news.atom").data)
    content = feed.find(f"{ATOM}entry/{ATOM}content").text
    assert _problems(content) == [] and "正文开始" in content and "<script" not in content


# ------------------------------------------------------------------ scheduling and visibility


def test_scheduled_article_appears_at_its_china_time_everywhere(app, client):
    art = make_article("定时发布的公告", category=NewsCategory.NOTICE, publish_at=T0)
    db.session.commit()

    def seen() -> dict[str, bool]:
        return {
            "list": "定时发布的公告" in client.get("/news").get_data(as_text=True),
            "category": "定时发布的公告" in client.get("/news?category=notice").get_data(as_text=True),
            "page": client.get(f"/news/{art.id}").status_code == 200,
            "home": "定时发布的公告" in client.get("/").get_data(as_text=True),
            "feed": "定时发布的公告" in client.get("/feeds/news.atom").get_data(as_text=True),
            "sitemap": f"/news/{art.id}<" in client.get("/sitemaps/1.xml").get_data(as_text=True),
        }

    with clock.frozen(T0 - timedelta(minutes=1)):
        assert seen() == dict.fromkeys(("list", "category", "page", "home", "feed", "sitemap"), False)
    with clock.frozen(T0):
        assert seen() == dict.fromkeys(("list", "category", "page", "home", "feed", "sitemap"), True)
        html = client.get(f"/news/{art.id}").get_data(as_text=True)
        assert "2030-03-01" in html  # the date readers see is the China date


def test_drafts_withdrawn_and_scheduled_are_404_for_readers_and_merchants(app, client, login_as):
    hidden = [make_article("草稿文章", status=NewsStatus.DRAFT),
              make_article("撤回文章", status=NewsStatus.WITHDRAWN, publish_at=clock.utc_now() - timedelta(days=1)),
              make_article("未到时间", publish_at=clock.utc_now() + timedelta(days=1))]
    db.session.commit()
    merchant = app.test_client()
    login_as(make_user(Role.MERCHANT), merchant)
    db.session.commit()
    for c in (client, merchant):
        for art in hidden:
            assert c.get(f"/news/{art.id}").status_code == 404
        listing = c.get("/news").get_data(as_text=True) + c.get("/").get_data(as_text=True)
        assert not any(a.title in listing for a in hidden)
    assert client.get("/news/99999999").status_code == 404
    assert client.get(f"/news/{2**40}").status_code == 404


def test_staff_can_open_an_unpublished_article_privately(app, client, login_as):
    draft = make_article("只给工作人员看的草稿", status=NewsStatus.DRAFT)
    scheduled = make_article("明天发布", publish_at=clock.utc_now() + timedelta(days=1))
    _staff(login_as)
    for art, label in ((draft, "草稿"), (scheduled, "定时发布")):
        resp = client.get(f"/news/{art.id}")
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "private, no-store"
        assert "noindex" in resp.headers["X-Robots-Tag"]
        html = resp.get_data(as_text=True)
        assert label in html and "仅工作人员可见" in html and "application/ld+json" not in html


def test_publish_time_is_entered_in_china_time_and_stored_as_utc(app, client, login_as):
    _staff(login_as)
    with clock.frozen(T0 - timedelta(days=10)):
        resp = client.post("/staff/news/new", data=_form(action="publish", publish_at="2030-03-01T10:00"))
        assert resp.status_code == 302
        art = db.session.scalar(select(NewsArticle))
        assert art.status == NewsStatus.PUBLISHED and art.publish_at == T0
        assert news.state_of(art, clock.utc_now()) == news.State.SCHEDULED
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "已定时发布" in page and "2030-03-01 10:00" in page
        assert db.session.scalar(select(AuditLog.action)) == "news.create"
        assert db.session.scalars(select(AuditLog.action)).all()[-1] == "news.schedule"
    assert news.state_of(art, T0 - timedelta(seconds=1)) == news.State.SCHEDULED
    assert news.state_of(art, T0) == news.State.PUBLISHED


def test_home_headlines_follow_the_schedule_from_the_cache(app, client):
    """The home page's headlines are cached per outbox version; a scheduled article still shows
    at its time without any write, and a staff preview of a future moment shows it too."""
    make_article("早先的资讯", publish_at=T0 - timedelta(days=1))
    make_article("稍后自动上线", publish_at=T0 + timedelta(hours=2))
    db.session.commit()
    with clock.frozen(T0):
        assert [h.title for h in news.latest_headlines(5, T0)] == ["早先的资讯"]
        assert [h.title for h in news.latest_headlines(5, T0 + timedelta(hours=3))] == ["稍后自动上线", "早先的资讯"]
        assert [h.title for h in news.latest_headlines(5, T0 - timedelta(days=2))] == []  # before the fill
    with clock.frozen(T0 + timedelta(hours=2)):
        assert "稍后自动上线" in client.get("/").get_data(as_text=True)
    from marketplace.views.public import render_home

    with app.test_request_context("/"):
        assert "稍后自动上线" in render_home(T0 + timedelta(hours=3), preview=True)
        assert "稍后自动上线" not in render_home(T0, preview=True)


# ------------------------------------------------------------------ staff console


def test_staff_pages_refuse_anonymous_and_merchants(app, client, login_as):
    art = make_article()
    db.session.commit()
    urls = ["/staff/news", "/staff/news/new", f"/staff/news/{art.id}/edit"]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    assert client.post("/staff/news/new", data=_form()).status_code in (302, 401)
    merchant = make_user(Role.MERCHANT)
    db.session.commit()
    login_as(merchant)
    for url in urls:
        assert client.get(url).status_code == 403, url
    for url in ("/staff/news/new", f"/staff/news/{art.id}/edit"):
        assert client.post(url, data=_form(action="publish")).status_code == 403
    assert client.post(f"/staff/news/{art.id}/unpublish").status_code == 403
    assert _count() == 1 and _count(AuditLog) == 0
    assert db.session.get(NewsArticle, art.id).status == NewsStatus.PUBLISHED


def test_staff_write_save_publish_edit_and_withdraw_with_audit(app, client, login_as):
    staff = _staff(login_as)
    resp = client.post("/staff/news/new", data=_form())
    assert resp.status_code == 302
    art = db.session.scalar(select(NewsArticle))
    assert art.status == NewsStatus.DRAFT and art.created_by_id == staff.id
    assert client.get(f"/news/{art.id}").status_code == 200  # staff may look
    anon = app.test_client()
    assert anon.get(f"/news/{art.id}").status_code == 404

    edit = f"/staff/news/{art.id}/edit"
    assert client.post(edit, data=_form(action="publish", version=art.version)).status_code == 302
    db.session.refresh(art)
    assert news.is_public(art, clock.utc_now())
    assert anon.get(f"/news/{art.id}").status_code == 200
    assert "新春广货节开幕" in anon.get("/").get_data(as_text=True)

    assert client.post(edit, data=_form(title="新春广货节开幕（更新）", version=art.version)).status_code == 302
    db.session.refresh(art)
    assert art.status == NewsStatus.PUBLISHED  # an edit keeps it published
    assert "（更新）" in anon.get(f"/news/{art.id}").get_data(as_text=True)

    resp = client.post(f"/staff/news/{art.id}/unpublish", data={"version": art.version})
    assert resp.status_code == 302
    db.session.refresh(art)
    assert art.status == NewsStatus.WITHDRAWN
    assert anon.get(f"/news/{art.id}").status_code == 404
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_kind == "news_article")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["news.create", "news.publish", "news.update", "news.unpublish"]
    entries = db.session.scalars(select(AuditLog).where(AuditLog.entity_kind == "news_article")).all()
    assert all(e.actor_id == staff.id and e.entity_id == art.id for e in entries)
    update = next(e for e in entries if e.action == "news.update")
    assert update.before == {"title": "新春广货节开幕"} and update.after == {"title": "新春广货节开幕（更新）"}
    listing = client.get("/staff/news").get_data(as_text=True)
    assert "已撤回" in listing and "新春广货节开幕（更新）" in listing
    assert "已撤回" in client.get("/staff/news?state=withdrawn").get_data(as_text=True)
    assert "新春广货节开幕" not in client.get("/staff/news?state=draft").get_data(as_text=True)


def test_preview_renders_sanitised_markdown_and_stores_nothing(app, client, login_as):
    _staff(login_as)
    resp = client.post("/staff/news/new", data=_form(action="preview", body="**加粗** <script>alert(1)</script>"))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<strong>加粗</strong>" in html and "<script>alert(1)" not in html and "预览（尚未保存）" in html
    assert _count() == 0 and _count(AuditLog) == 0


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "此项为必填。"),
    ({"title": "长" * 121}, "标题不能超过 120 个字符。"),
    ({"body": ""}, "此项为必填。"),
    ({"category": "gossip"}, "请选择文章分类"),
    ({"summary": "摘" * 301}, "摘要不能超过 300 个字符。"),
    ({"body": "正文\x07响铃"}, "正文含有不允许的控制字符。"),
    ({"title": "标题\u202e反转"}, "标题含有不允许的文字方向控制字符。"),
    ({"action": "publish", "publish_at": "明天上午"}, "时间格式不正确"),
    ({"action": "publish", "publish_at": "1999-12-31T23:00"}, "发布时间不能早于 2000 年 1 月 1 日。"),
    ({"action": "publish", "publish_at": "2099-01-01T10:00"}, "定时发布时间不能晚于一年以后。"),
])
def test_bad_input_gets_a_chinese_error_and_stores_nothing(app, client, login_as, changes, message):
    _staff(login_as)
    resp = client.post("/staff/news/new", data=_form(**changes))
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert _count() == 0 and _count(AuditLog) == 0


def test_bad_input_on_an_existing_article_changes_nothing(app, client, login_as):
    art = make_article("原标题", body="原正文")
    _staff(login_as)
    before = (art.title, art.body, art.status, art.publish_at, art.version)
    for changes in ({"title": ""}, {"action": "publish", "publish_at": "2099-01-01T10:00"},
                    {"action": "bogus"}):
        resp = client.post(f"/staff/news/{art.id}/edit", data=_form(version=art.version, **changes))
        assert resp.status_code in (200, 400)
        db.session.expire_all()
        art = db.session.get(NewsArticle, art.id)
        assert (art.title, art.body, art.status, art.publish_at, art.version) == before
    assert _count(AuditLog) == 0
    assert client.post("/staff/news/99999999/edit", data=_form()).status_code == 404
    assert client.post("/staff/news/99999999/unpublish").status_code == 404


def test_an_edit_made_meanwhile_is_not_overwritten(app, client, login_as):
    art = make_article("两人同时编辑")
    _staff(login_as)
    opened_at = art.version
    news.update(art, news.ArticleFields("另一位工作人员改的标题", art.category, art.body), None)
    db.session.commit()
    resp = client.post(f"/staff/news/{art.id}/edit", data=_form(title="我的标题", version=opened_at))
    assert resp.status_code == 200 and news.STALE_EDIT in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(NewsArticle, art.id).title == "另一位工作人员改的标题"
    resp = client.post(f"/staff/news/{art.id}/unpublish", data={"version": opened_at})
    db.session.expire_all()
    assert db.session.get(NewsArticle, art.id).status == NewsStatus.PUBLISHED


def test_only_edits_readers_could_see_count_as_updates(app, client):
    with clock.frozen(T0):
        art = make_article("修订测试", publish_at=T0 - timedelta(days=3))
        draft = make_article("草稿修订", status=NewsStatus.DRAFT)
        news.update(draft, news.ArticleFields("草稿修订（二稿）", draft.category, draft.body), None)
        news.update(art, news.ArticleFields("修订测试（修订）", art.category, art.body), None)
        db.session.commit()
        assert draft.revised_at is None and art.revised_at == T0
        assert "更新于 2030-03-01" in client.get(f"/news/{art.id}").get_data(as_text=True)
        entry = ET.fromstring(client.get("/feeds/news.atom").data).find(f"{ATOM}entry")
        assert entry.find(f"{ATOM}updated").text == "2030-03-01T02:00:00Z"
        assert entry.find(f"{ATOM}published").text == "2030-02-26T02:00:00Z"


def test_withdrawing_twice_is_refused_in_chinese(app):
    art = make_article(status=NewsStatus.DRAFT)
    with pytest.raises(ServiceError, match="没有发布"):
        news.unpublish(art, None)


# ------------------------------------------------------------------ public pages


def test_news_list_pages_filters_and_bad_arguments(app, client):
    for k in range(17):
        make_article(f"工作动态第{k:02d}条", publish_at=clock.utc_now() - timedelta(hours=k + 1))
    make_article("一份政策文件", category=NewsCategory.POLICY)
    db.session.commit()
    first = client.get("/news").get_data(as_text=True)
    assert "工作动态第00条" in first and "工作动态第14条" not in first  # newest first, 15 per page
    assert 'rel="next"' in first and "共 18 篇" in first
    assert "工作动态第16条" in client.get("/news?page=2").get_data(as_text=True)
    policy = client.get("/news?category=policy").get_data(as_text=True)
    assert "一份政策文件" in policy and "工作动态第00条" not in policy and "<h1>政策文件</h1>" in policy
    assert "工作动态第00条" in client.get("/news?category=nonsense").get_data(as_text=True)  # ignored
    assert client.get("/news?page=abc").status_code == 400
    assert client.get("/news?page=0").status_code == 400
    beyond = client.get("/news?page=9")
    assert beyond.status_code == 200 and "回到第 1 页" in beyond.get_data(as_text=True)
    assert "暂无已发布的文章" in client.get("/news?category=event").get_data(as_text=True)


def test_article_page_shows_meta_related_and_structured_data(app, client):
    art = make_article("广货网上行推介会举行", summary="推介会摘要", body="# 会议内容\n\n正文。")
    other = make_article("另一条工作动态")
    db.session.commit()
    html = client.get(f"/news/{art.id}").get_data(as_text=True)
    assert "<h1>广货网上行推介会举行</h1>" in html and "<h2>会议内容</h2>" in html
    assert '<meta name="description" content="推介会摘要">' in html
    assert f'<link rel="canonical" href="http://localhost/news/{art.id}">' in html
    assert f'href="/news/{other.id}"' in html  # related: more of the same category
    assert '"@type": "NewsArticle"' in html and "application/atom+xml" in html


def test_feed_is_valid_atom_with_published_articles_only(app, client):
    make_article("已发布一", category=NewsCategory.EVENT, body="第一篇 [站内链接](/verify)")
    make_article("草稿", status=NewsStatus.DRAFT)
    make_article("明天的", publish_at=clock.utc_now() + timedelta(days=1))
    db.session.commit()
    resp = client.get("/feeds/news.atom")
    assert resp.mimetype == "application/atom+xml"
    feed = ET.fromstring(resp.data)
    titles = [e.text for e in feed.iter(f"{ATOM}title")]
    assert titles[0] == "广货网上行 · 资讯公告" and "【活动公告】已发布一" in titles
    assert not any("草稿" in t or "明天的" in t for t in titles)
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text.startswith("http://localhost/news/")
    assert entry.find(f"{ATOM}category").get("label") == "活动公告"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}base") == "http://localhost/"
    again = client.get("/feeds/news.atom", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_sitemap_lists_published_news_and_the_new_pages(app, client):
    shown = make_article("公开的")
    hidden = [make_article(status=NewsStatus.DRAFT), make_article(publish_at=clock.utc_now() + timedelta(days=2))]
    db.session.commit()
    locs = [e.text for e in ET.fromstring(client.get("/sitemaps/1.xml").data).iter(f"{SM}loc")]
    assert f"http://localhost/news/{shown.id}" in locs
    assert not any(f"http://localhost/news/{a.id}" in locs for a in hidden)
    for path in ("/news", "/privacy", "/terms"):
        assert f"http://localhost{path}" in locs


# ------------------------------------------------------------------ page cache


@pytest.fixture
def cached_app(app):
    app.config["PAGE_CACHE_SECONDS"] = 60
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 0
    app.extensions["page_cache"].clear()
    return app


def test_news_pages_are_cached_and_dropped_when_staff_change_an_article(cached_app, login_as):
    art = make_article("缓存里的资讯")
    db.session.commit()
    anon = cached_app.test_client()
    for path in ("/", "/news", f"/news/{art.id}", "/privacy", "/terms"):
        assert anon.get(path).headers["X-Page-Cache"] == "miss", path
        assert anon.get(path).headers["X-Page-Cache"] == "hit", path
    assert "缓存里的资讯" in anon.get("/").get_data(as_text=True)
    news.unpublish(art, None)
    db.session.commit()
    assert anon.get(f"/news/{art.id}").status_code == 404  # gone at once, not after the TTL
    assert "缓存里的资讯" not in anon.get("/news").get_data(as_text=True)
    assert "缓存里的资讯" not in anon.get("/").get_data(as_text=True)


def test_unpublished_articles_are_never_stored_in_the_page_cache(cached_app, login_as):
    draft = make_article("草稿不进缓存", status=NewsStatus.DRAFT)
    staff_client = cached_app.test_client()
    login_as(make_user(Role.STAFF), staff_client)
    db.session.commit()
    assert staff_client.get(f"/news/{draft.id}").status_code == 200
    anon = cached_app.test_client()
    assert anon.get(f"/news/{draft.id}").status_code == 404
    assert anon.get(f"/news/{draft.id}").status_code == 404
    assert not any(f"/news/{draft.id}" in key[3] for key in cached_app.extensions["page_cache"].entries)


# ------------------------------------------------------------------ seed document and demo news


def test_init_db_adds_the_2012_policy_document_once(tmp_path):
    """`flask init-db` (the Alembic migration, then the seed) adds the policy document; again, nothing."""
    from marketplace import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'seed.sqlite3'}"})
    runner = app.test_cli_runner()
    outputs = [runner.invoke(args=["init-db"]) for _ in range(2)]
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    assert "news 1" in outputs[0].output and "news 0" in outputs[1].output
    with app.app_context():
        arts = db.session.scalars(select(NewsArticle)).all()
        assert len(arts) == 1
        art = arts[0]
        assert art.source_key == news_seed.POLICY_KEY and art.category == NewsCategory.POLICY
        assert art.title == "广东省人民政府关于加快发展电子商务的意见" and art.source == "广东省人民政府"
        assert news.is_public(art, clock.utc_now())
        assert clock.china_date_of(art.publish_at).isoformat() == "2012-12-25"
        assert "（七）实施“广货网上行”工程" in art.body and "# 三、大力普及和深化电子商务应用" in art.body
        text = news_seed.POLICY_FILE.read_text(encoding="utf-8")
        # nothing reworded: every line of the official text is in the article
        assert all(line.strip(" \u3000") in art.body for line in text.splitlines() if line.strip())
        assert [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))] == [
            "news.create", "news.publish"]
        db.engine.dispose()


def test_policy_page_renders_the_seed_document(app, client):
    news_seed.seed_documents()
    db.session.commit()
    art = db.session.scalar(select(NewsArticle))
    html = client.get(f"/news/{art.id}").get_data(as_text=True)
    assert "<h2>三、大力普及和深化电子商务应用</h2>" in html and "树立广货网上行“实惠、优质、安全”的品牌形象" in html
    assert "来源：广东省人民政府" in html and "2012-12-25" in html and "更新于" not in html
    first = client.get("/news?category=policy").get_data(as_text=True)
    assert "广东省人民政府关于加快发展电子商务的意见" in first


def test_demo_news_is_fictional_varied_and_loaded_once(app):
    added = news_seed.load_demo_news()["news"]
    assert news_seed.load_demo_news() == {"news": 0}
    db.session.commit()
    now = clock.utc_now()
    articles = db.session.scalars(select(NewsArticle)).all()
    assert added == len(articles)
    demo = [a for a in articles if a.source_key.startswith("demo-")]
    public_demo = [a for a in demo if news.is_public(a, now)]
    assert len(public_demo) >= 8
    assert all("演示数据" in a.body for a in demo)  # clearly fictional
    assert {a.category for a in public_demo} == set(NewsCategory.LABELS)
    states = {news.state_of(a, now) for a in demo}
    assert {news.State.SCHEDULED, news.State.DRAFT} <= states
    for a in demo:  # the demo's own Markdown renders without anything unsafe
        assert _problems(str(rich_text.render(a.body))) == []
