"""Consumer pages: home, browse, enterprise, industry/city/platform pages, click-through."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render_template("public/home.html")
