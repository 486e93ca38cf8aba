"""The public complaint record on enterprise pages, and the counts the certification rules use."""
from __future__ import annotations

from datetime import date, datetime

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import Role
from marketplace.services import complaint_process as process
from marketplace.services.complaint_record import public_record, upheld_counterfeit_counts, window_start
from tests.factories import make_complaint, make_enterprise, make_shop, make_user


def china(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=clock.CHINA_TZ)


def _complaint(ent, staff, filed, *, shop=None, kind="假冒伪劣", accept=None, close=None, outcome="resolved",
               upheld=None, settle=None):
    with clock.frozen(china(*filed)):
        c = make_complaint(ent, shop=shop, kind=kind)
    if accept:
        with clock.frozen(china(*accept)):
            process.accept(c, staff)
    if settle:
        with clock.frozen(china(*settle)):
            process.merchant_settle(c, ent.owner, "已退款")
    if close:
        with clock.frozen(china(*close)):
            process.close(c, outcome, "处理完毕", staff, upheld=upheld)
    return c


def test_record_counts_accepted_complaints_in_time_and_upheld_counterfeit(app, client):
    staff = make_user(Role.STAFF)
    ent = make_enterprise(owner=make_user(), brands=["记录牌"])
    shop = make_shop(ent)
    other = make_enterprise()
    # settled by the merchant within its 10 working days (accepted 12 Oct → due 26 Oct)
    _complaint(ent, staff, (2026, 10, 9), accept=(2026, 10, 12), settle=(2026, 10, 20))
    # upheld counterfeit, closed in mediation (staff close while negotiating: counts from acceptance)
    _complaint(ent, staff, (2026, 10, 9), shop=shop, accept=(2026, 10, 12), close=(2026, 10, 15), upheld=True)
    # closed after its negotiation deadline (due 26 Oct): not in time
    _complaint(ent, staff, (2026, 10, 9), kind="售后问题", accept=(2026, 10, 12), close=(2026, 11, 2))
    # still open: received but not closed
    _complaint(ent, staff, (2026, 10, 9), accept=(2026, 10, 12))
    # refused and not yet accepted: not received
    refused = _complaint(ent, staff, (2026, 10, 9))
    with clock.frozen(china(2026, 10, 10)):
        process.refuse(refused, staff, "无关")
    _complaint(ent, staff, (2026, 11, 1))
    # older than 12 months, and another enterprise's: not counted
    _complaint(ent, staff, (2025, 10, 1), accept=(2025, 10, 9), close=(2025, 10, 10), upheld=True)
    _complaint(other, staff, (2026, 10, 9), accept=(2026, 10, 12), close=(2026, 10, 13), upheld=True)
    db.session.commit()

    with clock.frozen(china(2026, 11, 20)):
        record = public_record(ent.id)
        assert (record.received, record.closed, record.in_time, record.upheld_counterfeit) == (4, 3, 2, 1)
        assert record.since == date(2025, 11, 20)
        html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "投诉处理记录" in html and "2025-11-20" in html
    assert '<dt>受理投诉</dt><dd>4</dd>' in html and '<dt>按时办结</dt><dd>2</dd>' in html
    assert '<dt>假冒伪劣查实</dt><dd>1</dd>' in html
    with clock.frozen(china(2026, 11, 20)):
        assert upheld_counterfeit_counts() == {shop.id: 1}
        assert upheld_counterfeit_counts(shop_ids=[shop.id + 999]) == {}


def test_window_start_handles_leap_day():
    assert window_start(date(2028, 2, 29)) == date(2027, 2, 28)
    assert window_start(date(2026, 11, 20)) == date(2025, 11, 20)
