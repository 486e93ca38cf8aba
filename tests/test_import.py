"""CSV import (services.importer, ``flask import-data``) and the CSV export helpers."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Certification, Enterprise, Shop, Status
from marketplace.services.importer.csvfile import ENTERPRISE_COLUMNS
from marketplace.services.importer.export import export_enterprises_csv, export_shops_csv, neutralise_cell
from marketplace.services.importer.writer import run_import
from marketplace.services.synthetic import generate_rows
from tests.factories import make_enterprise, make_shop, make_uscc

U1, U2, U3 = make_uscc(900001), make_uscc(900002, area="442000"), make_uscc(900003, area="440300")

ENT_HEADER = "uscc,name,brands,city,industries,description,website,founded,badges,certified"
GOOD_ENTS = f"""{ENT_HEADER}
{U1},佛山市岭南风陶瓷有限公司,岭南风；南风,佛山,陶瓷,虚构的陶瓷企业。,https://www.lnf-demo.example.com,1998,中华老字号,是
{U2},中山市光明坊灯饰有限公司,光明坊,中山市,灯饰;家电,虚构的灯饰企业。,,2005,,否
{U3},深圳市数码侠科技有限公司,数码侠,440300,electronics,,https://sz-demo.example.cn,,,yes
"""
GOOD_SHOPS = f"""uscc,platform,name,url,shop_type
{U1},天猫,岭南风旗舰店,https://lingnanfeng.tmall.com/?spm=a1z10,旗舰店
{U1},企业自建商城,岭南风官方商城,https://shop.lnf-demo.example.com/,官方商城
{U2},jd,光明坊京东专营店,https://mall.jd.com/index-1234.html,专营店
{U3},pinduoduo,数码侠拼多多店,https://mobile.yangkeduo.com/mall_page.html?mall_id=77,
"""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def by_uscc(uscc: str) -> Enterprise:
    return db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))


def test_good_files_import_everything(app):
    report = run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    assert report.ok, report.errors
    db.session.commit()
    assert report.created == {"enterprise": 3, "shop": 4}
    ent = by_uscc(U1)
    assert ent.name == "佛山市岭南风陶瓷有限公司"
    assert ent.brand_names == ["岭南风", "南风"]
    assert ent.city.name == "佛山" and [i.name for i in ent.industries] == ["陶瓷"]
    assert [b.name for b in ent.badges] == ["中华老字号"]
    assert ent.website == "https://www.lnf-demo.example.com/" and ent.founded_year == 1998
    assert ent.status == Status.CERTIFIED and ent.certified_at is not None
    assert ent.source == "import" and ent.owner_id is None
    assert ent.name_sort.startswith("fo shan shi ling nan feng")
    cert = ent.certificate
    assert cert.number.startswith("GDWS-") and len(cert.number.split("-")[2]) == 6
    assert (cert.valid_until - cert.issued_on).days == app.config["CERTIFICATE_VALID_DAYS"]
    assert {s.status for s in ent.shops} == {Status.CERTIFIED}
    assert ent.shops[0].url == "https://lingnanfeng.tmall.com/"  # tracking parameter dropped
    assert ent.shops[1].shop_type == "官方商城"
    draft = by_uscc(U2)
    assert draft.status == Status.DRAFT and not draft.certifications
    assert draft.city.name == "中山" and {i.name for i in draft.industries} == {"灯饰", "家电"}
    assert draft.shops[0].status == Status.DRAFT
    sz = by_uscc(U3)
    assert sz.city.name == "深圳" and sz.industries[0].name == "电子产品"
    assert sz.shops[0].shop_type == "旗舰店"  # default for a platform shop
    assert count(Certification) == 2
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"import.enterprise_create", "import.shop_create", "import.run"} <= actions


def test_second_import_changes_nothing(app):
    run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    db.session.commit()
    before = {e.uscc: e.updated_at for e in db.session.scalars(select(Enterprise))}
    audit_rows = count(AuditLog)
    report = run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    assert report.ok
    db.session.commit()
    assert report.created == {"enterprise": 0, "shop": 0}
    assert report.updated == {"enterprise": 0, "shop": 0}
    assert report.unchanged == {"enterprise": 3, "shop": 4}
    assert count(Certification) == 2 and count(Shop) == 4
    assert {e.uscc: e.updated_at for e in db.session.scalars(select(Enterprise))} == before
    assert count(AuditLog) == audit_rows


def test_changed_row_is_updated_and_certifying_a_draft_issues_certificate(app):
    run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    db.session.commit()
    changed = GOOD_ENTS.replace("虚构的陶瓷企业。", "新的简介。").replace(
        "虚构的灯饰企业。,,2005,,否", "虚构的灯饰企业。,,2005,,是")
    shops = GOOD_SHOPS.replace("光明坊京东专营店", "光明坊京东旗舰店")
    report = run_import(changed.encode(), shops.encode(), dry_run=False)
    assert report.ok, report.errors
    db.session.commit()
    assert report.updated == {"enterprise": 2, "shop": 1}
    assert report.unchanged == {"enterprise": 1, "shop": 3}
    assert by_uscc(U1).description == "新的简介。"
    lit = by_uscc(U2)
    assert lit.status == Status.CERTIFIED and lit.certificate is not None
    assert lit.shops[0].name == "光明坊京东旗舰店" and lit.shops[0].status == Status.CERTIFIED


def test_import_never_demotes_or_reinstates(app):
    revoked = make_enterprise(status=Status.REVOKED, uscc=U1)
    certified = make_enterprise(uscc=U2)
    db.session.commit()
    text = f"""{ENT_HEADER}
{U1},{revoked.name},,佛山,,,,,,是
{U2},{certified.name},,佛山,,,,,,否
"""
    report = run_import(text.encode(), None, dry_run=False)
    assert report.ok, report.errors
    assert by_uscc(U1).status == Status.REVOKED
    assert by_uscc(U2).status == Status.CERTIFIED


def test_gbk_file(app):
    report = run_import(GOOD_ENTS.encode("gbk"), GOOD_SHOPS.encode("gb18030"), dry_run=False)
    assert report.ok, report.errors
    assert by_uscc(U1).brand_names == ["岭南风", "南风"]


def test_bom_file_and_crlf(app):
    data = GOOD_ENTS.replace("\n", "\r\n").encode("utf-8-sig")
    report = run_import(data, None, dry_run=False)
    assert report.ok, report.errors
    assert by_uscc(U1).name == "佛山市岭南风陶瓷有限公司"


def test_chinese_headers(app):
    ents = GOOD_ENTS.replace(ENT_HEADER, "统一社会信用代码,企业名称,品牌,城市,行业,简介,官网,成立年份,标识,已认证")
    shops = GOOD_SHOPS.replace("uscc,platform,name,url,shop_type", "统一社会信用代码,平台,店铺名称,网址,店铺类型")
    report = run_import(ents.encode("gbk"), shops.encode("utf-8-sig"), dry_run=False)
    assert report.ok, report.errors
    assert report.created == {"enterprise": 3, "shop": 4}


def test_dry_run_writes_nothing_but_reports(app):
    report = run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=True)
    assert report.ok and report.dry_run
    assert report.created == {"enterprise": 3, "shop": 4}
    db.session.commit()
    assert count(Enterprise) == 0 and count(Shop) == 0 and count(Certification) == 0
    assert count(AuditLog) == 0


BAD_ENTS = f"""{ENT_HEADER}
{U1},佛山市岭南风陶瓷有限公司,岭南风,佛山,陶瓷,,,1998,,是
91440606MA4UXXXXX1,坏代码有限公司,,佛山,,,,,,否
{U2},,品牌,火星,玩具;魔法,,javascript:alert(1),19x8,金牌,也许
{U1},重复代码有限公司,,广州,,,,,,否
{U3},名称\x00有空字符,,深圳,,,,,,是
"""
BAD_SHOPS = f"""uscc,platform,name,url,shop_type
{U1},天猫,假天猫店,https://tmall.com.evil.example/shop,旗舰店
{U1},京东,正常京东店,https://mall.jd.com/index-1.html,专卖店
{make_uscc(999999)},tmall,无主店铺,https://x.tmall.com/,
{U1},不存在平台,店,https://x.example.com/,
{U1},jd,重复网址店,https://mall.jd.com/index-1.html?spm=1,
{U1},jd,类型错误店,https://mall.jd.com/index-2.html,直营店
"""


def _errors(report):
    return {(e.file, e.line, e.column) for e in report.errors}


def test_bad_rows_reject_the_whole_import_and_every_bad_row_is_reported(app):
    report = run_import(BAD_ENTS.encode(), BAD_SHOPS.encode(), dry_run=False)
    assert not report.ok
    db.session.commit()
    assert count(Enterprise) == 0 and count(Shop) == 0 and count(AuditLog) == 0
    found = _errors(report)
    e, s = "enterprises.csv", "shops.csv"
    expected = {
        (e, 3, "uscc"),
        (e, 4, "name"), (e, 4, "city"), (e, 4, "industries"), (e, 4, "website"), (e, 4, "founded"),
        (e, 4, "badges"), (e, 4, "certified"),
        (e, 5, "uscc"),  # duplicate of line 2
        (e, 6, "name"),
        (s, 2, "url"), (s, 4, "uscc"), (s, 5, "platform"), (s, 6, "url"), (s, 7, "shop_type"),
    }
    assert expected <= found, sorted(found)
    assert len(report.errors) == len(expected)
    reasons = {(e.line, e.column): e.reason for e in report.errors if e.file == "enterprises.csv"}
    assert "校验位" in reasons[(3, "uscc")] or "字符" in reasons[(3, "uscc")]
    assert "火星" in reasons[(4, "city")]
    assert "魔法" in reasons[(4, "industries")]
    assert "http" in reasons[(4, "website")]
    assert "第 2 行" in reasons[(5, "uscc")]
    shop_reasons = {(e.line, e.column): e.reason for e in report.errors if e.file == "shops.csv"}
    assert "不属于天猫" in shop_reasons[(2, "url")]
    assert "第 3 行" in shop_reasons[(6, "url")]
    assert all(str(err) for err in report.errors)


def test_errors_use_the_header_as_written(app):
    ents = f"统一社会信用代码,企业名称,城市\n{U1},某公司,不存在市\n"
    report = run_import(ents.encode(), None, dry_run=False)
    assert [(e.line, e.column) for e in report.errors] == [(2, "城市")]


def test_shop_url_already_listed_by_another_enterprise_is_refused(app):
    other = make_enterprise()
    make_shop(other, url="https://taken.tmall.com/")
    db.session.commit()
    shops = f"uscc,platform,name,url,shop_type\n{U1},tmall,店,https://TAKEN.tmall.com/?spm=9,\n"
    ents = f"{ENT_HEADER}\n{U1},某某有限公司,,佛山,,,,,,是\n"
    report = run_import(ents.encode(), shops.encode(), dry_run=False)
    assert not report.ok
    assert "其他企业" in report.errors[0].reason
    assert count(Enterprise) == 1


def test_own_site_requires_the_enterprise_domain(app):
    ents = f"{ENT_HEADER}\n{U1},某某有限公司,,佛山,,,https://www.brand-demo.example,,,是\n{U2},无官网有限公司,,中山,,,,,,是\n"
    shops = (f"uscc,platform,name,url,shop_type\n{U1},own-site,官方商城,https://shop.other-demo.example/,\n"
             f"{U2},own-site,官方商城,https://shop.x-demo.example.com/,\n")
    report = run_import(ents.encode(), shops.encode(), dry_run=False)
    assert [(e.line, e.column) for e in report.errors] == [(2, "url"), (3, "url")]
    assert "brand-demo.example" in report.errors[0].reason
    assert "官网" in report.errors[1].reason


def test_unknown_and_missing_headers(app):
    report = run_import(b"uscc,name,colour\n", None, dry_run=False)
    cols = {e.column for e in report.errors}
    assert "colour" in cols and "city" in cols
    report = run_import(b"", None, dry_run=False)
    assert not report.ok


def test_undecodable_file_is_reported(app):
    report = run_import(b"uscc,name,city\n\xff\xfe\xfa\x00\x81", None, dry_run=False)
    assert not report.ok and "编码" in report.errors[0].reason
    assert count(Enterprise) == 0


def test_shops_alone_attach_to_stored_enterprise(app):
    ent = make_enterprise(uscc=U1)
    db.session.commit()
    shops = f"uscc,platform,name,url,shop_type\n{U1},京东,京东店,https://mall.jd.com/index-9.html,专卖店\n"
    report = run_import(None, shops.encode(), dry_run=False)
    assert report.ok, report.errors
    assert ent.shops[-1].status == Status.CERTIFIED


def test_neutralise_cell():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise_cell(bad).startswith("'")
    assert neutralise_cell("普通文本") == "普通文本"
    assert neutralise_cell(None) == "" and neutralise_cell(1998) == "1998"


def test_export_is_excel_safe_and_reimports(app):
    ents = f"""{ENT_HEADER}
{U1},"=HYPERLINK(""http://evil.example"",""x"")",@品牌,佛山,陶瓷,"-2+3 公式",,1998,,是
{U2},+中山某某有限公司,光明坊,中山,灯饰,正常简介,,,,否
"""
    report = run_import(ents.encode(), None, dry_run=False)
    assert report.ok, report.errors
    db.session.commit()
    rows = list(db.session.scalars(select(Enterprise).order_by(Enterprise.id)))
    data = export_enterprises_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(parsed[0]) == ENTERPRISE_COLUMNS
    for row in parsed[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert parsed[1][1].startswith("'=HYPERLINK")
    # the export imports back unchanged
    again = run_import(data, None, dry_run=False)
    assert again.ok, again.errors
    assert again.unchanged["enterprise"] == 2
    shops_csv = export_shops_csv(db.session.scalars(select(Shop)))
    assert shops_csv.startswith(b"\xef\xbb\xbf")


def test_cli_import_data(app, runner, tmp_path):
    ents = tmp_path / "e.csv"
    shops = tmp_path / "s.csv"
    ents.write_bytes(GOOD_ENTS.encode("gbk"))
    shops.write_bytes(GOOD_SHOPS.encode())
    result = runner.invoke(args=["import-data", "--enterprises", str(ents), "--shops", str(shops), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output and count(Enterprise) == 0
    result = runner.invoke(args=["import-data", "--enterprises", str(ents), "--shops", str(shops)])
    assert result.exit_code == 0, result.output
    assert "企业：新增 3" in result.output and "用时" in result.output
    db.session.expire_all()
    assert count(Enterprise) == 3
    result = runner.invoke(args=["import-data", "--enterprises", str(ents), "--shops", str(shops)])
    assert "未变 3" in result.output and "未变 4" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_ENTS.encode())
    result = runner.invoke(args=["import-data", "--enterprises", str(bad)])
    assert result.exit_code == 1
    assert "未写入任何数据" in result.output and "第 4 行" in result.output


def test_synthetic_set_imports(app, runner, tmp_path):
    ents, shops = generate_rows(60, 200, seed=7)
    assert len(ents) == 60 and len(shops) == 200
    assert len({r["uscc"] for r in ents}) == 60 and len({r["url"] for r in shops}) == 200
    result = runner.invoke(args=["generate-data", "--enterprises", "60", "--shops", "200", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = run_import((tmp_path / "enterprises.csv").read_bytes(), (tmp_path / "shops.csv").read_bytes(),
                        dry_run=False)
    assert report.ok, report.errors[:5]
    assert report.created == {"enterprise": 60, "shop": 200}
    assert generate_rows(60, 200, seed=7) == (ents, shops)  # deterministic


@pytest.mark.parametrize("value,expected", [("是", True), ("YES", True), ("1", True), ("否", False),
                                             ("no", False), ("0", False)])
def test_certified_words(app, value, expected):
    report = run_import(f"{ENT_HEADER}\n{U1},某某有限公司,,佛山,,,,,,{value}\n".encode(), None, dry_run=False)
    assert report.ok
    assert (by_uscc(U1).status == Status.CERTIFIED) is expected


def test_excel_unicode_text_utf16_tab_separated(app):
    text = GOOD_ENTS.replace(",", "\t")
    report = run_import(text.encode("utf-16"), None, dry_run=False)
    assert report.ok, report.errors
    assert by_uscc(U1).brand_names == ["岭南风", "南风"]


def test_blank_lines_are_skipped_and_line_numbers_count_them(app):
    text = f"{ENT_HEADER}\n\n{U1},某某有限公司,,佛山,,,,,,是\n,,,,,,,,,\n{U2},另一有限公司,,火星,,,,,,否\n"
    report = run_import(text.encode(), None, dry_run=False)
    assert [(e.line, e.column) for e in report.errors] == [(5, "city")]


def test_too_many_cells_is_an_error(app):
    text = f"{ENT_HEADER}\n{U1},某某有限公司,,佛山,,简介,含逗号,,,,是\n"
    report = run_import(text.encode(), None, dry_run=False)
    assert not report.ok and "多于表头" in report.errors[0].reason


def test_shop_of_a_bad_enterprise_row_says_so(app):
    ents = f"{ENT_HEADER}\n{U1},某某有限公司,,火星,,,,,,是\n"
    shops = f"uscc,platform,name,url,shop_type\n{U1},tmall,店,https://a.tmall.com/,\n"
    report = run_import(ents.encode(), shops.encode(), dry_run=False)
    assert [(e.file, e.line, e.column) for e in report.errors] == [
        ("enterprises.csv", 2, "city"), ("shops.csv", 2, "uscc")]
    assert "enterprises.csv 中的行有错误" in report.errors[1].reason


def test_neutralise_property():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from marketplace.services.importer.csvfile import _unneutralise

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from("=+-@\t\r'a中 1"), max_size=6) | st.text(max_size=20))
    def check(text):
        cell = neutralise_cell(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert _unneutralise(cell) == text

    check()


def test_imported_rows_are_queued_for_the_search_index(app):
    from marketplace.models import SearchOutbox

    run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    db.session.commit()
    queued = set(db.session.execute(select(SearchOutbox.entity, SearchOutbox.entity_id)).all())
    ent_ids = set(db.session.scalars(select(Enterprise.id)))
    shop_ids = set(db.session.scalars(select(Shop.id)))
    assert {("enterprise", i) for i in ent_ids} <= queued
    assert {("shop", i) for i in shop_ids} <= queued


def test_rollback_after_import_leaves_nothing(app):
    from marketplace.models import SearchOutbox

    outbox_before = count(SearchOutbox)  # the reference data's platforms
    report = run_import(GOOD_ENTS.encode(), GOOD_SHOPS.encode(), dry_run=False)
    assert report.ok
    assert count(SearchOutbox) > outbox_before
    db.session.rollback()
    assert count(Enterprise) == 0 and count(Shop) == 0 and count(AuditLog) == 0
    assert count(SearchOutbox) == outbox_before and count(Certification) == 0


# --- bounded reports (issue 11 item 8) --------------------------------------------------------


def test_a_hundred_thousand_unknown_columns_make_one_small_problem(app):
    """A CSV with 100,000 unknown columns made a 34 MB error page: one problem per column, each
    repeating the list of valid columns. Now the header is refused as too wide, once."""
    header = "uscc,name,city," + ",".join(f"列{n}" for n in range(100_000))
    report = run_import((header + "\n").encode(), None, dry_run=True)
    assert report.error_count == 1 and len(report.errors) == 1
    assert "100003 列" in report.errors[0].reason
    assert sum(len(str(e)) for e in report.errors) < 500


def test_unknown_columns_are_listed_once(app):
    header = "uscc,name,city," + ",".join(f"colour{n}" for n in range(40))
    report = run_import((header + "\n").encode(), None, dry_run=True)
    assert report.error_count == 1
    reason = report.errors[0].reason
    assert "colour0" in reason and "colour19" in reason and "colour20" not in reason and "等 40 个" in reason
    assert reason.count("可用的列") == 1


def test_report_lists_the_first_200_problems_and_counts_the_rest(app):
    rows = "".join(f"{make_uscc(700000 + n)},公司{n},火星\n" for n in range(1000))
    report = run_import(("uscc,name,city\n" + rows).encode(), None, dry_run=True)
    assert not report.ok
    assert len(report.errors) == 200 and report.error_count == 1000 and report.unlisted == 800
    assert [e.line for e in report.errors[:3]] == [2, 3, 4]


def test_every_problem_is_small_and_shows_the_bad_value(app):
    huge_city = "火" * 15_000
    unknown = "；".join(f"行业{n}" for n in range(3000))
    ents = f"uscc,name,city,industries\n{make_uscc(700001)},某公司,{huge_city},家电\n{make_uscc(700002)},某公司二,佛山,{unknown}\n"
    report = run_import(ents.encode(), None, dry_run=True)
    by_column = {e.column: e for e in report.errors}
    assert set(by_column) == {"city", "industries"}
    assert by_column["city"].value.startswith("火火火") and len(by_column["city"].value) <= 61
    assert "等 3000 个" in by_column["industries"].reason and len(by_column["industries"].reason) < 400
    assert all(len(str(e)) < 700 for e in report.errors)


def test_rows_longer_than_the_limit_are_refused(app):
    from marketplace.services.importer.csvfile import MAX_ROW_CHARS

    ents = f"uscc,name,city,description\n{make_uscc(700003)},某公司,佛山,{'长' * (MAX_ROW_CHARS + 1)}\n"
    report = run_import(ents.encode(), None, dry_run=True)
    assert [(e.line, e.column) for e in report.errors] == [(2, "")]
    assert str(MAX_ROW_CHARS) in report.errors[0].reason
    unclosed = f'uscc,name,city\n{make_uscc(700004)},"某公司,佛山\n' + "x" * 200_000
    report = run_import(unclosed.encode(), None, dry_run=True)
    assert not report.ok and "双引号" in report.errors[0].reason and "field" not in report.errors[0].reason


def test_cli_prints_the_first_problems_and_the_count(app, runner, tmp_path):
    rows = "".join(f"{make_uscc(710000 + n)},公司{n},火星\n" for n in range(300))
    path = tmp_path / "bad.csv"
    path.write_text("uscc,name,city\n" + rows, encoding="utf-8")
    result = runner.invoke(args=["import-data", "--enterprises", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "发现 300 处错误" in result.output and "另有 100 处错误未列出" in result.output
    assert result.output.count("bad.csv 第") == 200
