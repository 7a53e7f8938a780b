"""The admin's model pages: participants, facilitators, audit log.

The dashboard is in admin/dashboard.py, programs in admin/programs.py, the simulator in
admin/simulator.py and queue health in admin/queues.py.

Everything participants or facilitators wrote is rendered through Jinja's autoescape (no
formatter here returns Markup), and phone numbers are masked but for the last two digits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash
from flask_login import current_user, login_user
from wtforms import PasswordField, SelectField
from wtforms.fields import SelectChoice

from admin.audit_words import action_words, actor_name, detail_text, words
from admin.auth import AdminUser
from admin.base import ScopedModelView
from admin.i18n import _, label, language_choices, lazy_
from admin.times import LOCAL_TIMES, LOCAL_TIMES_DETAIL
from admin.zones import ZoneField
from service import records
from service.core.enums import Role
from service.models import Facilitator, Program
from service.program import accounts
from service.services import current


def now():
    return current().now()


class AuditedModelView(ScopedModelView):
    """Edits made through the admin leave an AuditEvent naming the fields (not values)."""

    def on_model_change(self, form, model, is_created):
        changed = [attr.key for attr in sa.inspect(model).attrs if attr.history.has_changes()]
        action = f"{type(model).__name__.lower()}.{'create' if is_created else 'update'}"
        detail = {"fields": sorted(changed)}
        records.audit(self.session, current_user.actor, action, model, now=now(), detail=detail)


def owner_name(db, facilitator_id: int) -> str:
    owner = db.get(Facilitator, facilitator_id)  # identity map: one query per owner
    return owner.name if owner else ""


def owner_names(db, facilitator_ids) -> dict[int, str]:
    """Names of these facilitators, in one statement (for a list page)."""
    if not facilitator_ids:
        return {}
    rows = db.execute(
        sa.select(Facilitator.id, Facilitator.name).where(Facilitator.id.in_(facilitator_ids))
    )
    return dict(rows.all())


def program_names(db, program_ids) -> dict[int, str]:
    """Names of these programs, in one statement (for a list page)."""
    if not program_ids:
        return {}
    rows = db.execute(sa.select(Program.id, Program.name).where(Program.id.in_(program_ids)))
    return dict(rows.all())


def program_name(db, program_id: int) -> str:
    program = db.get(Program, program_id)
    return program.name if program else ""


def program_country(db, program_id: int) -> str | None:
    """Whose national format the program's numbers are shown in."""
    program = db.get(Program, program_id)
    return program.country if program else None


