"""Staff console: search synonyms — the shipped list and staff's own rules, applied to the next
search without a rebuild (``services.synonyms``; every change is audited)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ...extensions import db
from ...models import SearchSynonym, SynonymCategory, SynonymKind
from ...search_sync.querying import explain_expansions
from ...services import synonyms
from ...unit_of_work import catch_refusal, on_refusal
from ..helpers import choice_arg, page_arg
from .blueprint import bp, staff_only
from .forms import REQUIRED, EmptyForm

STATES = {"active": "使用中", "inactive": "已停用", "all": "全部"}


class SynonymForm(FlaskForm):
    """One rule: a two-way group, or a one-way expansion (words people type => what else to find)."""

    kind = SelectField("类型", choices=list(SynonymKind.LABELS.items()), validators=[InputRequired(REQUIRED)])
    terms = StringField("词语", validators=[InputRequired(REQUIRED), Length(max=600, message="词语太多。")])
    targets = StringField("扩展词（仅单向扩展）", validators=[Optional(), Length(max=600, message="扩展词太多。")])
    category = SelectField("分类", choices=[(c, c) for c in SynonymCategory.ALL], default=SynonymCategory.OTHER,
                           validators=[InputRequired(REQUIRED)])
    note = StringField("来源或备注", validators=[Optional(), Length(max=300, message="不超过 300 字。")])

    def values(self) -> dict:
        return {"kind": self.kind.data, "terms": self.terms.data or "", "targets": self.targets.data or "",
                "category": self.category.data, "note": self.note.data or ""}


def _filters() -> dict:
    return {"q": (request.args.get("q") or "").strip()[:20], "kind": choice_arg("kind", SynonymKind.LABELS),
            "category": choice_arg("category", SynonymCategory.ALL),
            "state": choice_arg("state", STATES, default="active")}


@bp.route("/synonyms", methods=["GET", "POST"])
@staff_only
def synonyms_list():
    """The rules (filter by word, type, category, on/off), the add form and a query tester."""
    form = SynonymForm()
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            syn = synonyms.create(current_user, **form.values())
            flash(f"已添加同义词规则 #{syn.id}：{'、'.join(syn.term_list)}。下一次搜索即生效。", "success")
            return redirect(url_for("staff.synonyms_list"))
        flash(str(refusal.error), "error")
    filters = _filters()
    pagination = db.paginate(synonyms.list_query(**filters), page=page_arg(), per_page=50, error_out=False)
    trial = (request.args.get("try") or "").strip()[:60]
    return render_template("staff/synonyms.html", form=form, pagination=pagination, filters=filters,
                           states=STATES, kinds=SynonymKind.LABELS, categories=SynonymCategory.ALL,
                           action_form=EmptyForm(), trial=trial,
                           trial_result=explain_expansions(trial) if trial else None)


@bp.route("/synonyms/<int:syn_id>", methods=["GET", "POST"])
@staff_only
def synonym_edit(syn_id: int):
    """Change one rule's type, words, category or note."""
    syn = db.get_or_404(SearchSynonym, syn_id)
    form = SynonymForm()
    if request.method == "GET":
        form.kind.data, form.category.data, form.note.data = syn.kind, syn.category, syn.note
        form.terms.data, form.targets.data = "，".join(syn.term_list), "，".join(syn.target_list)
    if form.validate_on_submit():
        with catch_refusal() as refusal:
            synonyms.update(syn_id, current_user, **form.values())
            flash(f"已保存同义词规则 #{syn_id}。下一次搜索即生效。", "success")
            return redirect(url_for("staff.synonyms_list"))
        flash(str(refusal.error), "error")
    return render_template("staff/synonym_edit.html", form=form, syn=syn)


@bp.route("/synonyms/<int:syn_id>/active", methods=["POST"])
@staff_only
def synonym_active(syn_id: int):
    """Switch a rule off (the search stops using it at once) or back on."""
    form = EmptyForm()
    db.get_or_404(SearchSynonym, syn_id)
    enable = request.form.get("enable") == "1"
    if not form.validate_on_submit():
        flash("页面已过期，请刷新后重试。", "error")
        return redirect(url_for("staff.synonyms_list"))
    on_refusal(url_for("staff.synonyms_list"))
    synonyms.set_active(syn_id, enable, current_user)
    flash(f"已{'启用' if enable else '停用'}同义词规则 #{syn_id}。", "success")
    return redirect(url_for("staff.synonyms_list"))
