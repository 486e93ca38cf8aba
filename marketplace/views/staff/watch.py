"""Staff console: the impersonation watch — ``/verify`` misses that name a certified brand,
grouped by brand owner, most recently seen first."""
from __future__ import annotations

from flask import render_template

from ...extensions import db
from ...services import impersonation
from ..helpers import page_arg
from .blueprint import bp, staff_only

PER_PAGE = 20


@bp.route("/impersonation")
@staff_only
def impersonation_watch():
    """Brands with sightings, each with its hosts (kind, count, first and last seen)."""
    pagination = db.paginate(impersonation.grouped_query(), page=page_arg(), per_page=PER_PAGE, error_out=False)
    hosts = impersonation.for_enterprises([ent.id for ent in pagination.items], limit=impersonation.MAX_HOSTS)
    return render_template("staff/impersonation.html", pagination=pagination, hosts=hosts)
