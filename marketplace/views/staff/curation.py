"""Staff console: curation — featured slots (home carousel, industry rows) and the home preview."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...clock import china_local_to_utc, china_wall_time, utc_now
from ...extensions import db
from ...models import Enterprise, Industry, Placement
from ...services import curation
from ...unit_of_work import catch_refusal, on_refusal
from ..helpers import choice_arg, int_arg, page_arg
from ..public import render_home
from .blueprint import bp, staff_only
from ..form_fields import DT_FORMAT
from .forms import EmptyForm, MoveForm, SlotForm, SlotTimesForm


def _industry_choices():
    return [(0, "（首页焦点图不需要）")] + [
        (i.id, i.name) for i in db.session.scalars(select(Industry).order_by(Industry.position))]


def _to_utc(value: datetime | None) -> datetime | None:
    return china_local_to_utc(value) if value else None


@bp.route("/curation", methods=["GET", "POST"])
@staff_only
def curation_list():
    """Featured slots by placement with their state (live / scheduled / ended) and the add form."""
    form = SlotForm()
    form.industry_id.choices = _industry_choices()
    if request.method == "GET":
        picked = int_arg("pick")
        if picked:
            form.enterprise_id.data = picked
        if form.starts_at.data is None:
            form.starts_at.data = china_wall_time(utc_now()).replace(second=0, microsecond=0)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            slot = curation.create_slot(
                placement=form.placement.data, enterprise_id=form.enterprise_id.data,
                industry_id=form.industry_id.data or None, starts_at=_to_utc(form.starts_at.data),
                ends_at=_to_utc(form.ends_at.data), title=form.title.data or "", actor=current_user)
            flash(f"已添加推荐位：{slot.enterprise.display_name}。", "success")
            return redirect(url_for("staff.curation_list"))
        flash(refusal.message, "error")
    placement = choice_arg("placement", Placement.LABELS)
    state = choice_arg("state", curation.STATE_LABELS)
    industry_id = int_arg("industry")
    pagination = db.paginate(curation.slots_query(placement=placement, state=state, industry_id=industry_id),
                             page=page_arg(), per_page=50, error_out=False)
    q = (request.args.get("q") or "").strip()[:60]
    candidates = curation.find_enterprises(q) if q else []
    picked_ent = db.session.get(Enterprise, form.enterprise_id.data) if form.enterprise_id.data else None
    now = utc_now()
    return render_template(
        "staff/curation.html", form=form, pagination=pagination, placement=placement, state=state,
        industry_id=industry_id, industries=db.session.scalars(select(Industry).order_by(Industry.position)).all(),
        placements=Placement.LABELS, states=curation.STATE_LABELS, slot_state=curation.slot_state, now=now,
        q=q, candidates=candidates, picked=picked_ent, action_form=EmptyForm(),
        preview_default=china_wall_time(now).strftime("%Y-%m-%dT%H:%M"),
    )


@bp.route("/curation/<int:slot_id>", methods=["GET", "POST"])
@staff_only
def curation_edit(slot_id: int):
    """Change a slot's time window and title (refused when the slot changed since the form was
    rendered; the form keeps what was typed)."""
    slot = curation.get_slot(slot_id)
    form = SlotTimesForm()
    if request.method == "GET":
        form.starts_at.data = china_wall_time(slot.starts_at)
        form.ends_at.data = china_wall_time(slot.ends_at) if slot.ends_at else None
        form.title.data = slot.title
        form.version.data = slot.version
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            curation.update_slot_times(slot, _to_utc(form.starts_at.data), _to_utc(form.ends_at.data),
                                       form.title.data or "", current_user, seen_version=form.version.data)
            flash("推荐位已更新。", "success")
            return redirect(url_for("staff.curation_list"))
        flash(refusal.message, "error")
    return render_template("staff/curation_edit.html", slot=slot, form=form)


@bp.route("/curation/<int:slot_id>/move", methods=["POST"])
@staff_only
def curation_move(slot_id: int):
    """Move a slot up or down within its placement."""
    slot = curation.get_slot(slot_id)
    back = url_for("staff.curation_list", placement=slot.placement)
    on_refusal(back)
    form = MoveForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        abort(400)
    curation.move_slot(slot, form.direction.data, current_user)
    return redirect(back)


@bp.route("/curation/<int:slot_id>/end", methods=["POST"])
@staff_only
def curation_end(slot_id: int):
    """End a live slot now, or delete one that has not started."""
    slot = curation.get_slot(slot_id)
    on_refusal(url_for("staff.curation_list"))
    if not EmptyForm().validate_on_submit():
        abort(400)
    curation.end_slot(slot, current_user)
    flash("推荐位已结束或删除。", "success")
    return redirect(url_for("staff.curation_list"))


@bp.route("/curation/preview")
@staff_only
def curation_preview():
    """The home page as it will look at a chosen moment (China time), via public.render_home."""
    raw = (request.args.get("at") or "").strip()
    at = None
    for fmt in DT_FORMAT + ["%Y-%m-%d"]:
        try:
            at = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if at is None:
        flash("请输入有效的预览时间。", "error")
        return redirect(url_for("staff.curation_list"))
    at_utc = china_local_to_utc(at)
    return render_home(at_utc, preview=True)


@bp.route("/api/enterprises")
@staff_only
def api_enterprises():
    """JSON for the slot picker: certified enterprises matching ``q`` by name or brand."""
    q = (request.args.get("q") or "").strip()[:60]
    return jsonify({"results": [{"id": e.id, "name": e.name, "brand": e.display_name, "city": e.city.name}
                                for e in curation.find_enterprises(q)] if q else []})
