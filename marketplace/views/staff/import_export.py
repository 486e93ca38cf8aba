"""Staff console: CSV import (dry run, then apply) and directory export.

The import uses the same code as ``flask import-data`` (``services.importer.writer.run_import``): an
upload is checked in a dry run that lists every bad row; the bytes are kept in the instance
folder under a random token so "apply" imports exactly what was checked, then deleted.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from ...clock import china_now, timestamp, utc_now
from ...extensions import db
from ...models import Brand, City, Enterprise, Industry, Status, enterprise_industry
from ...services.audit import record
from ...services.importer.writer import run_import
from ...unit_of_work import after_commit, rollback
from ...validation.text import normalize_key
from ..helpers import positive_int
from .blueprint import bp, staff_only
from .forms import ApplyImportForm, EmptyForm, ImportForm

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
STASH_TTL = 24 * 3600
DEFAULT_NAMES = ("enterprises.csv", "shops.csv")
MAX_EXPORT = 100_000


def _stash_root() -> Path:
    root = Path(current_app.instance_path) / "staff_imports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _clean_stale(root: Path) -> None:
    for d in root.iterdir():
        try:
            if d.is_dir() and timestamp() - d.stat().st_mtime > STASH_TTL:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _stash(files: dict[str, bytes | None], names: tuple[str, str]) -> str:
    """Keep the checked upload for "apply" (stored under our own names; the uploaded names are
    kept for the report only)."""
    root = _stash_root()
    _clean_stale(root)
    token = secrets.token_urlsafe(24)
    d = root / token
    d.mkdir(mode=0o700)
    for name, data in files.items():
        if data is not None:
            (d / f"{name}.csv").write_bytes(data)
    (d / "meta.json").write_text(json.dumps({"by": current_user.id, "at": utc_now().isoformat(), "names": names}))
    return token


def _unstash(token: str) -> tuple[Path, dict[str, bytes | None], tuple[str, str]] | None:
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    d = _stash_root() / token
    if not d.is_dir():
        return None
    files = {name: (d / f"{name}.csv").read_bytes() if (d / f"{name}.csv").exists() else None
             for name in ("enterprises", "shops")}
    names = json.loads((d / "meta.json").read_text()).get("names") or DEFAULT_NAMES
    return d, files, tuple(names)


def _read(field) -> tuple[bytes | None, str]:
    """The uploaded bytes (None when no file) and the file's name as uploaded (shortened, for the
    report only)."""
    f = field.data
    if not f or not getattr(f, "filename", None):
        return None, ""
    return f.read() or None, f.filename[-60:]


def _kept(files: dict[str, bytes | None], names: tuple[str, str]) -> list[tuple[str, int]]:
    """(name, size) of each kept file, for the dry run's "kept for apply" note."""
    return [(name, len(data)) for name, data in zip(names, (files["enterprises"], files["shops"])) if data]


@bp.route("/import", methods=["GET", "POST"])
@staff_only
def import_upload():
    """Upload enterprises.csv / shops.csv and see the dry-run report of every bad row."""
    form = ImportForm()
    report = token = None
    kept: list[tuple[str, int]] = []
    if form.validate_on_submit():
        (ent_data, ent_name), (shop_data, shop_name) = _read(form.enterprises), _read(form.shops)
        files = {"enterprises": ent_data, "shops": shop_data}
        names = (ent_name or DEFAULT_NAMES[0], shop_name or DEFAULT_NAMES[1])
        if not any(files.values()):
            flash("请至少选择一个 CSV 文件。", "error")
        else:
            report = run_import(files["enterprises"], files["shops"], dry_run=True, actor=current_user,
                                filenames=names)
            rollback()  # a dry run writes nothing, whatever happened inside
            if report.ok:
                token, kept = _stash(files, names), _kept(files, names)
    return render_template("staff/import.html", form=form, report=report, token=token, kept=kept,
                           apply_form=ApplyImportForm(token=token))


