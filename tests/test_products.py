"""Products (名优广货): the input and URL rules, review before publication, the public pages,
the API, search with ``kind=product`` and click-through via ``/go/``."""
from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Product, ProductStatus, Role, Status
from marketplace.services import NotFound, ServiceError
from marketplace.services.listings.common import FieldErrors
from marketplace.services.products import manage, review
from marketplace.validation import ValidationError
from marketplace.validation.urls import validate_product_url
from tests import factories as f

TMALL = ["tmall.com", "tmall.hk"]


def png(color=(200, 60, 40), size=(40, 40)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def world(app):
    owner = f.make_user(Role.MERCHANT, email="owner@example.com")
    other = f.make_user(Role.MERCHANT, email="other@example.com")
    staff = f.make_user(Role.STAFF, email="staff@example.com")
    ent = f.make_enterprise(owner=owner, brands=["岭南凉茶"], industries=["食品饮料"])
    shop = f.make_shop(ent, url="https://lingnan.tmall.com/")
    jd = f.make_shop(ent, platform_slug="jd", url="https://mall.jd.com/index-1000123.html")
    draft = f.make_shop(ent, platform_slug="taobao", url="https://shop99.taobao.com/", status=Status.DRAFT)
    db.session.commit()
    return {"owner": owner, "other": other, "staff": staff, "ent": ent, "shop": shop, "jd": jd, "draft": draft}


def data(world, **over) -> dict:
    """A product as a merchant would type it (one photo, one link)."""
    ind = f.industry("食品饮料")
    out = {"name": "岭南凉茶植物饮料 310ml×24罐", "industry_id": ind.id, "price_min": "39", "price_max": "59.9",
           "description": "经典配方，清热解暑。", "photos": [png()],
           f"url_{world['shop'].id}": "https://detail.tmall.com/item.htm?id=6001"}
    out.update(over)
    return out


def approved(world, **over) -> Product:
    product = manage.submit_product(world["owner"], world["ent"].id, data(world, **over))
    review.approve_product(product.id, world["staff"])
    db.session.commit()
    return product


# --------------------------------------------------------------------------- URL rules


@pytest.mark.parametrize("url, shop, slug, hosts", [
    ("https://detail.tmall.com/item.htm?id=1", "https://lingnan.tmall.com/", "tmall", TMALL),
    ("https://lingnan.tmall.com/view_item.htm?id=1", "https://lingnan.tmall.com/", "tmall", TMALL),
    ("https://item.jd.com/100012.html", "https://mall.jd.com/index-1000123.html", "jd", ["jd.com"]),
    ("https://product.suning.com/11275208/1000.html", "https://shop.suning.com/11275208/index.html", "suning",
     ["suning.com"]),
    ("detail.tmall.com/item.htm?id=1&spm=a.b.c", "https://lingnan.tmall.com/", "tmall", TMALL),
])
def test_product_urls_on_the_shops_platform_pass(url, shop, slug, hosts):
    href = validate_product_url(url, shop_url=shop, platform_slug=slug, platform_hosts=hosts, platform_name="P",
                                website=None)
    assert href.startswith("https://") and "spm=" not in href


@pytest.mark.parametrize("url, shop, slug, hosts, message", [
    ("https://item.taobao.com/item.htm?id=1", "https://lingnan.tmall.com/", "tmall", TMALL, "不属于"),
    ("https://other.tmall.com/item.htm?id=1", "https://lingnan.tmall.com/", "tmall", TMALL, "不是本店"),
    ("https://mall.jd.com/index-999.html", "https://mall.jd.com/index-1000123.html", "jd", ["jd.com"], "不是本店"),
    ("https://product.suning.com/999/1.html", "https://shop.suning.com/11275208/index.html", "suning",
     ["suning.com"], "不是本店"),
    ("https://lingnan.tmall.com/", "https://lingnan.tmall.com/", "tmall", TMALL, "店铺首页"),
    ("https://www.tmall.com/", "https://lingnan.tmall.com/", "tmall", TMALL, "平台的页面"),
    ("javascript:alert(1)", "https://lingnan.tmall.com/", "tmall", TMALL, "只能以 http"),
    ("https://evil.example\\.tmall.com/item", "https://lingnan.tmall.com/", "tmall", TMALL, "反斜杠"),
    ("https://user@detail.tmall.com/item.htm", "https://lingnan.tmall.com/", "tmall", TMALL, "用户名"),
    ("https://detail.tmall.com.evil.example/item", "https://lingnan.tmall.com/", "tmall", TMALL, "不属于"),
    ("", "https://lingnan.tmall.com/", "tmall", TMALL, "请填写"),
])
def test_bad_product_urls_are_refused_in_chinese(url, shop, slug, hosts, message):
    with pytest.raises(ValidationError, match=message):
        validate_product_url(url, shop_url=shop, platform_slug=slug, platform_hosts=hosts, platform_name="天猫",
                             website=None)


def test_own_site_product_urls_must_be_under_the_enterprise_website():
    kw = {"shop_url": "https://shop.brand.example/", "platform_slug": "own-site", "platform_hosts": [],
          "platform_name": "企业自建商城", "website": "https://www.brand.example/"}
    assert validate_product_url("https://shop.brand.example/p/1", **kw) == "https://shop.brand.example/p/1"
    with pytest.raises(ValidationError, match="官网的域名"):
        validate_product_url("https://other.example/p/1", **kw)


# --------------------------------------------------------------------------- input rules


@pytest.mark.parametrize("over, field, message", [
    ({"price_min": "-5"}, "price_min", "不能为负数"),
    ({"price_max": "-1"}, "price_max", "不能为负数"),
    ({"price_min": "99", "price_max": "10"}, "price_max", "最低价不能高于最高价"),
    ({"price_min": ""}, "price_min", "请填写最低价"),
    ({"photos": []}, "photos", "1 到 5 张"),
    ({"photos": [png((i * 40, 0, 0)) for i in range(6)]}, "photos", "1 到 5 张"),
    ({"name": ""}, "name", "商品名称"),
    ({"industry_id": "999999"}, "industry_id", "行业"),
])
def test_bad_product_input_is_refused_and_nothing_is_stored(world, over, field, message):
    with pytest.raises(FieldErrors) as err:
        manage.submit_product(world["owner"], world["ent"].id, data(world, **over))
    assert message in err.value.errors[field]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_link_on_the_wrong_shop_is_refused_under_its_box(world):
    wrong = {f"url_{world['jd'].id}": "https://mall.jd.com/index-42.html"}
    with pytest.raises(FieldErrors) as err:
        manage.submit_product(world["owner"], world["ent"].id, data(world, **wrong))
    assert "不是本店" in err.value.errors[f"url_{world['jd'].id}"]


def test_links_to_uncertified_shops_are_ignored_and_one_link_is_required(world):
    d = data(world, **{f"url_{world['shop'].id}": "", f"url_{world['draft'].id}": "https://item.taobao.com/item.htm?id=1"})
    with pytest.raises(FieldErrors) as err:
        manage.submit_product(world["owner"], world["ent"].id, d)
    assert "至少填写一个" in err.value.errors["links"]


def test_a_bad_photo_is_refused_in_chinese(world):
    with pytest.raises(FieldErrors) as err:
        manage.submit_product(world["owner"], world["ent"].id, data(world, photos=[b"<svg></svg>"]))
    assert "第 1 张照片" in err.value.errors["photos"]


def test_only_certified_enterprises_list_products_and_only_their_owner(world):
    with pytest.raises(NotFound):
        manage.submit_product(world["other"], world["ent"].id, data(world))
    pending = f.make_enterprise(owner=world["owner"], status=Status.PENDING)
    with pytest.raises(ServiceError, match="已认证的企业"):
        manage.submit_product(world["owner"], pending.id, data(world))


# --------------------------------------------------------------------------- review and visibility


def test_unreviewed_products_are_never_public(world, client):
    product = manage.submit_product(world["owner"], world["ent"].id, data(world))
    db.session.commit()
    assert product.status == ProductStatus.PENDING
    assert client.get(f"/products/{product.id}").status_code == 404
    assert "岭南凉茶植物饮料" not in client.get("/products").get_data(as_text=True)
    assert client.get("/api/v1/products").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=凉茶&kind=product").get_json()["total"] == 0
    assert client.get(f"/go/{world['shop'].id}?link={product.links[0].id}").status_code == 404


def test_approved_products_show_and_hide_when_changed_or_when_the_shop_goes(world, client):
    product = approved(world)
    page = client.get(f"/products/{product.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "¥39 – 59.9" in html and "进店购买" in html and "复制链接" in html
    assert f"/go/{world['shop'].id}?link=" in html
    assert "岭南凉茶植物饮料" in client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    # a change sends it back to review: hidden until approved again
    manage.update_product(world["owner"], product.id, data(world, name="岭南凉茶 新包装"),
                          keep_photos=[product.photos[0].image_sha256])
    db.session.commit()
    assert client.get(f"/products/{product.id}").status_code == 404
    review.approve_product(product.id, world["staff"])
    db.session.commit()
    assert "岭南凉茶 新包装" in client.get(f"/products/{product.id}").get_data(as_text=True)
    # its only shop is suspended: the product disappears everywhere
    world["shop"].status = Status.SUSPENDED
    db.session.commit()
    assert client.get(f"/products/{product.id}").status_code == 404
    assert client.get("/api/v1/products").get_json()["total"] == 0


def test_review_is_audited_mailed_and_decided_once(world, app):
    product = manage.submit_product(world["owner"], world["ent"].id, data(world))
    version = product.version
    review.reject_product(product.id, world["staff"], "照片与商品不符", version=version)
    db.session.commit()
    assert product.status == ProductStatus.REJECTED
    with pytest.raises(ServiceError):
        review.approve_product(product.id, world["staff"])
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.entity_kind == "product")))
    assert {"product.submit", "product.reject"} <= actions


