"""Merchant-side operations on enterprises, shops and certification applications.

Every function takes the acting merchant and checks ownership itself, so a view cannot forget
it: another merchant's object is reported as ``NotFound`` (the view turns that into a 404) and
nothing changes. Functions flush, never commit, and write an audit entry for every change.

The status contract (see the team brief) is followed exactly:

* draft / rejected / expired enterprises are edited directly and submitted as an
  ``Application(kind=enterprise)``; the enterprise and its draft shops become pending;
* a certified enterprise is never edited directly: its changes wait in a pending
  ``Application(kind=enterprise_edit)`` whose payload holds only the changed fields;
* a shop added to a certified enterprise is pending behind an ``Application(kind=shop)``;
  a certified shop's changes wait in an ``Application(kind=shop_edit)``;
* removing a shop takes effect at once, also for a certified shop: it only reduces what
  consumers see, so there is nothing for staff to check (the audit log keeps the trace).
  Suspended or revoked shops cannot be removed by the merchant, so a staff decision is never
  erased; pending listings under review cannot change until the application is withdrawn.

Package layout (imports flow common -> lookups -> the rest):

* ``common``       — limits, editable-field lists, ``FieldErrors``, ``EditResult``, snapshots, withdrawal;
* ``lookups``      — ownership-checked getters and the reference lists for the forms;
* ``enterprises``  — create / edit an enterprise, the logo;
* ``claims``       — claiming an imported, unowned enterprise;
* ``shops``        — add / edit / remove a shop;
* ``applications`` — submit for certification, withdraw an application;
* ``dashboard``    — read-only data for the merchant dashboard.

Every name the single-module ``listings.py`` had is re-exported here, so
``from marketplace.services import listings; listings.add_shop(...)`` keeps working.
"""
from __future__ import annotations

from .common import (  # noqa: F401
    DIRECT_EDIT_STATUSES, EditResult, ENTERPRISE_EDIT_FIELDS, FieldErrors, MAX_BRANDS,
    MAX_INDUSTRIES, MIN_FOUNDED_YEAR, SHOP_EDIT_FIELDS, SUBMITTABLE_STATUSES, _diff, _set_withdrawn,
)
from .lookups import (  # noqa: F401
    active_industries, active_platforms, all_cities, get_own_application, get_owned_enterprise,
    get_owned_shop, owned_enterprises, pending_application, queue_position, suggest_city,
    user_applications, _require_merchant,
)
from .enterprises import (  # noqa: F401
    check_uscc_for_new, clean_enterprise_fields, create_enterprise, set_logo, update_enterprise,
    _apply_fields, _check_editable, _check_name_free, _queue_enterprise_edit,
)
from .claims import (  # noqa: F401
    claim_enterprise, find_claimable,
)
from .shops import (  # noqa: F401
    add_shop, clean_shop_fields, remove_shop, submit_shop, update_shop, _check_shops_editable,
    _submit_shop_application, _url_conflict,
)
from .applications import (  # noqa: F401
    submit_for_certification, withdraw_application,
)
from .dashboard import (  # noqa: F401
    clicks_by_day, describe_enterprise_change, describe_shop_change, merchant_complaints,
    next_steps, pending_changes,
)


__all__ = [
    "FieldErrors", "EditResult", "owned_enterprises", "get_owned_enterprise", "get_owned_shop",
    "get_own_application", "user_applications", "pending_application", "queue_position",
    "active_platforms", "active_industries", "all_cities", "suggest_city", "clean_enterprise_fields",
    "check_uscc_for_new", "create_enterprise", "update_enterprise", "set_logo", "find_claimable",
    "claim_enterprise", "clean_shop_fields", "add_shop", "submit_shop", "update_shop", "remove_shop",
    "submit_for_certification", "withdraw_application", "pending_changes",
    "describe_enterprise_change", "describe_shop_change", "clicks_by_day", "merchant_complaints",
    "next_steps",
]
