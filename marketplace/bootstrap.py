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


def warm_before_fork(app: Flask) -> None:
    """Load, in gunicorn's master, the read-only things every worker needs, so the forked workers
    share them copy-on-write (gunicorn.conf.py ``when_ready``): every template compiled, the
    segmenter's dictionary with the live index's brand words, OpenCC and pypinyin. It opens no
    database connection and no index file a worker could inherit (the workers open their own
    searchers). Failures are logged: a worker would load the same things itself."""
    import os

    from search_index import SearchEngine
    from search_index.analysis import load_user_dictionary, normalize, pinyin_variants, segment
    from search_index.api import USERDICT_FILE

    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml", ".txt"))):
        try:
            app.jinja_env.get_template(name)
        except Exception:  # noqa: BLE001 - a template that fails to compile fails in the worker too
            log.warning("pre-fork: template %s did not compile", name, exc_info=True)
    segment(normalize("廣貨網上行 佛山陶瓷旗舰店"))
    pinyin_variants("美的")
    try:
        path = SearchEngine(str(app.config["SEARCH_INDEX_DIR"])).current_path()
        if path:
            load_user_dictionary(os.path.join(path, USERDICT_FILE))
    except Exception:  # noqa: BLE001
        log.warning("pre-fork: brand dictionary not loaded", exc_info=True)
