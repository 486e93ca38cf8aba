"""Browser journeys for the security work of issue 11 (items 7 and 8) and issue 17's import dry run.

(a) staff upload an import file with many bad rows: the dry run lists the first problems with
    their bad values and says how many more there are; the page stays small and usable at 390 px;
(b) staff upload a good file: the dry run says the file is kept, and "确认导入" imports it with no
    new upload;
(c) a visitor opens a link with bytes that are not UTF-8: a Chinese 400 page in the site's layout.
"""
from __future__ import annotations

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, DESKTOP, PHONE, login, shoot

pytestmark = pytest.mark.e2e


def _uscc(n: int) -> str:
    from marketplace.validation.uscc import check_character

    body = f"91440604MA{n:07d}"[:17]
    return body + check_character(body)


def _upload(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    page.goto("/staff/import")
    page.set_input_files("input[name=enterprises]", str(path))
    page.get_by_role("button", name="上传并试运行").click()
    page.wait_for_load_state()


def test_import_dry_run_lists_bad_values_and_a_count(new_context, tmp_path):
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    rows = "".join(f"{_uscc(100 + n)},安全测试企业{n}有限公司,火星{n}\n" for n in range(260))
    _upload(page, tmp_path, "名录-有错误.csv", "uscc,name,city,colour,颜色\n" + rows)
    body = page.locator("main").inner_text()
    assert "1 处错误" in body and "未知的列名：colour、颜色" in body  # unknown columns: one problem
    _upload(page, tmp_path, "名录-有错误.csv", "uscc,name,city\n" + rows)
    body = page.locator("main").inner_text()
    assert "260 处错误" in body and "前 200 处，另有 60 处未列出" in body
    assert page.locator("table.import-errors code", has_text="火星0").count() == 1
    assert page.locator("table.import-errors tbody tr").count() == 200
    assert "确认导入" not in body
    shoot(page, "sec-import-errors")
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):  # the report's head, as first seen
        page.set_viewport_size(size)
        page.locator("section.import-report").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"sec-import-errors-top-{label}.png"))


def test_import_dry_run_keeps_the_file_for_apply(new_context, tmp_path, live_server):
    page = new_context().new_page()
    login(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    uscc = _uscc(9001)
    _upload(page, tmp_path, "名录-第二批.csv", f"uscc,name,city\n{uscc},广东安全旅程测试有限公司,佛山\n")
    body = page.locator("main").inner_text()
    assert "已保存刚才检查的文件（名录-第二批.csv" in body and "无需重新上传" in body
    shoot(page, "sec-import-kept")
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "导入完成" in page.locator("main").inner_text()
    assert live_server.sql("SELECT name FROM enterprise WHERE uscc = :u", u=uscc) == [("广东安全旅程测试有限公司",)]


def test_undecodable_link_gets_a_chinese_400_page(new_context):
    context = new_context()
    context.problems.allow(r"/search\?q=", 400)
    page = context.new_page()
    response = page.goto("/search?q=%E5%B9%BF%FF%FE")
    assert response.status == 400
    assert "无法识别的字符" in page.locator("main").inner_text()
    assert page.locator("header.site-header").count() == 1  # the site's layout, not a bare page
    shoot(page, "sec-undecodable-400")
