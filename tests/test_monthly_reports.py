"""The statistics pilot: monthly reports filed by merchants, validated, corrected with an audit
trail, reminded, listed when late, aggregated for staff and published with small cells suppressed."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, MonthlyReport, Role
from marketplace.services import report_stats, reports
from marketplace.services.mail import read_outbox
from tests.factories import make_enterprise, make_shop, make_user, platform


def china(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=clock.CHINA_TZ)


def _token(client, url):
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1), html


def _file(client, ent, period, figures, note="", reason="", token=None):
    """Post the month's form like a browser; ``figures`` maps platform slug -> (sales, orders)."""
    url = f"/merchant/reports/{ent.id}/{period}"
    fresh, html = _token(client, url)
    data = {"form_token": token or fresh, "note": note, "reason": reason}
    revision = re.search(r'name="revision" type="hidden" value="(\d*)"', html)
    data["revision"] = revision.group(1) if revision else ""
    for slug, (sales, orders) in figures.items():
        pid = platform(slug).id
        data[f"sales_{pid}"], data[f"orders_{pid}"] = sales, orders
    return client.post(url, data=data)


@pytest.fixture
def merchant_with_shops(app, login_as, client):
    owner = make_user(email="boss@report.example")
    ent = make_enterprise(owner=owner, name="广东报表测试有限公司")
    make_shop(ent, platform_slug="tmall")
    make_shop(ent, platform_slug="jd")
    db.session.commit()
    login_as(owner)
    return owner, ent


def test_merchant_files_a_month_and_sees_it(app, client, merchant_with_shops):
    owner, ent = merchant_with_shops
    with clock.frozen(china(2026, 10, 5)):
        page = client.get("/merchant/reports").get_data(as_text=True)
        assert "2026-09" in page and "2026-10-10" in page and "待报送" in page
        resp = _file(client, ent, "2026-09", {"tmall": ("¥12,345.6", "321"), "jd": ("0", "")})
        assert resp.status_code == 303
        page = client.get("/merchant/reports").get_data(as_text=True)
    report = db.session.scalar(select(MonthlyReport))
    assert report.period == date(2026, 9, 1) and not report.late and report.revision == 1
    assert report.total_sales == Decimal("12345.60") and report.total_orders == 321
    assert "已报送" in page and "12,345.60" in page
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "report.file"))
    assert entry.after["月份"] == "2026-09" and entry.after["天猫销售额（元）"] == "12345.60"


def test_no_negatives_no_future_months_and_input_kept(app, client, merchant_with_shops):
    owner, ent = merchant_with_shops
    with clock.frozen(china(2026, 10, 5)):
        resp = _file(client, ent, "2026-09", {"tmall": ("-1", "5"), "jd": ("100", "abc")})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "请填写整数" in html and "abc" in html
        resp = _file(client, ent, "2026-09", {"tmall": ("-1", "5"), "jd": ("100", "3")})
        assert "不能填写负数" in resp.get_data(as_text=True) and 'value="-1"' in resp.get_data(as_text=True)
        assert client.get(f"/merchant/reports/{ent.id}/2026-10").status_code == 404  # the month is not over
        assert client.get(f"/merchant/reports/{ent.id}/2025-01").status_code == 404  # too old
        assert client.get(f"/merchant/reports/{ent.id}/garbage").status_code == 404
    assert db.session.query(MonthlyReport).count() == 0


def test_a_tenfold_jump_needs_a_note(app, client, merchant_with_shops):
    owner, ent = merchant_with_shops
    with clock.frozen(china(2026, 10, 5)):
        _file(client, ent, "2026-08", {"tmall": ("1000", "10"), "jd": ("500", "5")})
        resp = _file(client, ent, "2026-09", {"tmall": ("10000.01", "10"), "jd": ("500", "51")})
        html = resp.get_data(as_text=True)
        assert "超过上月的 10 倍" in html and "天猫销售额" in html and "京东订单数" in html
        assert db.session.query(MonthlyReport).count() == 1
        resp = _file(client, ent, "2026-09", {"tmall": ("10000.01", "10"), "jd": ("500", "51")},
                     note="双十一预售提前开始。")
        assert resp.status_code == 303
    assert db.session.query(MonthlyReport).count() == 2


