"""Review queue: listing, checks, approve/reject of every kind, concurrency, queue walking."""
import re
import threading
from datetime import timedelta

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Application, AuditLog, Certification, Enterprise, Role, Shop,
)
from marketplace.clock import utc_now
from marketplace.services import ServiceError, review
from marketplace.services.mail import read_outbox
from tests.factories import (
    end_gongshi, industry, make_application, make_enterprise, make_shop, make_user, platform,
)

def _codes(application):
    """Every shop's verification code marked as checked (services.shop_codes)."""
    from tests.factories import all_codes_verified
    return all_codes_verified(application)


def _codes_form(application):
    from tests.factories import approve_form_data
    return approve_form_data(application)


def _staff(login_as):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(user)
    return user


def _pending_enterprise(**kw):
    merchant = make_user()
    ent = make_enterprise(status="pending", owner=merchant, certificate=False, **kw)
    return merchant, ent


def test_queue_oldest_first_and_filters(app, client, login_as):
    now = utc_now()
    _, a_ent = _pending_enterprise(city_name="汕头", industries=["服装"])
    _, b_ent = _pending_enterprise(city_name="佛山", industries=["家电"])
    old = make_application(a_ent, submitted_at=now - timedelta(days=3))
    new = make_application(b_ent, submitted_at=now - timedelta(hours=1))
    claim_ent = make_enterprise()
    claim = make_application(claim_ent, "claim", applicant=make_user(), payload={"note": "我们是品牌方"},
                             submitted_at=now - timedelta(days=1))
    _staff(login_as)
    html = client.get("/staff/review").get_data(as_text=True)
    assert html.index(f"/staff/review/{old.id}") < html.index(f"/staff/review/{claim.id}") < html.index(f"/staff/review/{new.id}")
    html = client.get("/staff/review?kind=claim").get_data(as_text=True)
    assert f"/staff/review/{claim.id}" in html and f"/staff/review/{old.id}" not in html
    html = client.get(f"/staff/review?city={a_ent.city_id}").get_data(as_text=True)
    assert f"/staff/review/{old.id}" in html and f"/staff/review/{new.id}" not in html
    html = client.get(f"/staff/review?industry={industry('家电').id}").get_data(as_text=True)
    assert f"/staff/review/{new.id}" in html and f"/staff/review/{old.id}" not in html
    assert client.get("/staff/review?page=999").status_code == 200
    assert client.get("/staff/review?page=abc").status_code == 400


def test_detail_shows_checks_and_duplicates(app, client, login_as):
    make_enterprise(name="佛山美味食品有限公司", brands=["美味坊"])
    existing = make_enterprise()
    taken = make_shop(existing, url="https://meiwei.tmall.com/")
    merchant, ent = _pending_enterprise(name="佛山美味食品有限公司2", brands=["美味坊"], city_name="广州")
    make_shop(ent, status="pending", url="https://meiwei-shop.jd.com/", platform_slug="tmall")  # wrong host
    a = make_application(ent, applicant=merchant)
    _staff(login_as)
    html = client.get(f"/staff/review/{a.id}").get_data(as_text=True)
    assert "校验通过" in html
    assert "与所填城市不一致" in html  # code area 440606 is 佛山, city says 广州
    assert "不属于" in html  # jd.com host on a Tmall shop
    assert "非常相似" in html
    assert taken.url not in html or "重复" in html


def test_detail_shop_url_duplicate_warning(app, client, login_as):
    owner_ent = make_enterprise()
    make_shop(owner_ent, url="https://dup.tmall.com/")
    merchant = make_user()
    ent = make_enterprise(owner=merchant)
    shop = make_shop(ent, url="https://mine.tmall.com/")
    a = make_application(ent, "shop_edit", shop=shop, payload={"url": "http://dup.tmall.com"})
    _staff(login_as)
    html = client.get(f"/staff/review/{a.id}").get_data(as_text=True)
    assert "网址与其他店铺重复" in html
    assert "<del>s</del>" in html and "<del>mine</del>" in html and "<ins>dup</ins>" in html  # inline diff


