"""The ``staff`` blueprint (``/staff``) and the access rule every console route shares.

Every route requires a logged-in staff or admin user: each view is decorated with
``@staff_only`` (``@login_required`` + ``@role_required(STAFF, ADMIN)``) and, as a safety net for
any route added later, the blueprint's ``before_request`` applies the same rule. The topic
modules of this package import ``bp`` from here and add their routes to it; this module imports
none of them, so there is no import cycle.
"""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from ...extensions import login_manager
from ...models import Role
from ..helpers import role_required

bp = Blueprint("staff", __name__, url_prefix="/staff")
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


def staff_only(view):
    """``@login_required`` + ``@role_required(staff, admin)`` in one decorator."""
    return login_required(role_required(*STAFF_ROLES)(view))


@bp.before_request
def _guard():
    """Belt and braces: no /staff URL answers anyone but staff, whatever its decorators say."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in STAFF_ROLES:
        abort(403)
