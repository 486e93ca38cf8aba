"""Staff console readability: the audit log in words, export names in China time with Chinese
headers, status pills with enough contrast, touch targets large enough (issue 17, point 6)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import AuditLog, Enterprise, Role
from marketplace.services.audit import record
from marketplace.services.audit_view import action_label, readable
from tests.factories import city, industry, make_enterprise, make_shop, make_user

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "site.css"


def test_action_names_in_chinese():
    assert action_label("complaint.accept") == "投诉：受理"
    assert action_label("application.approve.claim") == "申请：通过（认领企业）"
    assert action_label("shop.suspended") == "店铺：暂停"
    assert action_label("report.correct") == "月度报表：更正"
    assert action_label("something.new") == "something：new"  # unknown actions are shown as stored


def test_audit_page_reads_field_by_field_in_china_time(app, client, login_as):
    staff = make_user(Role.STAFF, email="auditor@gdws.example")
    ent = make_enterprise(name="广东审计测试有限公司")
    foshan, shenzhen = city("佛山"), city("深圳")
    with clock.frozen(datetime(2026, 9, 30, 17, 30)):  # 01:30 on 1 October in China
        record("enterprise.update", actor=staff, entity_kind="enterprise", entity_id=ent.id, enterprise_id=ent.id,
               before={"name": "旧名“引号”有限公司", "city_id": foshan.id, "industry_ids": [industry("家电").id]},
               after={"name": "新名称有限公司", "city_id": shenzhen.id, "industry_ids": [industry("陶瓷").id]})
        record("shop.suspended", actor=staff, entity_kind="shop", entity_id=1, enterprise_id=ent.id,
               before={"status": "certified"}, after={"status": "suspended", "reason": "售假"}, note="售假")
    login_as(staff)
    db.session.commit()
    html = client.get("/staff/audit").get_data(as_text=True)
    assert "2026-10-01 01:30:00" in html  # China time
    assert "企业：修改" in html and "店铺：暂停" in html
    for words in ("名称", "城市", "行业", "佛山", "深圳", "家电", "陶瓷", "已认证", "已暂停", "旧名“引号”有限公司"):
        assert words in html, words
    assert "\\u" not in html and "&#34;" not in html and '{"' not in html  # no JSON escapes
    entries = readable(list(db.session.scalars(select(AuditLog).order_by(AuditLog.id))))
    changes = {c.label: (c.before, c.after) for c in entries[0].changes}
    assert changes["城市"] == ("佛山", "深圳") and changes["行业"] == ("家电", "陶瓷")
    # filtering by a Chinese-named action group keeps working with the raw prefix
    assert "店铺：暂停" not in client.get("/staff/audit?action=enterprise.").get_data(as_text=True)


def test_export_file_name_in_china_time_and_chinese_headers_reimport(app, client, login_as):
    ent = make_enterprise(name="广东导出测试有限公司")
    make_shop(ent)
    login_as(make_user(Role.STAFF))
    db.session.commit()
    with clock.frozen(datetime(2026, 9, 30, 17, 5)):  # 01:05 on 1 October in China
        plain = client.post("/staff/export.csv")
        chinese = client.post("/staff/export.csv", data={"headers": "zh"})
        shops = client.post("/staff/export.csv", data={"headers": "zh", "file": "shops"})
    assert "gdws-enterprises-20261001-0105.csv" in plain.headers["Content-Disposition"]
    header = next(csv.reader(io.StringIO(chinese.data.decode("utf-8-sig"))))
    assert header[:3] == ["统一社会信用代码", "企业名称", "品牌"] and all(not h.isascii() for h in header)
    assert next(csv.reader(io.StringIO(shops.data.decode("utf-8-sig"))))[:2] == ["统一社会信用代码", "平台"]
    assert next(csv.reader(io.StringIO(plain.data.decode("utf-8-sig"))))[0] == "uscc"
    # the Chinese-headed file imports back (dry run: no errors, nothing written)
    db.session.delete(db.session.get(Enterprise, ent.id))
    db.session.commit()
    resp = client.post("/staff/import", content_type="multipart/form-data",
                       data={"enterprises": (io.BytesIO(chinese.data), "enterprises.csv")})
    assert "确认导入" in resp.get_data(as_text=True)


def _colors():
    css = CSS.read_text()
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if ".status" not in selector:
            continue
        bg = re.search(r"background:\s*([^;]+);", body)
        fg = re.search(r"(?<![-\w])color:\s*([^;]+);", body)
        if bg and fg:
            resolve = lambda v: variables.get(v.strip()[6:-1], v.strip()) if v.strip().startswith("var(") else v.strip()  # noqa: E731
            yield selector.strip(), resolve(fg.group(1)), resolve(bg.group(1))


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_status_pills_have_at_least_4_5_to_1_contrast():
    checked = 0
    for selector, fg, bg in _colors():
        if not (fg.startswith("#") and bg.startswith("#")):
            continue
        light, dark = sorted([_luminance(fg), _luminance(bg)], reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 4.5, f"{selector}: {fg} on {bg} is {ratio:.2f}:1"
        checked += 1
    assert checked >= 8


def test_every_complaint_and_report_status_has_a_pill_style():
    css = CSS.read_text()
    for status in ("new", "negotiating", "mediating", "resolved", "unresolved", "dismissed", "filed", "late",
                   "missing", "due"):
        assert f".status-{status}" in css, status