def test_withdrawn_products_leave_at_once(world, client):
    product = approved(world)
    manage.withdraw_product(world["owner"], product.id)
    db.session.commit()
    assert client.get(f"/products/{product.id}").status_code == 404


# --------------------------------------------------------------------------- public pages, API, search, /go/


def test_browse_filters_by_industry_city_and_platform_with_empty_states(world, client):
    approved(world)
    html = client.get("/products").get_data(as_text=True)
    assert "岭南凉茶植物饮料" in html and "食品饮料" in html and "天猫" in html
    assert "岭南凉茶植物饮料" in client.get("/products?platform=tmall").get_data(as_text=True)
    empty = client.get("/products?platform=jd").get_data(as_text=True)
    assert "没有符合条件的商品" in empty
    assert client.get("/products?city=%00bad").status_code == 200
    assert client.get("/products?page=abc").status_code == 400


def test_api_products_is_paged_and_in_openapi(world, client):
    for i in range(3):
        approved(world, name=f"凉茶礼盒 {i}")
    first = client.get("/api/v1/products?per_page=2").get_json()
    assert first["total"] == 3 and first["pages"] == 2 and len(first["results"]) == 2
    second = client.get("/api/v1/products?per_page=2&page=2").get_json()
    assert len(second["results"]) == 1
    item = first["results"][0]
    assert item["price_min"] == 39 and item["links"][0]["go_url"].startswith("http://localhost/go/")
    assert client.get("/api/v1/products?industry=nope").status_code == 400
    assert client.get("/api/v1/products?per_page=0").status_code == 400
    assert "/api/v1/products" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_search_finds_products_with_kind_product(world, client):
    product = approved(world)
    res = client.get("/api/v1/search?q=凉茶&kind=product").get_json()
    assert [r["id"] for r in res["results"]] == [product.id]
    assert res["results"][0]["url"] == f"/products/{product.id}"
    html = client.get("/search?q=凉茶&kind=product").get_data(as_text=True)
    assert "岭南凉茶植物饮料" in html and "商品" in html
    assert client.get("/api/v1/search?kind=nope").status_code == 400


