"""A merchant's shops: URL validation and uniqueness, adding a shop (pending behind a ``shop``
application on a certified enterprise), queued ``shop_edit`` changes, removal.
"""
from __future__ import annotations

from sqlalchemy import select, update

from ...extensions import db
from ...models import (
    AppKind, Application, AppStatus, Enterprise, Platform, Shop, ShopType, Status, User,
)
from ...clock import utc_now
from ...validation import ValidationError
from ...validation.text import clean_text
from ...validation.urls import validate_shop_url
from .. import ServiceError
from ..audit import record
from ..enterprise_fields import shop_snapshot
from ..shop_codes import assign_code
from ..versioning import begin_edit
from .common import _diff, EditResult, FieldErrors, _set_withdrawn, SHOP_EDIT_FIELDS
from .lookups import get_owned_enterprise, get_owned_shop, pending_application


def clean_shop_fields(ent: Enterprise, data: dict, *, exclude_shop_id: int | None = None) -> dict:
    """Validate shop form ``data`` (platform_id, name, url, shop_type) for enterprise ``ent``."""
    errors: dict[str, str] = {}
    out: dict = {}
    platform = None
    try:
        platform = db.session.get(Platform, int(data.get("platform_id") or 0))
    except (TypeError, ValueError):
        platform = None
    if platform is None or not platform.active:
        errors["platform_id"] = "请选择电商平台。"
        platform = None
    else:
        out["platform_id"] = platform.id
    try:
        out["name"] = clean_text(data.get("name"), field="店铺名称", max_length=120, required=True)
    except ValidationError as err:
        errors["name"] = str(err)
    shop_type = data.get("shop_type") or ""
    if shop_type not in ShopType.ALL:
        errors["shop_type"] = "请选择店铺类型。"
    else:
        out["shop_type"] = shop_type
    raw_url = data.get("url") or ""
    if "\x00" in raw_url:
        errors["url"] = "店铺网址含有不允许的空字符。"
    elif platform is not None:
        try:
            if platform.is_own_site and not ent.website:
                raise ValidationError("企业自建商城需要先在企业资料中填写官网，店铺网址须在官网域名下。")
            out["url"] = validate_shop_url(raw_url, platform.host_list, platform_name=platform.name,
                                           own_site_domain=ent.website or None)
        except ValidationError as err:
            errors["url"] = str(err)
    if "url" in out:
        conflict = _url_conflict(out["url"], ent, exclude_shop_id=exclude_shop_id)
        if conflict:
            errors["url"] = conflict
    if errors:
        raise FieldErrors(errors)
    return out


def _url_conflict(url: str, ent: Enterprise, *, exclude_shop_id: int | None) -> str | None:
    """A message when ``url`` is already listed (or awaiting review) elsewhere, else None.

    Names the other listing only when the user may know it anyway: their own shop, or a
    certified (public) enterprise. Unpublished listings of others stay anonymous.
    """
    stmt = select(Shop).where(Shop.url == url)
    if exclude_shop_id is not None:
        stmt = stmt.where(Shop.id != exclude_shop_id)
    other = db.session.scalars(stmt).first()
    if other is None:
        for app_ in db.session.scalars(select(Application).where(
            Application.kind == AppKind.SHOP_EDIT, Application.status == AppStatus.PENDING,
        )):
            if (app_.payload or {}).get("url") == url and app_.shop_id != exclude_shop_id:
                other = app_.shop
                break
    if other is None:
        return None
    owner_ent = other.enterprise
    if owner_ent.owner_id is not None and owner_ent.owner_id == ent.owner_id:
        return f"该网址已登记为您的店铺“{other.name}”（{owner_ent.name}），无需重复添加。"
    if owner_ent.status == Status.CERTIFIED and other.status == Status.CERTIFIED:
        return f"该网址已被认证企业“{owner_ent.display_name}”登记。如认为登记有误，请联系工作人员或投诉举报。"
    return "该网址已被名录中的其他企业登记。如认为登记有误，请联系工作人员。"


def _check_shops_editable(ent: Enterprise) -> None:
    if ent.status == Status.PENDING:
        raise ServiceError("该企业正在审核中，暂不能增删或修改店铺。如需修改，请先撤回认证申请。")
    if ent.status == Status.NOTICE:
        raise ServiceError("该企业正在公示中，公示期间不能增删或修改店铺；认证生效后可以提交变更。")
    if ent.status in (Status.SUSPENDED, Status.REVOKED):
        raise ServiceError(f"该企业{ent.status_label}，不能管理店铺；如有疑问请联系工作人员。")


def add_shop(user: User, enterprise_id: int, data: dict) -> Shop:
    """Add a shop; to a certified enterprise it is pending behind an Application(kind=shop)."""
    ent = get_owned_enterprise(user, enterprise_id)
    _check_shops_editable(ent)
    fields = clean_shop_fields(ent, data)
    shop = Shop(enterprise=ent, status=Status.DRAFT, **fields)
    assign_code(shop)
    db.session.add(shop)
    db.session.flush()
    record("shop.create", actor=user, entity_kind="shop", entity_id=shop.id, enterprise_id=ent.id,
           after=shop_snapshot(shop))
    if ent.status == Status.CERTIFIED:
        _submit_shop_application(user, ent, shop)
    return shop


