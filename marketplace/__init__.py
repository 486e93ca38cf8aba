"""The 广货网上行 directory web application.

``create_app(overrides)`` builds a configured Flask app; see ``marketplace.config`` for the keys.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Create the app: config, extensions, blueprints, error pages, security headers, CLI.

    Order matters: the page cache is set up first so its ``after_request`` hook runs last and
    stores the final response; static files are wrapped last, in front of everything.
    """
    from . import (
        auth_session, cli, errors, extensions, page_cache, proxy, rate_limits, request_guard, security,
        static_files, templating,
    )
    from .config import load_config
    from .search_sync import cli as search_cli
    from .search_sync.documents import listing_texts
    from .services import mail
    from .unit_of_work import UnitOfWorkFlask

    app = UnitOfWorkFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=(overrides or {}).get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path, overrides, debug=app.debug))
    app.config["MIGRATIONS_DIR"] = PROJECT_ROOT / "migrations"
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    page_cache.init_app(app, listing_texts)
    extensions.init_app(app)
    mail.init_app(app)
    request_guard.init_app(app)  # its hook runs before the extensions' hooks
    rate_limits.init_app(app)
    proxy.init_app(app)
    auth_session.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    search_cli.init_app(app)
    _register_blueprints(app)
    static_files.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """One blueprint per audience; each module exposes ``bp``. ``merchant_events`` and
    ``merchant_products`` add their routes to ``merchant.bp`` (imported here, before that blueprint
    is registered: merchant.py does not import them back)."""
    from .views import (  # noqa: F401
        api, auth, complaints, events, feeds, gongshi, media, merchant, merchant_events, merchant_products, merchant_trust,
        news, products, public, reports, search, staff, trust,
    )

    for module in (public, media, auth, staff, complaints, merchant, search, trust, feeds, news, reports, events,
                   merchant_trust, gongshi, products):
        app.register_blueprint(module.bp)
    api.init_app(app)  # through flask-smorest, which writes the OpenAPI document from its schemas