def test_go_redirects_to_the_product_page_after_rechecking_it(world, client):
    product = approved(world)
    link = product.links[0]
    resp = client.get(f"/go/{world['shop'].id}?link={link.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == "https://detail.tmall.com/item.htm?id=6001"
    db.session.refresh(product)
    assert product.click_count == 1
    assert client.get(f"/go/{world['jd'].id}?link={link.id}").status_code == 404  # another shop's link
    assert client.get(f"/go/{world['shop'].id}?link=abc").status_code == 404
    link.url = "https://other.tmall.com/item.htm?id=1"  # edited behind the rules' back
    db.session.commit()
    assert client.get(f"/go/{world['shop'].id}?link={link.id}").status_code == 404


# --------------------------------------------------------------------------- merchant and staff pages


def test_merchant_adds_a_product_through_the_form_and_staff_approve_it(world, client, login_as):
    login_as(world["owner"])
    assert client.get("/merchant/products").status_code == 200
    url = f"/merchant/enterprises/{world['ent'].id}/products/new"
    assert client.get(url).status_code == 200
    form = {"name": "陈皮老鸭汤料包", "industry_id": str(f.industry("食品饮料").id), "price_min": "-3",
            "price_max": "20", "description": "", f"url_{world['shop'].id}": "https://detail.tmall.com/item.htm?id=7",
            "photos": (io.BytesIO(png()), "a.png")}
    bad = client.post(url, data=form, content_type="multipart/form-data")
    assert bad.status_code == 200 and "不能为负数" in bad.get_data(as_text=True)
    assert "陈皮老鸭汤料包" in bad.get_data(as_text=True)  # typed input kept
    form.update(price_min="12", photos=(io.BytesIO(png()), "a.png"))
    ok = client.post(url, data=form, content_type="multipart/form-data")
    assert ok.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.status == ProductStatus.PENDING
    login_as(world["staff"])
    assert "陈皮老鸭汤料包" in client.get("/staff/products").get_data(as_text=True)
    assert client.get(f"/staff/products/{product.id}").status_code == 200
    resp = client.post(f"/staff/products/{product.id}/approve", data={"version": str(product.version)})
    assert resp.status_code == 302
    db.session.refresh(product)
    assert product.status == ProductStatus.APPROVED


def test_another_merchants_product_is_404(world, client, login_as):
    product = approved(world)
    login_as(world["other"])
    assert client.get(f"/merchant/products/{product.id}/edit").status_code == 404


# --------------------------------------------------------------------------- enterprise page (issue 16 item 4)


def _edit(ent, **over) -> dict:
    out = {"name": ent.name, "brands": "；".join(ent.brand_names), "city_id": str(ent.city_id),
           "industry_ids": [i.id for i in ent.industries], "description": ent.description, "website": "",
           "founded_year": ""}
    out.update(over)
    return out


def test_customer_service_facts_are_reviewed_then_shown(world, client):
    from marketplace.services import review as app_review
    from marketplace.services.listings.enterprises import update_enterprise

    ent = world["ent"]
    with pytest.raises(FieldErrors) as err:
        update_enterprise(world["owner"], ent.id, _edit(ent, service_phone="12345"))
    assert "客服电话" in err.value.errors["service_phone"]
    db.session.rollback()
    result = update_enterprise(world["owner"], ent.id, _edit(
        ent, service_phone="４００ 123 4567", service_hours="每天 9:00–21:00",
        address="佛山市顺德区北滘镇工业大道 1 号"))
    db.session.commit()
    assert not result.applied and result.application.payload["service_phone"] == "400-123-4567"
    assert "400-123-4567" not in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    app_review.approve(result.application.id, world["staff"])
    db.session.commit()
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "400-123-4567" in html and "每天 9:00–21:00" in html and "工业大道 1 号" in html


def test_enterprise_page_has_go_and_copy_link_buttons_without_inline_script(world, client):
    html = client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    assert f'href="/go/{world["shop"].id}"' in html and ">进店<" in html
    assert 'data-copy="#shop-url-' in html and "https://lingnan.tmall.com/" in html
    assert "js/copy.js" in html and "onclick" not in html and "<script>" not in html