def _submit_shop_application(user: User, ent: Enterprise, shop: Shop) -> Application:
    assign_code(shop)
    shop.status = Status.PENDING
    shop.status_reason = ""
    app_ = Application(kind=AppKind.SHOP, enterprise_id=ent.id, shop_id=shop.id, applicant_id=user.id,
                       payload={}, status=AppStatus.PENDING)
    db.session.add(app_)
    db.session.flush()
    record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=ent.id, after={"kind": AppKind.SHOP, "shop_id": shop.id})
    return app_


def submit_shop(user: User, shop_id: int) -> Application:
    """Send a draft/rejected shop of a certified enterprise to review (Application kind=shop)."""
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    if ent.status != Status.CERTIFIED:
        raise ServiceError("请提交整个企业的认证申请，店铺会随企业一起审核。")
    if shop.status not in (Status.DRAFT, Status.REJECTED):
        raise ServiceError(f"该店铺当前状态为“{shop.status_label}”，无需提交。")
    return _submit_shop_application(user, ent, shop)


def update_shop(user: User, shop_id: int, data: dict) -> EditResult:
    """Edit an owned shop: directly while unpublished, via shop_edit when it is certified.

    ``data["version"]`` is the shop's version the form showed (see ``update_enterprise``).
    """
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    _check_shops_editable(ent)
    if shop.status in (Status.SUSPENDED, Status.REVOKED, Status.NOTICE):
        raise ServiceError(f"该店铺{shop.status_label}，不能修改；如有疑问请联系工作人员。")
    fields = clean_shop_fields(ent, data, exclude_shop_id=shop.id)
    begin_edit(shop, data.get("version"))
    live = shop_snapshot(shop)
    if shop.status == Status.CERTIFIED:
        payload = _diff(live, fields, SHOP_EDIT_FIELDS)
        app_ = pending_application(ent, AppKind.SHOP_EDIT, shop)
        if app_ is None:
            if not payload:
                return EditResult(applied=False)
            app_ = Application(kind=AppKind.SHOP_EDIT, enterprise_id=ent.id, shop_id=shop.id,
                               applicant_id=user.id, payload=payload, status=AppStatus.PENDING)
            db.session.add(app_)
            db.session.flush()
            record("application.submit", actor=user, entity_kind="application", entity_id=app_.id,
                   enterprise_id=ent.id, after={"kind": AppKind.SHOP_EDIT, "shop_id": shop.id,
                                                "payload": payload})
            return EditResult(applied=False, application=app_, changed=tuple(payload))
        if not payload:
            _set_withdrawn(user, app_, note="修改已全部恢复为已认证内容")
            return EditResult(applied=False, application=app_)
        before = dict(app_.payload or {})
        app_.payload = payload
        db.session.flush()
        record("application.update", actor=user, entity_kind="application", entity_id=app_.id,
               enterprise_id=ent.id, before={"payload": before}, after={"payload": payload})
        return EditResult(applied=False, application=app_, changed=tuple(payload))
    changed = _diff(live, fields, SHOP_EDIT_FIELDS)
    if not changed:
        return EditResult(applied=True)
    for key, value in changed.items():
        setattr(shop, key, value)
    if "platform_id" in changed:
        shop.platform = db.session.get(Platform, changed["platform_id"])
    shop.updated_at = utc_now()
    db.session.flush()
    record("shop.update", actor=user, entity_kind="shop", entity_id=shop.id, enterprise_id=ent.id,
           before={k: live[k] for k in changed}, after=changed)
    return EditResult(applied=True, changed=tuple(changed))


def remove_shop(user: User, shop_id: int) -> None:
    """Delete an owned shop at once (also a certified one: removal only reduces exposure).

    Pending applications about the shop are withdrawn first (the rows then go with the shop);
    the audit log keeps what was removed.
    """
    shop = get_owned_shop(user, shop_id)
    ent = shop.enterprise
    _check_shops_editable(ent)
    if shop.status in (Status.SUSPENDED, Status.REVOKED, Status.NOTICE):
        raise ServiceError(f"该店铺{shop.status_label}，不能自行删除；如有疑问请联系工作人员。")
    snapshot = {**shop_snapshot(shop), "status": shop.status}
    for app_ in db.session.scalars(select(Application).where(
        Application.shop_id == shop.id, Application.status == AppStatus.PENDING,
    )):
        _set_withdrawn(user, app_, note="店铺已删除")
    db.session.execute(update(Application).where(Application.shop_id == shop.id)
                       .values(shop_id=None).execution_options(synchronize_session=False))
    ent.shops.remove(shop)
    db.session.delete(shop)
    db.session.flush()
    record("shop.delete", actor=user, entity_kind="shop", entity_id=shop_id, enterprise_id=ent.id,
           before=snapshot)
