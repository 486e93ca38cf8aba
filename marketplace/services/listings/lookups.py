"""Ownership-checked lookups for the merchant pages (own enterprises, shops, applications, queue
position) and the reference lists the forms offer (platforms, industries, cities).

Each getter raises ``NotFound`` for another merchant's object, so a view cannot forget the check.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select

from ...extensions import db
from ...models import Application, AppStatus, City, Enterprise, Industry, Platform, Role, Shop, User
from ...validation import ValidationError
from ...validation.uscc import normalize_uscc, suggested_city_code
from .. import Forbidden, NotFound


def require_merchant(user: User) -> None:
    """Refuse (``Forbidden``) anyone but a logged-in merchant: the first check of every merchant
    operation (listings here, 网购节 offers in ``services.events.offers``)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role != Role.MERCHANT:
        raise Forbidden("只有商家账号可以管理企业和店铺。")


def owned_enterprises(user: User) -> list[Enterprise]:
    """The enterprises ``user`` controls, newest first."""
    return list(db.session.scalars(
        select(Enterprise).where(Enterprise.owner_id == user.id).order_by(Enterprise.id.desc())
    ).unique())


def get_owned_enterprise(user: User, enterprise_id: int) -> Enterprise:
    """The enterprise ``enterprise_id`` if ``user`` owns it; ``NotFound`` otherwise (no leak)."""
    require_merchant(user)
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None or ent.owner_id != user.id:
        raise NotFound("企业不存在。")
    return ent


def get_owned_shop(user: User, shop_id: int) -> Shop:
    """The shop ``shop_id`` if its enterprise belongs to ``user``; ``NotFound`` otherwise."""
    require_merchant(user)
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.enterprise.owner_id != user.id:
        raise NotFound("店铺不存在。")
    return shop


def get_own_application(user: User, application_id: int) -> Application:
    """An application ``user`` submitted or that concerns an enterprise they own."""
    require_merchant(user)
    app_ = db.session.get(Application, application_id)
    if app_ is None:
        raise NotFound("申请不存在。")
    owner_id = app_.enterprise.owner_id if app_.enterprise else None
    if app_.applicant_id != user.id and owner_id != user.id:
        raise NotFound("申请不存在。")
    return app_


def user_applications(user: User, limit: int = 200) -> list[Application]:
    """Applications by ``user`` or about their enterprises, newest first (the history)."""
    owned = select(Enterprise.id).where(Enterprise.owner_id == user.id)
    return list(db.session.scalars(
        select(Application)
        .where(or_(Application.applicant_id == user.id, Application.enterprise_id.in_(owned)))
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(limit)
    ))


def pending_application(enterprise: Enterprise, kind: str, shop: Shop | None = None) -> Application | None:
    """The pending application of ``kind`` for an enterprise (or one of its shops), if any."""
    stmt = select(Application).where(
        Application.enterprise_id == enterprise.id, Application.kind == kind,
        Application.status == AppStatus.PENDING,
    )
    if shop is not None:
        stmt = stmt.where(Application.shop_id == shop.id)
    return db.session.scalars(stmt.order_by(Application.id)).first()


def queue_position(application: Application) -> int | None:
    """1-based place in the review queue (oldest first); None unless pending."""
    if application.status != AppStatus.PENDING:
        return None
    ahead = db.session.scalar(
        select(func.count(Application.id)).where(
            Application.status == AppStatus.PENDING,
            or_(Application.submitted_at < application.submitted_at,
                (Application.submitted_at == application.submitted_at) & (Application.id < application.id)),
        )
    )
    return int(ahead or 0) + 1


def active_platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).where(Platform.active.is_(True)).order_by(Platform.position)))


def active_industries() -> list[Industry]:
    return list(db.session.scalars(select(Industry).where(Industry.active.is_(True)).order_by(Industry.position)))


def all_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.position)))


def suggest_city(uscc_raw: str) -> City | None:
    """The Guangdong city a valid code's area digits point to, or None."""
    try:
        code = normalize_uscc(uscc_raw)
    except ValidationError:
        return None
    city_code = suggested_city_code(code)
    if not city_code:
        return None
    return db.session.scalar(select(City).where(City.code == city_code))
