"""Flask-WTF side of one-time form tokens (``services.formtoken``): a base form and three helpers.

    class ObjectionForm(OneTimeForm):
        purpose = "objection"
        ...

    form = ObjectionForm()
    done = earlier_result(form)                 # a reload or double click of a form already filed
    if done: return redirect(receipt(done))
    if form.validate_on_submit():               # also refuses a forged or expired token (input kept)
        with catch_refusal() as refusal:
            winner = spend_token(form)          # consumed in this request's transaction
            if winner is not None:              # a simultaneous twin filed it first
                return redirect(receipt(winner), 303)
            thing = service.file(...)           # a refusal rolls the token back with the filing
            record_result(form, thing.reference)
            return redirect(receipt(thing.reference), 303)   # POST-redirect-GET
        show_errors(form, refusal.error)

The request's unit of work commits the spent token together with what was filed, so a reload
after the commit finds it, and a refused submission leaves the token usable for the corrected one.
"""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..services import formtoken


class OneTimeForm(FlaskForm):
    """A form that files something once. Subclasses set ``purpose`` (a short name per form)."""

    purpose = ""
    form_token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():  # a submission must bring the token it was rendered with
            self.form_token.data = formtoken.issue(self.purpose)

    def validate_form_token(self, field):
        try:
            formtoken.check(field.data, self.purpose)
        except formtoken.StaleForm as err:
            field.data = formtoken.issue(self.purpose)  # the form comes back with a fresh token
            raise ValidationError(str(err)) from None


def earlier_result(form: OneTimeForm) -> str | None:
    """On a POST, what an earlier successful submission of this very form made (else None)."""
    if request.method != "POST":
        return None
    return formtoken.previous(form.form_token.data, form.purpose)


def spend_token(form: OneTimeForm) -> str | None:
    """Consume the (validated) form's token before filing: None when this request may file, else
    the result of the simultaneous submission that spent it first (show that one's receipt)."""
    return formtoken.spend(form.form_token.data, form.purpose)


def record_result(form: OneTimeForm, result: str) -> None:
    """Note what this request filed on its token (what a reload of the form is shown)."""
    formtoken.record_result(form.form_token.data, form.purpose, result)
