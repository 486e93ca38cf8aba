"""Optimistic locking of the records two people (or two browser tabs) can edit at once:
enterprise, shop, application, complaint, featured slot and 网购节 offer.

Each of these tables has a ``version`` column, declared as SQLAlchemy's ``version_id_col``: every
ORM UPDATE or DELETE of the row says ``WHERE version = <the version loaded>`` and bumps it, so of
two writers that loaded the same version only the first succeeds; the second gets
``StaleDataError``, which the unit of work turns into ``EditConflict`` ("该资料刚被修改，请刷新后重试").

That alone does not cover two cases, which ``begin_edit`` does:

* **Two tabs.** Edit forms carry the version they were rendered with (a hidden ``version``
  field). An edit submitted from a page older than the record is refused, instead of silently
  overwriting what the other tab saved in between.
* **Edits that write other rows first.** Replacing an enterprise's brands or adding a shop writes
  child rows before (or without) an UPDATE of the record itself; two such edits racing would
  collide on a unique key instead of on the version. ``begin_edit`` therefore claims the record
  first, with one conditional UPDATE that bumps its version only while it is still the version
  loaded: later edits of the same record wait for this transaction (PostgreSQL's row lock,
  SQLite's write lock) and are then refused, so concurrent edits serialise.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from . import EditConflict


def parse_version(raw) -> int | None:
    """The version a form was rendered with; None when the form sent none (no check).

    Anything that is not a plain positive number cannot match a stored version: it is refused
    as a conflict rather than ignored.
    """
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise EditConflict()
    return int(text)


def check_version(obj, seen_version) -> None:
    """Refuse with ``EditConflict`` when the editor saw another version of ``obj`` than the one
    loaded now (``seen_version`` None: the caller sent none, nothing to compare)."""
    seen = parse_version(seen_version)
    if seen is not None and seen != obj.version:
        raise EditConflict()


def begin_edit(obj, seen_version=None) -> None:
    """Claim ``obj`` for an edit in this transaction (see the module doc).

    Refuses with ``EditConflict`` when the editor's form showed another version, or when another
    transaction changed the row since it was loaded here. The row's ``updated_at`` is kept: taking
    the record for an edit is not a change of its content.
    """
    db.session.flush()  # pending changes first, so ``obj.version`` is the row's current version
    check_version(obj, seen_version)
    model = type(obj)
    values = {"version": model.version + 1}
    if "updated_at" in model.__table__.c:
        values["updated_at"] = model.updated_at
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.version == obj.version).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise EditConflict()
    set_committed_value(obj, "version", obj.version + 1)
