"""One-time form tokens (services.formtoken, views.once): the building block other forms reuse.

The token is spent in the same transaction as the filing (a conditional insert on its key), so it
is committed with the filing or rolled back with a refusal."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import insert

from marketplace import clock
from marketplace.extensions import db
from marketplace.models import UsedFormToken
from marketplace.services import formtoken
from marketplace.views.once import OneTimeForm, earlier_result, record_result, spend_token


class DemoForm(OneTimeForm):
    purpose = "demo"


def test_tokens_are_bound_to_their_form_and_signed(app):
    token = formtoken.issue("objection")
    formtoken.check(token, "objection")
    for bad, purpose in ((token, "complaint"), (token[:-2] + "xx", "objection"), ("", "objection"),
                         (None, "objection"), ("a" * 500, "objection")):
        with pytest.raises(formtoken.StaleForm):
            formtoken.check(bad, purpose)
    assert formtoken.issue("objection") != token


def test_spend_then_previous_and_old_tokens_forgotten(app):
    token = formtoken.issue("demo")
    assert formtoken.previous(token, "demo") is None
    assert formtoken.spend(token, "demo") is None  # this transaction holds the token now
    formtoken.record_result(token, "demo", "OBJ-1")
    db.session.commit()
    assert formtoken.previous(token, "demo") == "OBJ-1"
    assert formtoken.previous(token, "other") is None
    assert formtoken.spend(token, "demo") == "OBJ-1"  # spent already: the first result, nothing new
    db.session.rollback()
    with clock.frozen(clock.utc_now() + timedelta(days=3)):
        assert formtoken.spend(formtoken.issue("demo"), "demo") is None
        db.session.commit()
    assert formtoken.previous(token, "demo") is None  # pruned after two days
    assert db.session.query(UsedFormToken).count() == 1


def test_a_rolled_back_filing_leaves_the_token_usable(app):
    """The token goes with the transaction: a refused filing rolls it back, the retry may file."""
    token = formtoken.issue("demo")
    assert formtoken.spend(token, "demo") is None
    db.session.rollback()
    assert formtoken.previous(token, "demo") is None
    assert formtoken.spend(token, "demo") is None
    formtoken.record_result(token, "demo", "OBJ-3")
    db.session.commit()
    assert formtoken.previous(token, "demo") == "OBJ-3"


def test_spend_token_hands_back_the_winner_of_a_race(app):
    """The other request committed the same token between our check and our spending it."""
    token = formtoken.issue("demo")
    with app.test_request_context("/demo", method="POST", data={"form_token": token}):
        form = DemoForm(meta={"csrf": False})
        assert form.validate() and earlier_result(form) is None
        with db.engine.begin() as conn:  # the twin request, on its own connection
            conn.execute(insert(UsedFormToken).values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(), purpose="demo", result="WINNER",
                used_at=clock.utc_now()))
        assert spend_token(form) == "WINNER"  # nothing to file: show the winner's receipt
        assert earlier_result(form) == "WINNER"
    db.session.rollback()
    with app.test_request_context("/demo", method="POST", data={"form_token": formtoken.issue("demo")}):
        form = DemoForm(meta={"csrf": False})
        assert spend_token(form) is None
        record_result(form, "MINE")
        db.session.commit()
        assert earlier_result(form) == "MINE"


def test_a_get_always_gets_a_fresh_token_and_a_post_keeps_its_own(app):
    with app.test_request_context("/demo"):
        first = DemoForm(meta={"csrf": False}).form_token.data
        second = DemoForm(meta={"csrf": False}).form_token.data
    assert first and second and first != second
    with app.test_request_context("/demo", method="POST", data={"form_token": first}):
        assert DemoForm(meta={"csrf": False}).form_token.data == first
    with app.test_request_context("/demo", method="POST", data={"form_token": "junk"}):
        form = DemoForm(meta={"csrf": False})
        assert not form.validate() and form.form_token.errors
        formtoken.check(form.form_token.data, "demo")  # replaced by a usable one for the re-render
