"""Statistics (page, CSV per chart), CSV import in the console (dry run then apply), export
(formula injection neutralised, UTF-8 BOM), and the read-only audit log."""
import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, ClickEvent, Enterprise, Role
from marketplace.clock import utc_now
from marketplace.services import stats
from tests.factories import make_application, make_complaint, make_enterprise, make_shop, make_user, make_uscc


def _staff(login_as, role=Role.STAFF):
    user = make_user(role)
    db.session.commit()
    login_as(user)
    return user


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_stats_page_and_numbers(app, client, login_as):
    e1 = make_enterprise(city_name="广州", industries=["服装"])
    make_shop(e1)
    make_shop(e1, platform_slug="jd")
    e2 = make_enterprise(city_name="汕头", industries=["服装"])
    make_shop(e2, status="pending")
    make_enterprise(status="pending", certificate=False, city_name="汕头")
    a = make_application(e1, applicant=make_user())
    a.status, a.decided_at = "approved", a.submitted_at + timedelta(hours=5)
    make_application(e2, applicant=make_user())
    db.session.add(ClickEvent(shop_id=e1.shops[0].id, at=utc_now()))
    make_complaint(e1)
    _staff(login_as)
    resp = client.get("/staff/stats")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="stats-data"' in html and "vendor/echarts/echarts.min.js" in html and "js/staff-stats.js" in html
    assert "<script>" not in html.replace('<script type="application/json" id="stats-data">', "")
    city = {r[0]: r for r in stats.by_city().rows}
    assert len(city) == 21 and city["广州"][2:] == [1, 2] and city["汕头"][2:] == [1, 0]
    assert stats.by_city().rows[0][0] in ("广州", "汕头")
    region = {r[0]: r[1:] for r in stats.by_region().rows}
    assert region["珠三角"] == [1, 2] and region["粤东"] == [1, 0]
    assert dict(stats.by_industry().rows)["服装"] == 2
    assert dict(stats.by_platform().rows)["京东"] == 1
    weekly = stats.weekly()
    assert sum(r[1] for r in weekly.rows) == 2 and sum(r[2] for r in weekly.rows) == 1
    assert [r for r in weekly.rows if r[4] is not None][0][4] == 5.0
    assert sum(r[1] for r in stats.clicks().rows) == 1
    assert dict((r[0], r[1]) for r in stats.complaints_by_kind().rows)["假冒伪劣"] == 1
    assert dict(stats.progress().rows)["已认证企业"] == 2


def test_every_chart_downloads_as_csv(app, client, login_as):
    make_enterprise(name="=HYPERLINK(\"http://evil.example\")有限公司", brands=["+cmd"])
    _staff(login_as)
    for name in stats.TABLES:
        resp = client.get(f"/staff/stats/{name}.csv")
        assert resp.status_code == 200 and resp.mimetype == "text/csv"
        rows = _rows(resp.data)
        assert rows[0] and all(not c.startswith(("=", "+", "-", "@")) for r in rows for c in r)
    assert client.get("/staff/stats/nope.csv").status_code == 404
    assert client.get("/staff/stats.json").get_json()["charts"]


def test_safe_cell():
    for bad in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"):
        assert stats.safe_cell(bad).startswith("'")
    assert stats.safe_cell(-3) == "-3" and stats.safe_cell("正常") == "正常" and stats.safe_cell(None) == ""


def test_export_neutralises_formulas(app, client, login_as):
    make_enterprise(name="=cmd|' /C calc'!A0 有限公司", brands=["@SUM(1,2)"], description="-2+3")
    make_enterprise(name="草稿企业有限公司", status="draft", certificate=False)
    _staff(login_as)
    resp = client.post("/staff/export.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = _rows(resp.data)
    assert len(rows) == 2  # header + the certified one (default filter)
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "'=cmd|' /C calc'!A0 有限公司" in rows[1]
    everything = _rows(client.post("/staff/export.csv", data={"status": "all"}).data)
    assert len(everything) == 3
    assert len(_rows(client.post("/staff/export.csv", data={"status": "all", "q": "草稿"}).data)) == 2
    assert len(_rows(client.post("/staff/export.csv", data={"q": "%"}).data)) == 2  # no wildcard tricks
    assert client.post("/staff/export.csv", csrf=False).status_code == 400
    shops = _rows(client.post("/staff/export.csv", data={"file": "shops"}).data)
    assert shops[0][0] in ("uscc", "统一社会信用代码")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "export.enterprises")) is not None


