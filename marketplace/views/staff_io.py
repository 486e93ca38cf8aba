"""Staff console: CSV import (dry run, then apply) and directory export.

The import uses the same code as ``flask import-data`` (``services.importer.run_import``): an
upload is checked in a dry run that lists every bad row; the bytes are kept in the instance
folder under a random token so "apply" imports exactly what was checked, then deleted.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import clock
from ..extensions import db
from ..models import Brand, City, Enterprise, Industry, Status, enterprise_industry, utcnow
from ..services.audit import record
from ..validation.text import normalize_key
from .staff import bp, staff_only
from .staff_forms import ApplyImportForm, EmptyForm, ImportForm

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
STASH_TTL = 24 * 3600
MAX_EXPORT = 100_000


def _stash_root() -> Path:
    root = Path(current_app.instance_path) / "staff_imports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _clean_stale(root: Path) -> None:
    for d in root.iterdir():
        try:
            if d.is_dir() and time.time() - d.stat().st_mtime > STASH_TTL:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _stash(files: dict[str, bytes | None]) -> str:
    root = _stash_root()
    _clean_stale(root)
    token = secrets.token_urlsafe(24)
    d = root / token
    d.mkdir(mode=0o700)
    for name, data in files.items():
        if data is not None:
            (d / f"{name}.csv").write_bytes(data)
    (d / "meta.json").write_text(json.dumps({"by": current_user.id, "at": utcnow().isoformat()}))
    return token


def _unstash(token: str) -> tuple[Path, dict[str, bytes | None]] | None:
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    d = _stash_root() / token
    if not d.is_dir():
        return None
    return d, {name: (d / f"{name}.csv").read_bytes() if (d / f"{name}.csv").exists() else None
               for name in ("enterprises", "shops")}


def _read(field) -> bytes | None:
    f = field.data
    if not f or not getattr(f, "filename", None):
        return None
    data = f.read()
    return data or None


def _importer():
    try:
        from ..services import importer
    except ImportError:
        return None
    return importer if hasattr(importer, "run_import") else None


@bp.route("/import", methods=["GET", "POST"])
@staff_only
def import_upload():
    """Upload enterprises.csv / shops.csv and see the dry-run report of every bad row."""
    form = ImportForm()
    importer = _importer()
    report = token = None
    if form.validate_on_submit():
        files = {"enterprises": _read(form.enterprises), "shops": _read(form.shops)}
        if importer is None:
            flash("导入功能暂不可用。", "error")
        elif not any(files.values()):
            flash("请至少选择一个 CSV 文件。", "error")
        else:
            report = importer.run_import(files["enterprises"], files["shops"], dry_run=True, actor=current_user)
            db.session.rollback()  # a dry run writes nothing, whatever happened inside
            if report.ok:
                token = _stash(files)
    return render_template("staff/import.html", form=form, report=report, token=token,
                           apply_form=ApplyImportForm(token=token), available=importer is not None)


@bp.route("/import/apply", methods=["POST"])
@staff_only
def import_apply():
    """Apply the upload checked in the dry run (identified by its token)."""
    form = ApplyImportForm()
    importer = _importer()
    if not form.validate_on_submit() or importer is None:
        abort(400)
    stash = _unstash(form.token.data)
    if stash is None:
        flash("导入文件已失效，请重新上传。", "error")
        return redirect(url_for("staff.import_upload"))
    folder, files = stash
    report = importer.run_import(files["enterprises"], files["shops"], dry_run=False, actor=current_user)
    if not report.ok:
        db.session.rollback()
        return render_template("staff/import.html", form=ImportForm(), report=report, token=None,
                               apply_form=ApplyImportForm(), available=True)
    record("import.apply", actor=current_user, entity_kind="import", note=json.dumps(
        {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}, ensure_ascii=False))
    db.session.commit()
    shutil.rmtree(folder, ignore_errors=True)
    flash("导入完成：新增 {}，更新 {}，未变 {}。".format(
        sum(report.created.values()), sum(report.updated.values()), sum(report.unchanged.values())), "success")
    return render_template("staff/import.html", form=ImportForm(), report=report, token=None, applied=True,
                           apply_form=ApplyImportForm(), available=True)


def _pos_int(values, name: str) -> int | None:
    raw = (values.get(name) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 and int(raw) > 0 else None


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
    if _pos_int(values, "city"):
        stmt = stmt.where(Enterprise.city_id == _pos_int(values, "city"))
    if _pos_int(values, "industry"):
        stmt = stmt.where(Enterprise.id.in_(select(enterprise_industry.c.enterprise_id)
                                            .where(enterprise_industry.c.industry_id == _pos_int(values, "industry"))))
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
    from ..services.importer import export_enterprises_csv, export_shops_csv

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
    db.session.commit()
    stamp = clock.china_now().strftime("%Y%m%d-%H%M")  # the time staff read on their clocks
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=gdws-{what}-{stamp}.csv",
                             "Cache-Control": "no-store"})
