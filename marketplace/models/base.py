"""Shared column helpers and the listing status vocabulary (time lives in ``marketplace.clock``)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer

# Auto-incrementing big integer ids that also work on SQLite (which only autoincrements INTEGER).
BigId = BigInteger().with_variant(Integer(), "sqlite")

class Status:
    """Life of an enterprise or shop listing. Only CERTIFIED rows are public."""

    DRAFT = "draft"
    PENDING = "pending"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOTICE = "notice"  # approved, on 公示 (services.gongshi) until it takes effect; not public yet

    ALL = (DRAFT, PENDING, CERTIFIED, REJECTED, SUSPENDED, REVOKED, EXPIRED, NOTICE)
    LABELS = {
        DRAFT: "草稿",
        PENDING: "审核中",
        CERTIFIED: "已认证",
        REJECTED: "未通过",
        SUSPENDED: "已暂停",
        REVOKED: "已撤销",
        EXPIRED: "已过期",
        NOTICE: "公示中",
    }


class ShopType:
    """Kinds of shop a brand runs on a platform."""

    FLAGSHIP = "旗舰店"
    EXCLUSIVE = "专卖店"
    FRANCHISE = "专营店"
    OFFICIAL = "官方商城"
    ALL = (FLAGSHIP, EXCLUSIVE, FRANCHISE, OFFICIAL)


class Role:
    """Account roles; staff and admin can use the console, admin also manages staff."""

    MERCHANT = "merchant"
    STAFF = "staff"
    ADMIN = "admin"
    ALL = (MERCHANT, STAFF, ADMIN)
    LABELS = {MERCHANT: "商家", STAFF: "工作人员", ADMIN: "管理员"}


def for_dialect(dialect: str):
    """An Alembic ``include_object`` hook for a database of ``dialect``: it leaves out schema
    objects declared for other databases only (``Index(...).ddl_if(dialect="postgresql")``,
    such as the shop URL trigram index). Alembic's autogenerate does not read ``ddl_if`` and
    would otherwise ask SQLite for a GIN index."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        cond = getattr(obj, "_ddl_if", None)
        if cond is None or cond.dialect is None:
            return True
        wanted = (cond.dialect,) if isinstance(cond.dialect, str) else tuple(cond.dialect)
        return dialect in wanted

    return include