def test_import_dry_run_then_apply(app, client, login_as):
    _staff(login_as)
    good = make_uscc(987654)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    header = "uscc,name,brands,city,industries,description,website,founded,badges,certified\n"
    bad_csv = (header + f"{good},广东导入测试有限公司,导入牌,佛山,家电,简介,,2001,,是\n"
               + f"{bad},坏行有限公司,坏牌,不存在的城市,家电,简介,,2001,,是\n").encode()
    resp = client.post("/staff/import", data={"enterprises": (io.BytesIO(bad_csv), "enterprises.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "错误" in html and "确认导入" not in html
    assert "<td>3</td>" in html and "不存在的城市" in html  # line number and reason of the bad row
    assert db.session.query(Enterprise).count() == 0
    good_csv = (header + f"{good},广东导入测试有限公司,导入牌,佛山,家电,简介,,2001,,是\n").encode("gb18030")
    resp = client.post("/staff/import", data={"enterprises": (io.BytesIO(good_csv), "enterprises.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "确认导入" in html
    assert db.session.query(Enterprise).count() == 0  # a dry run writes nothing
    import re
    token = re.search(r'name="token" type="hidden" value="([^"]+)"|name="token" value="([^"]+)"|value="([^"]+)" name="token"', html)
    token = next(g for g in token.groups() if g)
    resp = client.post("/staff/import/apply", data={"token": token})
    assert resp.status_code == 200 and "导入完成" in resp.get_data(as_text=True)
    assert db.session.query(Enterprise).filter_by(uscc=good).one().name == "广东导入测试有限公司"
    # the stash is gone: applying twice is refused
    resp = client.post("/staff/import/apply", data={"token": token})
    assert resp.status_code == 302
    assert client.post("/staff/import/apply", data={"token": "../../etc/passwd"}).status_code == 302


def test_audit_log_browsable_and_filterable(app, client, login_as):
    ent = make_enterprise(owner=make_user())
    shop = make_shop(ent)
    other = make_enterprise()
    staff = _staff(login_as)
    client.post(f"/staff/shops/{shop.id}/status", data={"action": "suspended", "reason": "核查"})
    client.post(f"/staff/enterprises/{other.id}/status", data={"action": "revoked", "reason": "失效"})
    html = client.get(f"/staff/audit?enterprise={ent.id}").get_data(as_text=True)
    assert "shop.suspended" in html and "enterprise.revoked" not in html
    html = client.get(f"/staff/audit?actor={staff.id}").get_data(as_text=True)
    assert "shop.suspended" in html and "enterprise.revoked" in html
    assert "enterprise.revoked" not in client.get("/staff/audit?action=shop.").get_data(as_text=True)
    assert client.get("/staff/audit?page=9999").status_code == 200
    # no route edits or deletes audit entries
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.integers(min_value=0), st.none()), min_size=1, max_size=5))
def test_csv_cells_never_start_with_formula_character(values):
    """Property: whatever the data, no exported cell starts with = + - @ tab or CR."""
    table = stats.Table("t", "t", [f"c{i}" for i in range(len(values))], [values])
    rows = list(csv.reader(io.StringIO(stats.to_csv(table).decode("utf-8-sig"), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_import_of_a_hundred_thousand_unknown_columns_is_a_small_page(app, client, login_as):
    """Issue 11 item 8: the dry run of such a file rendered a 34 MB page."""
    _staff(login_as)
    header = "uscc,name,city," + ",".join("x" * 100_000)  # 200 KB: the test client keeps it in memory
    resp = client.post("/staff/import", data={"enterprises": (io.BytesIO((header + "\n").encode()), "wide.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    assert len(resp.data) < 100_000
    html = resp.get_data(as_text=True)
    assert "1 处错误" in html and "100003 列" in html and "wide.csv" in html


def test_import_dry_run_lists_200_problems_with_their_values_and_a_count(app, client, login_as):
    """Issue 17 item 6: the dry run shows each bad value."""
    _staff(login_as)
    rows = "".join(f"{make_uscc(720000 + n)},公司{n},火星{n}\n" for n in range(450))
    resp = client.post("/staff/import", data={"enterprises": (io.BytesIO(("uscc,name,city\n" + rows).encode()),
                                                              "enterprises.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "450 处错误" in html and "前 200 处，另有 250 处未列出" in html
    assert "<code>火星0</code>" in html and "<code>火星199</code>" in html and "火星200<" not in html
    assert len(resp.data) < 300_000


def test_import_dry_run_says_which_file_is_kept_for_apply(app, client, login_as):
    """Issue 17 item 6: the file checked in the dry run is kept; "apply" imports it without a new upload."""
    _staff(login_as)
    good = make_uscc(987655)
    csv_bytes = ("uscc,name,city\n" + f"{good},广东保留文件测试有限公司,佛山\n").encode()
    resp = client.post("/staff/import", data={"enterprises": (io.BytesIO(csv_bytes), "名录-第一批.csv")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "已保存刚才检查的文件（名录-第一批.csv" in html and "无需重新上传" in html
    token = re.search(r'name="token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="token"', html)
    token = next(g for g in token.groups() if g)
    resp = client.post("/staff/import/apply", data={"token": token})
    assert "导入完成" in resp.get_data(as_text=True)
    assert db.session.query(Enterprise).filter_by(uscc=good).one().name == "广东保留文件测试有限公司"
