"""First-start preparation used by ``python app.py``: schema, reference data, demo data, index."""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import func, select

from .cli import init_database
from .extensions import db
from .models import Enterprise

log = logging.getLogger(__name__)


def prepare_site(app: Flask) -> None:
    """Bring an empty or old database up to date and fill it with demo data when it is empty."""
    init_database()
    empty = not db.session.scalar(select(func.count()).select_from(Enterprise))
    if empty and app.config["LOAD_DEMO_DATA"]:
        from .services.demo import load_demo_data

        summary = load_demo_data()
        db.session.commit()
        log.info("demo data loaded: %s", summary)
    from .search_sync.applier import ensure_index

    ensure_index()  # build a missing or damaged search index
