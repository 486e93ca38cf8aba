"""Shared pieces of the merchant services: limits, the statuses that allow direct edits, the
editable field lists, ``FieldErrors``, ``EditResult``, the payload snapshots used for diffs and
the audit log, and ``_set_withdrawn`` (withdrawing a pending application through the decisions'
conditional UPDATE, used by edits that revert to the live row as well as by an explicit
withdrawal). Everything else in the package builds on these.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...models import Application, AppStatus, Status, User
from .. import ServiceError
from ..audit import record
from ..decisions import decide


MAX_BRANDS = 10
MAX_INDUSTRIES = 5
MIN_FOUNDED_YEAR = 1800

# Statuses from which an enterprise can be submitted for (re-)certification.
SUBMITTABLE_STATUSES = (Status.DRAFT, Status.REJECTED, Status.EXPIRED)
ENTERPRISE_EDIT_FIELDS = ("name", "brands", "city_id", "industry_ids", "description", "website",
                          "founded_year", "logo_sha256", "service_phone", "service_hours", "address")
SHOP_EDIT_FIELDS = ("name", "url", "shop_type", "platform_id")


class FieldErrors(ServiceError):
    """Input refused field by field; ``errors`` maps a form field name to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


@dataclass
class EditResult:
    """What an edit did: ``applied`` directly to the row, or queued in ``application``."""

    applied: bool
    application: Application | None = None
    changed: tuple[str, ...] = ()


def _diff(live: dict, wanted: dict, fields) -> dict:
    return {k: wanted[k] for k in fields if k in wanted and wanted[k] != live.get(k)}


def _set_withdrawn(user: User, app_: Application, note: str = "") -> None:
    """Withdraw a pending application (the conditional UPDATE of ``services.decisions``); raises
    ``AlreadyDecided`` when staff decided it first."""
    decide(app_.id, AppStatus.WITHDRAWN, already_decided="该申请刚刚已被工作人员处理，不能撤回。")
    record("application.withdraw", actor=user, entity_kind="application", entity_id=app_.id,
           enterprise_id=app_.enterprise_id, before={"status": AppStatus.PENDING},
           after={"status": AppStatus.WITHDRAWN}, note=note)