@bp.route("/import/apply", methods=["POST"])
@staff_only
def import_apply():
    """Apply the upload checked in the dry run (identified by its token)."""
    form = ApplyImportForm()
    if not form.validate_on_submit():
        abort(400)
    stash = _unstash(form.token.data)
    if stash is None:
        flash("导入文件已失效，请重新上传。", "error")
        return redirect(url_for("staff.import_upload"))
    folder, files, names = stash
    report = run_import(files["enterprises"], files["shops"], dry_run=False, actor=current_user,
                        filenames=names)
    if not report.ok:
        rollback()
        return render_template("staff/import.html", form=ImportForm(), report=report, token=None,
                               apply_form=ApplyImportForm())
    record("import.apply", actor=current_user, entity_kind="import", note=json.dumps(
        {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}, ensure_ascii=False))
    after_commit(lambda: shutil.rmtree(folder, ignore_errors=True))  # a failed commit keeps it to retry
    flash("导入完成：新增 {}，更新 {}，未变 {}。".format(
        sum(report.created.values()), sum(report.updated.values()), sum(report.unchanged.values())), "success")
    return render_template("staff/import.html", form=ImportForm(), report=report, token=None, applied=True,
                           apply_form=ApplyImportForm())


def export_query(values):
    """A select() of enterprises for export, filtered by status / city / industry / name.

    ``values`` is the posted form: status (default certified, ``all`` for any), city, industry, q.
    """
    status = values.get("status") or Status.CERTIFIED
    if status != "all" and status not in Status.LABELS:
        status = Status.CERTIFIED
    stmt = select(Enterprise)
    if status != "all":
        stmt = stmt.where(Enterprise.status == status)
    if positive_int(values.get("city")):
        stmt = stmt.where(Enterprise.city_id == positive_int(values.get("city")))
    if positive_int(values.get("industry")):
        stmt = stmt.where(Enterprise.id.in_(select(enterprise_industry.c.enterprise_id)
                                            .where(enterprise_industry.c.industry_id == positive_int(values.get("industry")))))
    q = (values.get("q") or "").strip()[:60]
    key = normalize_key(q).replace("%", "").replace("_", "").replace("\\", "")
    if key:
        pattern = f"%{key}%"
        stmt = stmt.where(or_(Enterprise.name_key.like(pattern),
                              Enterprise.id.in_(select(Brand.enterprise_id).where(Brand.name_key.like(pattern)))))
    return stmt.order_by(Enterprise.id), status


@bp.route("/export")
@staff_only
def export_page():
    """The export form (filters); the download itself is ``staff.export_csv`` (a POST, so that
    each export is recorded in the audit log without a GET changing anything)."""
    return render_template("staff/export.html", statuses=Status.LABELS, form=EmptyForm(),
                           cities=db.session.scalars(select(City).order_by(City.position)).all(),
                           industries=db.session.scalars(select(Industry).order_by(Industry.position)).all())


@bp.route("/export.csv", methods=["POST"])
@staff_only
def export_csv():
    """Download the filtered directory as CSV (UTF-8 BOM, formula-safe, the import format)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    from ...services.importer.export import export_enterprises_csv, export_shops_csv

    stmt, status = export_query(request.form)
    rows = db.session.scalars(stmt.limit(MAX_EXPORT)).all()
    chinese = request.form.get("headers") == "zh"
    if request.form.get("file") == "shops":
        shops = [s for e in rows for s in e.shops if status != Status.CERTIFIED or s.status == Status.CERTIFIED]
        data, what, label = export_shops_csv(shops, chinese), "shops", f"{len(shops)} 个店铺"
    else:
        data, what, label = export_enterprises_csv(rows, chinese), "enterprises", f"{len(rows)} 家企业"
    filters = {k: v for k, v in request.form.items() if k in ("status", "city", "industry", "q", "file", "headers") and v}
    record(f"export.{what}", actor=current_user, entity_kind="export", after=filters, note=f"导出 {label}")
    stamp = china_now().strftime("%Y%m%d-%H%M")  # the time staff read on their clocks
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=gdws-{what}-{stamp}.csv",
                             "Cache-Control": "no-store"})