def test_corrections_need_a_reason_are_audited_and_filed_once(app, client, merchant_with_shops):
    owner, ent = merchant_with_shops
    with clock.frozen(china(2026, 10, 5)):
        _file(client, ent, "2026-09", {"tmall": ("100", "1"), "jd": ("200", "2")})
        resp = _file(client, ent, "2026-09", {"tmall": ("150", "1"), "jd": ("200", "2")})
        assert "请填写更正说明" in resp.get_data(as_text=True)
        url = f"/merchant/reports/{ent.id}/2026-09"
        token, html = _token(client, url)
        data = {"form_token": token, "revision": "1", "reason": "漏计一笔退款冲正。",
                f"sales_{platform('tmall').id}": "150", f"orders_{platform('tmall').id}": "1",
                f"sales_{platform('jd').id}": "200", f"orders_{platform('jd').id}": "2"}
        assert client.post(url, data=data).status_code == 303
        assert client.post(url, data=data).status_code == 303  # the double click: filed once
        stale = dict(data, form_token=_token(client, url)[0], revision="1", reason="另一个窗口的更正")
        assert "已被更新" in client.post(url, data=stale).get_data(as_text=True)
    report = db.session.scalar(select(MonthlyReport))
    db.session.refresh(report)
    assert report.revision == 2 and report.total_sales == Decimal("350.00")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "report.correct"))
    assert entry.before["天猫销售额（元）"] == "100.00" and entry.after["天猫销售额（元）"] == "150.00"
    assert "漏计一笔退款冲正" in entry.note


def test_other_merchants_and_staff_cannot_file(app, client, login_as, merchant_with_shops):
    owner, ent = merchant_with_shops
    login_as(make_user())
    db.session.commit()
    with clock.frozen(china(2026, 10, 5)):
        assert client.get(f"/merchant/reports/{ent.id}/2026-09").status_code == 404
        login_as(make_user(Role.STAFF))
        db.session.commit()
        assert client.get("/merchant/reports").status_code == 403
        assert app.test_client().get("/merchant/reports").status_code == 302


def test_late_filers_and_reminders(app, client, login_as, runner):
    owners = [make_user(email=f"m{i}@report.example") for i in range(3)]
    ents = [make_enterprise(owner=o, name=f"广东逾期测试{i}有限公司") for i, o in enumerate(owners)]
    for e in ents:
        make_shop(e)
        e.certified_at = datetime(2026, 1, 5)  # certified before the month to report
    make_enterprise(owner=None)  # imported, nobody can file: not required
    db.session.commit()
    with clock.frozen(china(2026, 10, 3)):
        reports.file_report(ents[0], owners[0], date(2026, 9, 1), [reports.Figures(platform("tmall").id, Decimal("1"), 1)])
        db.session.commit()

    def run(day):
        with clock.frozen(china(*day, 8)):
            result = runner.invoke(args=["report-reminders"])
        assert result.exit_code == 0, result.output
        return [m for m in read_outbox() if "月度报表" in m["Subject"]]

    assert {m["To"] for m in run((2026, 10, 2))} == {"m1@report.example", "m2@report.example"}
    assert len(run((2026, 10, 3))) == 2  # safe to repeat
    assert len(run((2026, 10, 8))) == 4  # the last call, 2 days before the 10th
    with clock.frozen(china(2026, 10, 9)):
        reports.file_report(ents[1], owners[1], date(2026, 9, 1), [reports.Figures(platform("tmall").id, Decimal("2"), 2)])
        db.session.commit()
    with clock.frozen(china(2026, 10, 12)):
        reports.file_report(ents[2], owners[2], date(2026, 9, 1), [reports.Figures(platform("tmall").id, Decimal("3"), 3)])
        db.session.commit()
    late = [m for m in run((2026, 10, 12)) if "逾期" in m["Subject"]]
    assert late == []  # everyone has filed by then
    report = db.session.scalar(select(MonthlyReport).where(MonthlyReport.enterprise_id == ents[2].id))
    assert report.late
    login_as(make_user(Role.STAFF))
    db.session.commit()
    with clock.frozen(china(2026, 10, 12)):
        html = client.get("/staff/reports?period=2026-09").get_data(as_text=True)
    assert "广东逾期测试2有限公司" in html and "逾期报送" in html and "广东逾期测试1有限公司" not in html
    assert "100.0%" in html