def test_approve_enterprise_issues_certificate_and_mails(app, client, login_as):
    merchant, ent = _pending_enterprise()
    shop = make_shop(ent, status="pending")
    draft = make_shop(ent, status="draft")
    a = make_application(ent, applicant=merchant)
    staff = _staff(login_as)
    resp = client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a))
    assert resp.status_code == 302
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.status == "notice" and ent.certificate is None  # a first certification goes on 公示 first
    mails = read_outbox()
    assert mails and mails[-1]["To"] == merchant.email and "已通过" in mails[-1]["Subject"]
    assert "公示" in mails[-1].get_content()
    end_gongshi()
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.status == "certified" and ent.certified_at is not None
    assert db.session.get(Shop, shop.id).status == "certified"
    assert db.session.get(Shop, draft.id).status == "draft"
    cert = ent.certificate
    assert re.fullmatch(r"GDWS-\d{4}-\d{6}", cert.number)
    assert (cert.valid_until - cert.issued_on).days == app.config["CERTIFICATE_VALID_DAYS"]
    a = db.session.get(Application, a.id)
    assert a.status == "approved" and a.decided_by_id == staff.id
    mails = read_outbox()
    assert mails[-1]["To"] == merchant.email and cert.number in mails[-1].get_content()
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "application.approve.enterprise")).actor_id == staff.id


def test_reject_enterprise_with_reason(app, client, login_as):
    merchant, ent = _pending_enterprise()
    shop = make_shop(ent, status="pending")
    a = make_application(ent, applicant=merchant)
    _staff(login_as)
    assert client.post(f"/staff/review/{a.id}/reject", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, a.id).status == "pending"  # reason is required
    client.post(f"/staff/review/{a.id}/reject", data={"reason": "营业执照名称与企业名称不符"})
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.status == "rejected" and ent.status_reason == "营业执照名称与企业名称不符"
    assert db.session.get(Shop, shop.id).status == "draft"
    assert db.session.get(Application, a.id).reason == "营业执照名称与企业名称不符"
    assert db.session.query(Certification).count() == 0
    mail = read_outbox()[-1]
    assert "未通过" in mail["Subject"] and "营业执照名称与企业名称不符" in mail.get_content()


def test_claim_approve_and_reject(app, client, login_as):
    ent = make_enterprise()  # imported, no owner
    alice, bob = make_user(), make_user()
    a1 = make_application(ent, "claim", applicant=alice, payload={"note": "品牌方"})
    a2 = make_application(ent, "claim", applicant=bob, payload={"note": "我也是"})
    _staff(login_as)
    client.post(f"/staff/review/{a2.id}/reject", data={"reason": "无法核实身份"})
    client.post(f"/staff/review/{a1.id}/approve", data=_codes_form(a1))
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).owner_id == alice.id
    assert db.session.get(Application, a2.id).status == "rejected"


def test_enterprise_edit_applies_payload(app, client, login_as):
    merchant = make_user()
    ent = make_enterprise(owner=merchant, brands=["旧品牌"], description="旧简介")
    new_city = ent.city_id + 1
    ids = [industry("服装").id, industry("家电").id]
    a = make_application(ent, "enterprise_edit", payload={
        "name": "广东新名称有限公司", "brands": ["新品牌", "第二品牌"], "description": "新简介",
        "city_id": new_city, "industry_ids": ids, "founded_year": 1999, "website": "https://new.example.com/"})
    _staff(login_as)
    html = client.get(f"/staff/review/{a.id}").get_data(as_text=True)
    assert "<del>旧</del>简介" in html and "<ins>新</ins>简介" in html and "<del>旧</del>品牌" in html
    client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a))
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.name == "广东新名称有限公司" and ent.brand_names == ["新品牌", "第二品牌"]
    assert ent.description == "新简介" and ent.city_id == new_city and ent.founded_year == 1999
    assert sorted(i.id for i in ent.industries) == sorted(ids)
    assert ent.status == "certified"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "application.approve.enterprise_edit"))
    assert entry.before["description"] == "旧简介" and entry.after["description"] == "新简介"


