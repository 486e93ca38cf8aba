"""The developers' pages: ``/api`` (a redirect) and ``/developers`` (endpoints, parameters,
caching, limits, examples built from the OpenAPI spec)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import select

from ...extensions import db
from ...models import City, Industry
from .. import linking
from ..openapi import document
from .blueprint import bp


@bp.route("/api")
def api_home():
    """``/api`` is where developers look first: send them to the developers' page."""
    return redirect(url_for("trust.api_docs"), code=301)


@bp.route("/developers")
def api_docs():
    """A short page for developers: endpoints, parameters, caching, limits, examples."""
    spec = document()
    base = linking.base_url()
    return render_template("trust/api_docs.html", spec=spec, base=base,
                           industries=db.session.scalars(select(Industry).where(Industry.active.is_(True))
                                                         .order_by(Industry.position).limit(3)).all(),
                           cities=db.session.scalars(select(City).order_by(City.position).limit(3)).all())
