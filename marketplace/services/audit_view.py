"""The audit log as staff read it: Chinese action names, China time and field-by-field changes.

Entries store machine values (``complaint.accept``, ``{"status": "new", "city_id": 5}``); this
module turns a page of them into words — action and field names in Chinese, statuses by their
labels, ids by the names they stand for (one query per kind for the whole page), timestamps in
China time — and pairs each field's value before and after. Unknown actions and fields are shown
as stored, so entries written by newer code never break the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import (
    AppKind, AppStatus, AuditLog, CertStatus, City, ComplaintFeedback, ComplaintStatus, Industry, Placement,
    ObjectionStatus, Platform, Role, Status, SynonymKind, User,
)

SUBJECTS = {
    "application": "申请", "enterprise": "企业", "shop": "店铺", "complaint": "投诉", "featured": "推荐位",
    "badge": "标识", "certificate": "证书", "import": "导入", "export": "导出", "account": "账号",
    "report": "月度报表", "objection": "公示异议", "gongshi": "公示", "product": "商品",
}
VERBS = {
    "create": "新建", "update": "修改", "delete": "删除", "submit": "提交", "approve": "通过", "reject": "驳回",
    "withdraw": "撤回", "suspended": "暂停", "revoked": "撤销", "reinstate": "恢复", "logo": "更换标志",
    "grant": "授予", "remove": "移除", "move": "调整顺序", "end": "提前结束", "expire": "到期下线",
    "expiry_warning": "到期提醒", "apply": "确认导入", "run": "导入完成", "enterprises": "企业表", "shops": "店铺表",
    "enterprise_create": "新建企业", "enterprise_update": "更新企业", "shop_create": "新建店铺",
    "shop_update": "更新店铺", "enable": "启用", "disable": "停用", "assign": "指派", "reply": "回复",
    "merchant_response": "商家回复", "resolved": "办结（已解决）", "unresolved": "办结（未解决）",
    "dismissed": "不予受理", "accept": "受理", "mediate": "转入调解", "negotiation_expired": "协商期满转调解",
    "settled": "商家协商和解", "confirmed": "消费者确认满意", "objection": "消费者提出异议",
    "reopen": "异议成立，重新调解", "objection_reviewed": "异议复核，维持结果", "file": "报送", "correct": "更正",
    "lodge": "提出", "uphold": "成立（退回审核）", "dismiss": "不成立", "effective": "期满生效",
    "code_verified": "验证码已核实", "code_waived": "免除核实验证码", "evidence": "更新认证材料",
}
ENTITIES = {
    "application": "申请", "enterprise": "企业", "shop": "店铺", "complaint": "投诉", "certificate": "证书",
    "featured_slot": "推荐位", "synonym": "同义词规则", "import": "导入", "export": "导出", "user": "账号",
    "monthly_report": "月度报表", "objection": "公示异议", "product": "商品",
}
FIELDS = {
    "status": "状态", "reason": "理由", "name": "名称", "brands": "品牌", "city_id": "城市", "industry_ids": "行业",
    "description": "简介", "website": "官网", "founded_year": "成立年份", "logo_sha256": "标志", "uscc": "统一社会信用代码",
    "service_phone": "客服电话", "service_hours": "服务时间", "address": "地址", "price_min_fen": "最低价（分）",
    "price_max_fen": "最高价（分）", "photos": "照片", "links": "网店链接",
    "url": "网址", "shop_type": "店铺类型", "platform_id": "平台", "shop_id": "店铺", "kind": "类型",
    "payload": "申请内容", "note": "说明", "reference": "受理编号", "assignee_id": "处理人", "email": "邮箱",
    "role": "角色", "enabled": "启用", "badges": "标识", "placement": "展示位置", "industry_id": "行业",
    "enterprise_id": "企业", "position": "顺序", "starts_at": "开始时间", "ends_at": "结束时间", "title": "标题",
    "certificate": "证书编号", "accept_due": "受理期限", "negotiation_due": "协商期限", "mediation_due": "调解期限",
    "feedback_due": "确认期限", "upheld": "查实", "feedback": "消费者反馈", "created": "新增", "updated": "更新",
    "unchanged": "未变", "file": "文件", "q": "名称包含", "city": "城市", "industry": "行业",
    "terms": "词语", "targets": "同时搜索", "category": "类别", "active": "生效",
    "notice_ends_on": "公示截止", "notice_id": "公示条目", "valid_until": "有效期至",
    "verify_code": "店铺验证码", "check": "核实结果", "evidence_id": "认证材料",
}
STATUS_BY_ENTITY = {"complaint": ComplaintStatus.LABELS, "application": AppStatus.LABELS,
                    "certificate": CertStatus.LABELS, "objection": ObjectionStatus.LABELS}
LOOKUPS = {"city_id": City, "city": City, "industry_ids": Industry, "industry_id": Industry, "industry": Industry,
           "platform_id": Platform, "assignee_id": User}
EMPTY = "（空）"


def action_label(action: str) -> str:
    """``complaint.accept`` -> ``投诉：受理``; ``application.approve.claim`` -> ``申请：通过（认领企业）``."""
    parts = action.split(".")
    subject = SUBJECTS.get(parts[0], parts[0])
    if len(parts) == 1:
        return subject
    verb = VERBS.get(parts[1], parts[1])
    extra = "".join(f"（{AppKind.LABELS.get(p, VERBS.get(p, p))}）" for p in parts[2:])
    return f"{subject}：{verb}{extra}"


@dataclass
class Change:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class ReadableEntry:
    entry: AuditLog
    when: str
    action: str
    subject: str
    changes: list[Change] = field(default_factory=list)


def _names(entries: list[AuditLog]) -> dict[type, dict[int, str]]:
    """The names behind every id on the page, one query per kind."""
    wanted: dict[type, set[int]] = {}
    for e in entries:
        for values in (e.before or {}, e.after or {}, (e.before or {}).get("payload") or {},
                       (e.after or {}).get("payload") or {}):
            if not isinstance(values, dict):
                continue
            for key, model in LOOKUPS.items():
                raw = values.get(key)
                ids = raw if isinstance(raw, list) else [raw]
                wanted.setdefault(model, set()).update(i for i in ids if isinstance(i, int))
    names = {}
    for model, ids in wanted.items():
        label = User.email if model is User else model.name
        names[model] = dict(db.session.execute(select(model.id, label).where(model.id.in_(ids))).tuples().all()) if ids else {}
    return names


def _text(key: str, value, entity: str, names) -> str:
    """One stored value in words."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in LOOKUPS:
        table = names.get(LOOKUPS[key], {})
        ids = value if isinstance(value, list) else [value]
        return "、".join(table.get(i, f"#{i}") if isinstance(i, int) else str(i) for i in ids)
    if isinstance(value, list):
        return "、".join(_text(key, v, entity, names) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{FIELDS.get(k, k)}：{_text(k, v, entity, names)}" for k, v in value.items())
    return _scalar(key, value, entity)


def _scalar(key: str, value, entity: str) -> str:
    labels = {
        "status": STATUS_BY_ENTITY.get(entity, Status.LABELS), "kind": AppKind.LABELS, "role": Role.LABELS,
        "placement": Placement.LABELS, "feedback": ComplaintFeedback.LABELS,
    }.get(key, {})
    if entity == "synonym" and key == "kind":
        labels = SynonymKind.LABELS
    if value in labels:
        return labels[value]
    if key in ("starts_at", "ends_at") and isinstance(value, str):
        try:
            return clock.to_china(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M（北京时间）")
        except ValueError:
            return value
    if key == "logo_sha256":
        return f"图片 {str(value)[:10]}…"
    return str(value)


def _flatten(values: dict | None) -> dict:
    """Payload dicts (pending edits) are shown field by field like the other values."""
    out = {}
    for key, value in (values or {}).items():
        if key == "payload" and isinstance(value, dict):
            out.update(value)
        else:
            out[key] = value
    return out


def readable(entries: list[AuditLog]) -> list[ReadableEntry]:
    """A page of entries in words, with the changes field by field (before -> after)."""
    names = _names(entries)
    out = []
    for e in entries:
        before, after = _flatten(e.before if isinstance(e.before, dict) else {}), \
            _flatten(e.after if isinstance(e.after, dict) else {})
        keys = list(dict.fromkeys([*before, *after]))
        changes = [Change(FIELDS.get(k, k), _text(k, before.get(k), e.entity_kind, names) if k in before else "",
                          _text(k, after.get(k), e.entity_kind, names) if k in after else "") for k in keys]
        subject = ENTITIES.get(e.entity_kind, e.entity_kind) + (f" #{e.entity_id}" if e.entity_id else "")
        out.append(ReadableEntry(e, clock.to_china(e.at).strftime("%Y-%m-%d %H:%M:%S"), action_label(e.action),
                                 subject, changes))
    return out


def action_choices() -> list[tuple[str, str]]:
    """(prefix, label) pairs for the audit page's action filter."""
    return [(f"{key}.", label) for key, label in SUBJECTS.items()]