def test_enterprise_edit_reject_leaves_live_row(app, client, login_as):
    ent = make_enterprise(owner=make_user(), description="原简介")
    a = make_application(ent, "enterprise_edit", payload={"description": "夸大宣传"})
    _staff(login_as)
    client.post(f"/staff/review/{a.id}/reject", data={"reason": "简介含夸大用语"})
    db.session.expire_all()
    assert db.session.get(Enterprise, ent.id).description == "原简介"
    assert db.session.get(Enterprise, ent.id).status == "certified"


def test_new_shop_approve_and_reject(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    s1, s2 = make_shop(ent, status="pending"), make_shop(ent, status="pending")
    a1 = make_application(ent, "shop", shop=s1)
    a2 = make_application(ent, "shop", shop=s2)
    _staff(login_as)
    client.post(f"/staff/review/{a1.id}/approve", data=_codes_form(a1))
    client.post(f"/staff/review/{a2.id}/reject", data={"reason": "网址无法访问"})
    db.session.expire_all()
    assert db.session.get(Shop, s1.id).status == "notice"  # a new shop goes on 公示 first
    assert client.get(f"/go/{s1.id}").status_code == 404
    end_gongshi()
    db.session.expire_all()
    assert db.session.get(Shop, s1.id).status == "certified"
    assert db.session.get(Shop, s2.id).status == "rejected"
    assert db.session.get(Shop, s2.id).status_reason == "网址无法访问"
    assert client.get(f"/go/{s1.id}").status_code in (301, 302, 303, 307)
    assert client.get(f"/go/{s2.id}").status_code == 404


def test_shop_edit_url_goes_live_only_on_approval(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent, url="https://old.tmall.com/")
    a = make_application(ent, "shop_edit", shop=shop, payload={"url": "https://new.tmall.com/", "name": "新店名"})
    _staff(login_as)
    assert client.get(f"/go/{shop.id}").headers["Location"] == "https://old.tmall.com/"
    client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a))
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).url == "https://new.tmall.com/"
    assert db.session.get(Shop, shop.id).name == "新店名"
    assert client.get(f"/go/{shop.id}").headers["Location"] == "https://new.tmall.com/"


def test_shop_edit_to_taken_url_cannot_be_approved(app, client, login_as):
    other = make_shop(make_enterprise(), url="https://taken.tmall.com/")
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent, url="https://mine2.tmall.com/")
    a = make_application(ent, "shop_edit", shop=shop, payload={"url": other.url})
    _staff(login_as)
    resp = client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a), follow_redirects=True)
    assert "已被店铺" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, a.id).status == "pending"  # rolled back, still decidable
    assert db.session.get(Shop, shop.id).url == "https://mine2.tmall.com/"


def test_shop_edit_platform_change(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent, url="https://x1.tmall.com/")
    jd = platform("jd")
    a = make_application(ent, "shop_edit", shop=shop, payload={"platform_id": jd.id, "url": "https://mall.jd.com/index-1.html"})
    _staff(login_as)
    client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a))
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).platform_id == jd.id


def test_second_decision_is_refused(app, client, login_as):
    merchant, ent = _pending_enterprise()
    a = make_application(ent, applicant=merchant)
    _staff(login_as)
    client.post(f"/staff/review/{a.id}/approve", data=_codes_form(a))
    resp = client.post(f"/staff/review/{a.id}/reject", data={"reason": "晚了"}, follow_redirects=True)
    assert "已被其他工作人员处理" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, a.id).status == "approved"
    assert db.session.get(Enterprise, ent.id).status == "notice"
    end_gongshi()
    assert db.session.query(Certification).count() == 1


