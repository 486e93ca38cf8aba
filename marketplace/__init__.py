"""The 广货网上行 directory web application.

``create_app(overrides)`` builds a configured Flask app; see ``marketplace.config`` for the keys.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Create the app: config, extensions, blueprints, error pages, security headers, CLI."""
    from . import cli, errors, extensions, security, templating
    from .config import load_config

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=(overrides or {}).get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path, overrides, debug=app.debug))
    app.config["MIGRATIONS_DIR"] = PROJECT_ROOT / "migrations"
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import page_cache; page_cache.init_app(app)  # noqa: E702  (first: its after_request hook runs last)
    extensions.init_app(app)
    from . import proxy; proxy.init_app(app)  # noqa: E702
    from . import auth_session  # noqa: F401  (registers the Flask-Login user loader)

    templating.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    from . import search_sync; search_sync.init_app(app)  # noqa: E702
    _register_blueprints(app)
    from . import static_files

    static_files.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """One blueprint per audience (see DESIGN.md); each module exposes ``bp``."""
    from .views import public

    app.register_blueprint(public.bp)
    from .views import media as media_views; app.register_blueprint(media_views.bp)  # noqa: E702
    from .views import auth as auth_views; app.register_blueprint(auth_views.bp)  # noqa: E702
    from .views import staff as staff_views; app.register_blueprint(staff_views.bp)  # noqa: E702
    from .views import complaints as complaint_views; app.register_blueprint(complaint_views.bp)  # noqa: E702
    from .views import merchant as merchant_views; app.register_blueprint(merchant_views.bp)  # noqa: E702
    from .views import search as search_views; app.register_blueprint(search_views.bp)  # noqa: E702
    from .views import trust as trust_views; app.register_blueprint(trust_views.bp)  # noqa: E702
    from .views import api as api_views; app.register_blueprint(api_views.bp)  # noqa: E702
