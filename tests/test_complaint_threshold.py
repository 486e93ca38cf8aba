"""Complaint threshold (issue 13 §5): 3 upheld 假冒伪劣 complaints against one shop within 12
months suspend it pending review — by the daily ``dynamic-management`` job, with a reason, an audit
entry, a mail and a changes-feed event; a shop staff reviewed and reinstated is suspended again
only when another complaint is upheld."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, CertificationEvent, Role, Shop
from marketplace.services.complaint_process import close
from marketplace.services.lifecycle import reinstate_shop
from marketplace.services.mail import read_outbox
from tests.factories import make_complaint, make_enterprise, make_shop, make_user


@pytest.fixture
def world(app):
    owner = make_user(email="shop-owner@example.com")
    ent = make_enterprise("广东投诉限额有限公司", owner=owner)
    shop, other = make_shop(ent), make_shop(ent)
    staff = make_user(Role.STAFF)
    db.session.commit()
    return {"ent": ent, "shop": shop, "other": other, "staff": staff}


def _upheld(world, shop, *, kind="假冒伪劣", upheld=True, created_at=None):
    c = make_complaint(world["ent"], shop=shop, kind=kind, created_at=created_at)
    close(c, "resolved", "经核实，商品为假冒。", world["staff"], upheld=upheld)
    db.session.commit()
    return c


def _run(runner) -> str:
    result = runner.invoke(args=["dynamic-management"])
    assert result.exit_code == 0, result.output
    return result.output


def _status(shop) -> str:
    db.session.expire_all()
    return db.session.get(Shop, shop.id).status


def test_third_upheld_counterfeit_complaint_suspends_the_shop_once(runner, world):
    shop = world["shop"]
    _upheld(world, shop)
    _upheld(world, shop)
    _upheld(world, shop, kind="虚假宣传")  # another kind
    _upheld(world, shop, upheld=False)  # not found true
    _upheld(world, world["other"])
    assert "暂停店铺 0 家；" in _run(runner).split("假冒伪劣投诉达到限额")[1]
    assert _status(shop) == "certified"
    _upheld(world, shop)
    assert "假冒伪劣投诉达到限额暂停店铺 1 家" in _run(runner)
    assert "假冒伪劣投诉达到限额暂停店铺 0 家" in _run(runner)  # safe to repeat
    db.session.expire_all()
    suspended = db.session.get(Shop, shop.id)
    assert suspended.status == "suspended" and "3 起假冒伪劣投诉经查实" in suspended.status_reason
    assert _status(world["other"]) == "certified"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "shop.suspended"))
    assert entry.after["cause"] == "complaint_threshold" and entry.actor_id is None
    assert read_outbox()[-1]["To"] == "shop-owner@example.com" and "暂停" in read_outbox()[-1]["Subject"]
    event = db.session.scalars(select(CertificationEvent).order_by(CertificationEvent.id.desc())).first()
    assert (event.type, event.shop_id) == ("suspended", shop.id)


def test_a_reviewed_shop_is_suspended_again_only_for_a_new_upheld_complaint(runner, world):
    shop = world["shop"]
    for _ in range(3):
        _upheld(world, shop)
    _run(runner)
    later = clock.utc_now() + timedelta(minutes=5)
    with clock.frozen(later):
        reinstate_shop(db.session.get(Shop, shop.id), world["staff"], "复核：商家已下架问题商品")
        db.session.commit()
        assert "假冒伪劣投诉达到限额暂停店铺 0 家" in _run(runner)
        assert _status(shop) == "certified"
    with clock.frozen(later + timedelta(days=3)):
        _upheld(world, shop)
        assert "假冒伪劣投诉达到限额暂停店铺 1 家" in _run(runner)
    assert _status(shop) == "suspended"
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "shop.suspended")) == 2


def test_complaints_older_than_twelve_months_do_not_count(runner, world):
    shop = world["shop"]
    long_ago = datetime(2024, 1, 10, 2)
    with clock.frozen(long_ago):
        _upheld(world, shop, created_at=long_ago)
    _upheld(world, shop)
    _upheld(world, shop)
    assert "假冒伪劣投诉达到限额暂停店铺 0 家" in _run(runner)
    assert _status(shop) == "certified"
