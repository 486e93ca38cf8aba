"""/go/<shop id>: counts the click and redirects only to the stored URL of a public shop."""
import pytest
from sqlalchemy import func, select

from factories import make_enterprise, make_shop
from marketplace.extensions import db
from marketplace.models import ClickEvent, Enterprise, Shop, Status


def _clicks(shop_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ClickEvent).where(ClickEvent.shop_id == shop_id))


def _counts(shop: Shop) -> tuple[int, int]:
    db.session.expire_all()
    s = db.session.get(Shop, shop.id)
    return s.click_count, db.session.get(Enterprise, s.enterprise_id).click_count


def test_go_counts_and_redirects_to_stored_url(client):
    ent = make_enterprise()
    shop = make_shop(ent, url="https://meijia.tmall.com/shop/view_shop.htm")
    other = make_shop(ent, platform_slug="jd")
    db.session.commit()
    resp = client.get(f"/go/{shop.id}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "https://meijia.tmall.com/shop/view_shop.htm"
    assert "no-store" in resp.headers["Cache-Control"]
    assert _counts(shop) == (1, 1)
    assert _clicks(shop.id) == 1
    client.get(f"/go/{shop.id}")
    client.get(f"/go/{other.id}")
    assert _counts(shop) == (2, 3)
    assert _clicks(shop.id) == 2 and _clicks(other.id) == 1


@pytest.mark.parametrize("query", ["?url=https://evil.example", "?next=//evil.example", "?to=javascript:alert(1)"])
def test_go_ignores_any_target_in_the_request(client, query):
    shop = make_shop(make_enterprise(), url="https://good.tmall.com/")
    db.session.commit()
    resp = client.get(f"/go/{shop.id}{query}")
    assert resp.status_code == 302 and resp.headers["Location"] == "https://good.tmall.com/"


@pytest.mark.parametrize("shop_status", [Status.DRAFT, Status.PENDING, Status.REJECTED, Status.SUSPENDED,
                                         Status.REVOKED, Status.EXPIRED])
def test_go_non_certified_shop_is_404(client, shop_status):
    shop = make_shop(make_enterprise(), status=shop_status)
    db.session.commit()
    assert client.get(f"/go/{shop.id}").status_code == 404
    assert _counts(shop) == (0, 0) and _clicks(shop.id) == 0


@pytest.mark.parametrize("ent_status", [Status.PENDING, Status.SUSPENDED, Status.REVOKED, Status.EXPIRED])
def test_go_certified_shop_of_non_public_enterprise_is_404(client, ent_status):
    ent = make_enterprise(status=ent_status)
    shop = make_shop(ent)  # the shop row itself still says certified
    db.session.commit()
    assert client.get(f"/go/{shop.id}").status_code == 404
    assert _clicks(shop.id) == 0


def test_go_after_revocation_is_404_at_once(client):
    shop = make_shop(make_enterprise())
    db.session.commit()
    assert client.get(f"/go/{shop.id}").status_code == 302
    shop.status = Status.REVOKED
    db.session.commit()
    assert client.get(f"/go/{shop.id}").status_code == 404


def test_go_is_get_only(client):
    shop = make_shop(make_enterprise())
    db.session.commit()
    assert client.post(f"/go/{shop.id}").status_code == 405
    assert _clicks(shop.id) == 0


def test_go_unknown_shop_is_404(client):
    assert client.get("/go/123456").status_code == 404
    assert client.get("/go/-1").status_code == 404


def test_head_does_not_count(client):
    shop = make_shop(make_enterprise(), url="https://head.tmall.com/")
    db.session.commit()
    resp = client.head(f"/go/{shop.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == "https://head.tmall.com/"
    assert _counts(shop) == (0, 0) and _clicks(shop.id) == 0


def test_concurrent_clicks_are_all_counted(app):
    import threading

    shop = make_shop(make_enterprise())
    db.session.commit()
    url = f"/go/{shop.id}"
    errors = []

    def worker():
        c = app.test_client()
        for _ in range(10):
            r = c.get(url)
            if r.status_code != 302:
                errors.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _counts(shop) == (40, 40) and _clicks(shop.id) == 40
