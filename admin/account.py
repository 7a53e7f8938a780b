"""My account: the signed-in facilitator's own phone (for the daily digest), time zone and
the language of their admin screens."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.form import SecureForm
from flask_babel import refresh
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from admin.base import SignedInView
from admin.i18n import _, language_choices, lazy_
from admin.zones import ZoneField
from service import records
from service.models import Facilitator
from service.program import accounts
from service.services import current


def phone_validator(form, field):
    try:
        field.data = accounts.facilitator_phone(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def timezone_validator(form, field):
    try:
        field.data = accounts.facilitator_timezone(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def language_validator(form, field):
    try:
        field.data = accounts.facilitator_language(field.data)
    except ValueError:
        raise ValidationError(_("Choose one of the languages in the list.")) from None


class AccountForm(SecureForm):
    phone = StringField(
        lazy_("Phone"),
        validators=[Length(max=40), phone_validator],
        description=lazy_(
            "Where the daily digest is texted, e.g. +1 201 555 0177; leave empty for no texts."
        ),
    )
    timezone = ZoneField(
        lazy_("Time zone"),
        validators=[InputRequired(), Length(max=64), timezone_validator],
        description=lazy_("Your own: the daily digest comes at 9:00 there."),
    )
    language = SelectField(
        lazy_("Language"),
        choices=language_choices,
        validators=[language_validator],
        validate_choice=False,
        description=lazy_("The language of your admin screens."),
    )


class AccountView(SignedInView):
    def __init__(self, db, **kwargs):
        super().__init__(**kwargs)
        self.db = db

    @expose("/", methods=("GET", "POST"))
    def index(self):
        me = self.db.get(Facilitator, current_user.id)
        form = AccountForm(request.form if request.method == "POST" else None, obj=me)
        if request.method == "GET":
            form.language.data = me.language or ""
        if request.method == "POST" and form.validate():
            changed = [
                name
                for name in ("phone", "timezone", "language")
                if getattr(me, name) != form[name].data
            ]
            me.phone, me.timezone = form.phone.data, form.timezone.data
            me.language = form.language.data
            if changed:
                records.audit(
                    self.db,
                    current_user.actor,
                    "facilitator.update",
                    me,
                    now=current().now(),
                    detail={"fields": changed},
                )
            self.db.commit()
            # Said, and the next page drawn, in the language just chosen.
            current_user.language = me.language
            refresh()
            flash(_("Your account is saved."), "success")
            return redirect(url_for(".index"))
        return self.render("realign/account.html", form=form, me=me)
