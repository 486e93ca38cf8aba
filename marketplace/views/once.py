"""Flask-WTF side of one-time form tokens (``services.formtoken``): a base form and two helpers.

    class ObjectionForm(OneTimeForm):
        purpose = "objection"
        ...

    form = ObjectionForm()
    done = earlier_result(form)            # a reload or double click of a form already filed
    if done: return redirect(receipt(done))
    if form.validate_on_submit():          # also refuses a forged or expired token (input kept)
        thing = service.file(...)          # raises ServiceError on bad input: nothing spent
        result = commit_once(form, thing.reference)   # the winner's result if a twin got there first
        return redirect(receipt(result), 303)         # POST-redirect-GET
"""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..extensions import db
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


def commit_once(form: OneTimeForm, result: str) -> str:
    """Spend the form's token for ``result`` and commit.

    When a simultaneous submission of the same form committed first, this one rolls back and the
    winner's result is returned instead, so both requests lead to the same receipt.
    """
    try:
        formtoken.spend(form.form_token.data, form.purpose, result)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        winner = formtoken.previous(form.form_token.data, form.purpose)
        if winner is None:
            raise
        return winner
    return result