class FacilitatorView(ScopedModelView):
    """Accounts, for admins only. Passwords go through service.accounts (argon2)."""

    admin_only = True
    can_delete = False  # deactivate instead: programs keep their owner
    column_list = ("email", "name", "role", "is_active", "last_login_at", "created_at")
    column_searchable_list = ("email", "name")
    column_labels = {
        "is_active": lazy_("Active"),
        "last_login_at": lazy_("Last signed in"),
        "created_at": lazy_("Created"),
    }
    column_filters = ("role", "is_active")
    column_default_sort = "email"
    column_labels = {
        "email": lazy_("Email"),
        "name": lazy_("Name"),
        "contact": lazy_("Contact"),
        "phone": lazy_("Phone"),
        "timezone": lazy_("Time zone"),
        "language": lazy_("Language"),
        "role": lazy_("Role"),
        "is_active": lazy_("Active"),
        "last_login_at": lazy_("Last signed in"),
        "created_at": lazy_("Created"),
        "password": lazy_("Password"),
    }
    form_columns = (
        "email", "name", "contact", "phone", "timezone", "language", "role", "is_active",
        "password",
    )  # fmt: skip
    form_args = {
        "email": {"label": lazy_("Email")},
        "name": {"label": lazy_("Name")},
        "contact": {
            "label": lazy_("Contact"),
            "description": lazy_("How participants can reach you (shown in HELP)."),
        },
        "phone": {
            "label": lazy_("Phone"),
            "description": lazy_("Where the daily digest is texted; leave empty for no texts."),
        },
        "timezone": {
            "label": lazy_("Time zone"),
            "description": lazy_("Their own: the daily digest comes at 9:00 there."),
        },
        "language": {
            "label": lazy_("Language"),
            "choices": language_choices,
            "description": lazy_("The language of their admin screens."),
        },
        "is_active": {"label": lazy_("Active")},
    }
    form_overrides = {"role": SelectField, "timezone": ZoneField, "language": SelectField}
    form_args["role"] = {
        "label": lazy_("Role"),
        "choices": lambda: [SelectChoice(v, _(lb)) for v, lb in Role.choices()],
    }
    column_formatters = {
        "role": lambda v, c, m, n: label("role", m.role),
        "language": lambda v, c, m, n: label("language", m.language) or _("As their browser asks"),
    }
    column_type_formatters = LOCAL_TIMES
    column_type_formatters_detail = LOCAL_TIMES_DETAIL
    form_extra_fields = {"password": PasswordField(lazy_("Password"))}

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.password.description = _(
            "At least %(count)s characters, and not a common password.",
            count=accounts.MIN_PASSWORD_LENGTH,
        )
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.email  # the sign-in name stays; create a new account instead
        form.password.description = _("Leave blank to keep the current password.")
        return form

    def create_model(self, form):
        try:
            facilitator = accounts.create_facilitator(
                self.session,
                form.email.data,
                form.name.data,
                form.password.data or "",
                role=form.role.data,
                contact=form.contact.data or "",
                phone=form.phone.data,
                timezone=form.timezone.data,
                language=form.language.data,
            )
            facilitator.is_active = bool(form.is_active.data)
            records.audit(
                self.session,
                current_user.actor,
                "facilitator.create",
                facilitator,
                now=now(),
                detail={"role": facilitator.role},
            )
            self.session.commit()
        except ValueError as exc:
            self.session.rollback()
            flash(str(exc), "error")
            return False
        return facilitator

    def update_model(self, form, model):
        is_self = model.id == current_user.id
        if is_self and (form.role.data != "admin" or not form.is_active.data):
            flash(_("You cannot remove your own admin role or deactivate yourself."), "error")
            return False
        try:
            phone = accounts.facilitator_phone(form.phone.data)
            timezone = accounts.facilitator_timezone(form.timezone.data)
            language = accounts.facilitator_language(form.language.data)
        except ValueError as exc:
            flash(str(exc), "error")
            return False
        form.phone.data, form.timezone.data, form.language.data = phone, timezone, language
        changed = [
            name
            for name in ("name", "contact", "phone", "timezone", "language", "role", "is_active")
            if getattr(model, name) != getattr(form, name).data
        ]
        try:
            if form.password.data:
                accounts.set_password(model, form.password.data)
                changed.append("password")
        except ValueError as exc:
            flash(str(exc), "error")
            return False
        model.name = form.name.data.strip()
        model.contact = (form.contact.data or "").strip()
        model.phone, model.timezone, model.language = phone, timezone, language
        model.role = form.role.data
        model.is_active = bool(form.is_active.data)
        detail = {"fields": changed}
        records.audit(
            self.session, current_user.actor, "facilitator.update", model, now=now(), detail=detail
        )
        self.session.commit()
        if is_self and "password" in changed:
            login_user(AdminUser(model))  # keep this session; others end (new fingerprint)
        return True


class AuditEventView(ScopedModelView):
    admin_only = True
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = ("at", "actor", "action", "entity", "entity_id", "detail")
    column_labels = {
        "at": lazy_("When"),
        "actor": lazy_("Who"),
        "action": lazy_("What"),
        "entity": lazy_("Of"),
        "entity_id": lazy_("Record"),
        "detail": lazy_("Detail"),
    }
    column_formatters = {
        "actor": lambda v, c, m, n: actor_name(v.session, m.actor),
        "action": lambda v, c, m, n: action_words(m.action),
        "entity": lambda v, c, m, n: words(m.entity),
        "detail": lambda v, c, m, n: detail_text(m.detail),
    }
    column_formatters_detail = column_formatters
    column_type_formatters = LOCAL_TIMES
    column_type_formatters_detail = LOCAL_TIMES_DETAIL
    column_default_sort = ("at", True)
    column_filters = ("actor", "action", "entity", "at")
    column_searchable_list = ("actor", "action")