def _seed_month(period, rows):
    """rows: (enterprise, platform slug, sales, orders); files the reports directly."""
    by_ent = {}
    for ent, slug, sales, orders in rows:
        by_ent.setdefault(ent, []).append(reports.Figures(platform(slug).id, Decimal(sales), orders))
    for ent, figures in by_ent.items():
        reports.file_report(ent, ent.owner, period, figures)


def _enterprises(specs):
    out = []
    for name, city_name, industry_names, slugs in specs:
        ent = make_enterprise(owner=make_user(), name=name, city_name=city_name, industries=industry_names)
        for slug in slugs:
            make_shop(ent, platform_slug=slug)
        out.append(ent)
    return out


def test_aggregates_for_staff_with_csv(app, client, login_as):
    a, b, c, d = _enterprises([("甲", "广州", ["家电"], ["tmall"]), ("乙", "广州", ["家电"], ["tmall", "jd"]),
                               ("丙", "广州", ["家电"], ["jd"]), ("丁", "佛山", ["家电"], ["tmall"])])
    with clock.frozen(china(2026, 10, 5)):
        _seed_month(date(2026, 9, 1), [(a, "tmall", "10000", 10), (b, "tmall", "20000", 20), (b, "jd", "5000", 5),
                                       (c, "jd", "30000", 30), (d, "tmall", "40000", 40)])
    login_as(make_user(Role.STAFF))
    db.session.commit()
    with clock.frozen(china(2026, 10, 12, 9)):
        html = client.get("/staff/reports?period=2026-09").get_data(as_text=True)
        resp = client.get("/staff/reports/by_city.csv?period=2026-09")
    assert 'data-chart="by_city"' in html and "stats-data" in html
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["城市", "报送企业", "网络销售额（万元）", "订单数"]
    assert ["广州", "3", "6.5", "65"] in rows and ["佛山", "1", "4.0", "40"] in rows
    assert re.search(r"gdws-reports-2026-09-by_city-20261012-09\d\d\.csv", resp.headers["Content-Disposition"])
    assert client.get("/staff/reports/nope.csv").status_code == 404
    assert client.get("/staff/reports?period=2099-01").status_code == 404


def test_public_page_suppresses_cells_under_three_enterprises(app, client):
    ents = _enterprises([("甲", "广州", ["家电"], ["tmall"]), ("乙", "广州", ["家电"], ["tmall"]),
                         ("丙", "广州", ["家电"], ["tmall"]), ("丁", "佛山", ["家电", "食品饮料"], ["tmall", "jd"]),
                         ("戊", "深圳", ["家电"], ["tmall"])])
    with clock.frozen(china(2026, 10, 5)):
        _seed_month(date(2026, 9, 1), [(e, "tmall", "10000", 10) for e in ents] + [(ents[3], "jd", "777777", 7)])
        db.session.commit()
    with clock.frozen(china(2026, 10, 11)):
        html = client.get("/statistics").get_data(as_text=True)
        cities = report_stats.cells(date(2026, 9, 1), "city")
    # totals: 5 enterprises; 广州 has 3 (shown); 佛山 and 深圳 have 1 each (hidden, 2 together: the
    # smallest shown cell must go too, or 合计 − 广州 would be the sum of two enterprises)
    assert "2026 年 09 月" in html and "报送企业" in html
    hidden = report_stats.hidden_cells(cities)
    assert all(hidden)
    assert "77.78" not in html and "7,777" not in html and "777777" not in html  # 丁's JD sales never appear
    assert html.count("suppressed") >= 4
    # before the 10th of October the latest public month is August
    with clock.frozen(china(2026, 10, 9)):
        assert "2026 年 08 月" in client.get("/statistics").get_data(as_text=True)
        assert client.get("/statistics?period=2026-09").status_code == 404


@pytest.mark.parametrize("sizes,expected", [
    ([5, 4, 3], [False, False, False]),
    ([5, 4, 2], [False, True, True]),  # 2 hidden alone could be recovered from the total
    ([5, 1, 1, 1], [False, True, True, True]),  # three hidden enterprises together: fine
    ([5, 3, 1, 1], [False, True, True, True]),
    ([2], [True]),
])
def test_secondary_suppression(sizes, expected):
    cells, n = [], 0
    for size in sizes:
        cells.append(report_stats.Cell(f"c{n}", enterprises=set(range(n, n + size)), sales=Decimal(size)))
        n += size
    assert report_stats.hidden_cells(cells) == expected