def test_concurrent_decisions_one_wins(app):
    """Two staff in two threads (own sessions/connections) decide the same application at once."""
    merchant, ent = _pending_enterprise()
    make_shop(ent, status="pending")
    a = make_application(ent, applicant=merchant)
    s1, s2 = make_user(Role.STAFF), make_user(Role.STAFF)
    db.session.commit()
    app_id, ids, checks = a.id, (s1.id, s2.id), _codes(a)
    barrier = threading.Barrier(2)
    results = {}

    def decide(n):
        from marketplace.models import User
        with app.app_context():
            actor = db.session.get(User, ids[n])
            barrier.wait()
            try:
                if n == 0:
                    review.approve(app_id, actor, shop_checks=checks)
                else:
                    review.reject(app_id, actor, "重复提交")
                db.session.commit()
                results[n] = "won"
            except ServiceError as err:
                db.session.rollback()
                results[n] = str(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values()) == ["won", "已被其他工作人员处理"]
    db.session.expire_all()
    final = db.session.get(Application, app_id)
    winner = 0 if results[0] == "won" else 1
    assert final.decided_by_id == ids[winner]
    assert final.status == ("approved" if winner == 0 else "rejected")
    end_gongshi()
    assert db.session.query(Certification).count() == (1 if winner == 0 else 0)
    decisions = db.session.scalars(select(AuditLog).where(AuditLog.action.like("application.%"))).all()
    assert len(decisions) == 1


def test_review_fifty_from_the_queue(app, client, login_as):
    """Approve/reject 50 applications by following 'decide and next' redirects only."""
    start = utc_now() - timedelta(days=1)
    apps = []
    for i in range(50):
        merchant, ent = _pending_enterprise()
        apps.append(make_application(ent, applicant=merchant, submitted_at=start + timedelta(minutes=i)))
    _staff(login_as)
    resp = client.get("/staff/review/next")
    seen = []
    for i in range(50):
        assert resp.status_code == 302
        location = resp.headers["Location"]
        m = re.search(r"/staff/review/(\d+)", location)
        assert m, location
        app_id = int(m.group(1))
        page = client.get(location)
        assert page.status_code == 200 and "通过并下一条" in page.get_data(as_text=True)
        seen.append(app_id)
        if i % 5 == 4:
            resp = client.post(f"/staff/review/{app_id}/reject", data={"reason": "资料不全"})
        else:
            resp = client.post(f"/staff/review/{app_id}/approve")
    assert seen == [a.id for a in apps]  # oldest first, none skipped or repeated
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/review")
    db.session.expire_all()
    assert db.session.query(Application).filter_by(status="pending").count() == 0
    assert db.session.query(Application).filter_by(status="approved").count() == 40
    assert db.session.query(Application).filter_by(status="rejected").count() == 10


def test_next_keeps_filters(app, client, login_as):
    _, e1 = _pending_enterprise()
    a1 = make_application(e1)
    ent = make_enterprise()  # unowned: a claim on an owned enterprise can no longer be approved
    c1 = make_application(ent, "claim", applicant=make_user())
    c2 = make_application(make_enterprise(), "claim", applicant=make_user())
    _staff(login_as)
    resp = client.post(f"/staff/review/{c1.id}/approve?kind=claim", data=_codes_form(c1))
    assert f"/staff/review/{c2.id}" in resp.headers["Location"] and "kind=claim" in resp.headers["Location"]
    assert a1.id != c2.id


def test_shop_edit_reject_keeps_live_url(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent, url="https://keep.tmall.com/")
    a = make_application(ent, "shop_edit", shop=shop, payload={"url": "https://other.tmall.com/"})
    _staff(login_as)
    client.post(f"/staff/review/{a.id}/reject", data={"reason": "新网址不是本企业店铺"})
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).url == "https://keep.tmall.com/"
    assert db.session.get(Shop, shop.id).status == "certified"
    assert client.get(f"/go/{shop.id}").headers["Location"] == "https://keep.tmall.com/"
    assert db.session.get(Application, a.id).reason == "新网址不是本企业店铺"
