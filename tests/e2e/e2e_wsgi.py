"""WSGI entry and preparation for the browser journeys' server (not collected by pytest).

The server under test is the real thing: gunicorn with gunicorn.conf.py, the app built by
``create_app`` in each worker. Only the instance folder differs (a fresh temporary one per run),
which ``create_app`` takes as an override rather than an environment variable.
"""
from __future__ import annotations

import os

from marketplace import create_app


def create():
    """The app for gunicorn / flask CLI, in the run's own instance folder."""
    return create_app({"INSTANCE_PATH": os.environ["E2E_INSTANCE_PATH"]})


def prepare() -> None:
    """Schema, reference data and demo data (the admin is made with `flask create-user`)."""
    from marketplace.bootstrap import prepare_site
    from marketplace.extensions import db

    try:
        import marketplace.services.demo  # noqa: F401
        has_demo = True
    except ImportError:  # the demo loader is not there (yet): use the synthetic generator instead
        has_demo = False
    app = create_app({"INSTANCE_PATH": os.environ["E2E_INSTANCE_PATH"], "LOAD_DEMO_DATA": has_demo})
    with app.app_context():
        if not has_demo:
            from marketplace.services import synthetic
            from marketplace.services.importer.writer import run_import

            ent_csv, shop_csv = synthetic.write_synthetic(os.environ["E2E_INSTANCE_PATH"], 300, 700)
            from marketplace.cli import init_database

            init_database()
            run_import(ent_csv.read_bytes(), shop_csv.read_bytes(), dry_run=False)
            db.session.commit()
        prepare_site(app)
        db.session.commit()


if __name__ == "__main__":
    prepare()
