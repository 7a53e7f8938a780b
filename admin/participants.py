"""Participants in the admin: the list, the create/edit form, their story page and actions.

Reads for the list go through Flask-Admin's scoped session (`ScopedModelView`); everything
that changes a participant loads them by id in a SQLModel session from `services.sessions()`
and calls the domain (`service.enrollment`, `service.actions`, `service.checkins`,
`service.erasure`) in one unit of work, which queues their texts once it commits. Every URL
that takes a participant or recording id first checks it through the view's scoped
`get_one` (or `open_recording`), so another facilitator's ids answer 404.

Everything participants wrote is rendered by Jinja's autoescape; the lists mask phone
numbers (search still finds a number typed in any format: see `_apply_search`).
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    request,
    send_file,
)
from flask_admin import expose
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.form import SecureForm
from flask_login import current_user
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from admin import exports, importer
from admin import participant_list as roster_cells
from admin.base import visible_program_ids
from admin.choices import as_choices, partner_choices, program_choices
from admin.i18n import _, lazy_
from admin.times import local
from admin.views import AuditedModelView, program_country, program_name
from admin.zones import ZoneField
from service import records
from service.core import compose_rules, texts
from service.core.attention_rules import Snooze
from service.core.commitment_labels import LABEL_MAX, label_of
from service.core.commitment_rules import Revision
from service.core.countries import DEFAULT_COUNTRY
from service.core.enums import (
    OPEN_COMMITMENTS,
    CommitmentStatus,
    Language,
    Outcome,
    ParticipantStatus,
    label,
)
from service.core.local_time import utc_title
from service.core.numbers import whole_number
from service.core.phones import display_phone, normalize_phone
from service.core.redact import mask_phone
from service.models import (
    Commitment,
    Facilitator,
    Participant,
    Program,
)
from service.program import actions, closure, story
from service.program import commitments as commitment_ops
from service.program import participants as people
from service.program.erasure import ErasureError, erase_participant
from service.program.roster import roster
from service.services import current
from service.unit_of_work import UnitOfWork
from service.voice.recordings import AUDIO_MIMETYPE, RecordingNotFound, open_recording

assets = Blueprint(
    "realign_participants",
    __name__,
    static_folder="static/participants",
    static_url_path="/admin/participant-assets",
)

STEP_CHOICES = [(str(n), f"{n}. {texts.step_name(n)}") for n in range(1, 6)]
COMMITMENT_ROWS_BLANK = 2
CALENDAR_WEEKS = 6


def services():
    return current()


def step_label(step: int) -> str:
    return f"{step}. {texts.step_name(step)}"


# Forms ------------------------------------------------------------------------------------


def phone_validator(form, field):
    """Read in the chosen program's country ("07911 123456" in a GB program)."""
    country = getattr(form, "countries", {}).get(form.program_id.data, DEFAULT_COUNTRY)
    try:
        field.data = normalize_phone(field.data, country)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class CommitmentForm(Form):
    """One inline commitment row (no CSRF of its own: the outer form carries it)."""

    id = HiddenField()
    text = TextAreaField("Commitment", validators=[Optional(), Length(max=500)])
    label = StringField(
        "Short label", validators=[Optional(), Length(max=LABEL_MAX)],
        description=f"What the daily texts call it, at most {LABEL_MAX} characters; "
        "suggested from the wording when left empty.",
    )  # fmt: skip
    sign = StringField("Sign of progress", validators=[Optional(), Length(max=300)])


class ParticipantForm(SecureForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    phone = StringField(
        "Phone", validators=[InputRequired(), phone_validator],
        description="Any format; numbers without +country are read in the program's country.",
    )  # fmt: skip
    timezone = ZoneField(
        lazy_("Time zone"), validators=[InputRequired()],
        description=lazy_("Where they live: type a city and pick it from the list."),
    )  # fmt: skip
    language = SelectField(
        "Language", choices=[SelectChoice(v, lb) for v, lb in Language.choices()]
    )
    program_id = SelectField("Program", coerce=int, validate_choice=True)
    partner_id = SelectField("Partner", coerce=int, validate_choice=True)
    rejoin = BooleanField("This person asked to be erased before and now asks to join again")
    commitments = FieldList(FormField(CommitmentForm), min_entries=0)


def field_for(message: str) -> str:
    """Which form field a domain refusal is about (for a form error beside it)."""
    text = message.lower()
    for needle, name in (
        ("time zone", "timezone"),
        ("timezone", "timezone"),
        ("language", "language"),
        ("partner", "partner_id"),
        ("linked", "partner_id"),
        ("number", "phone"),
        ("phone", "phone"),
        ("program", "program_id"),
        ("name", "name"),
    ):
        if needle in text:
            return name
    return "name"


def commitment_rows(form) -> list[people.CommitmentRow]:
    """The form's commitment rows, as the service reads them."""
    rows = []
    for entry in form.commitments:
        cid = entry.form.id.data or ""
        rows.append(
            people.CommitmentRow(
                id=int(cid) if cid.isdigit() else (-1 if cid else None),
                text=entry.form.text.data or "",
                sign=entry.form.sign.data or "",
                label=entry.form.label.data or "",
            )
        )
    return rows


def form_error(form, exc) -> bool:
    """A refusal, shown beside the field (or commitment row) it is about."""
    if isinstance(exc, people.RowError):
        row = form.commitments.entries[exc.index].form
        getattr(row, exc.field).errors.append(str(exc))
    elif isinstance(exc, people.ErasedNumber):
        form.phone.errors.append(str(exc))
    else:
        getattr(form, field_for(str(exc))).errors.append(str(exc))
    return False


# Filters ----------------------------------------------------------------------------------


def plain_number(value) -> int:
    """A filter's number: plain digits within the column's range (ValueError otherwise, which
    Flask-Admin shows as an invalid filter value)."""
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


class ProgramFilter(sqla_filters.FilterEqual):
    """The options are the signed-in facilitator's programs, filled in per request
    (Flask-Admin caches filter options when the view is built; see `_get_filter_groups`)."""

    def __init__(self):
        super().__init__(Participant.program_id, "Program", options=[("0", "—")])

    def clean(self, value):
        return plain_number(value)


class StepFilter(sqla_filters.FilterEqual):
    def __init__(self):
        super().__init__(Participant.step, "Step", options=STEP_CHOICES)

    def clean(self, value):
        return plain_number(value)


class StatusFilter(sqla_filters.FilterEqual):
    def __init__(self):
        options = ParticipantStatus.choices()
        super().__init__(Participant.status, "Status", options=options)


# The view ---------------------------------------------------------------------------------


class ParticipantView(AuditedModelView):
    can_create = True
    can_edit = True
    can_delete = False  # erase instead (an action with confirmation)
    can_view_details = True
    list_template = "realign/participant_list.html"
    create_template = "realign/participant_form.html"
    edit_template = "realign/participant_form.html"
    details_template = "realign/participant_details.html"
    # Sort indexes are places in this list (bench/admin.py and links rely on them).
    column_list = (
        "name", "program_id", "step", "status", "streak", "needs_me", "waiting_on",
        "last_inbound_at", "checkins", "phone",
    )  # fmt: skip
    column_labels = {
        "name": lazy_("Name"),
        "program_id": lazy_("Program"),
        "step": lazy_("Step"),
        "status": lazy_("Status"),
        "streak": lazy_("Streak"),
        "needs_me": lazy_("Needs you"),
        "waiting_on": lazy_("Waiting on"),
        "last_inbound_at": lazy_("Last reply"),
        "checkins": lazy_("Check-ins, 14 days"),
        "phone": lazy_("Phone"),
    }
    column_sortable_list = ("name", "step", "status", "streak", "last_inbound_at")
    column_searchable_list = ("name",)  # plus phone numbers: see _apply_search
    column_default_sort = "name"
    column_filters = (
        ProgramFilter(), StepFilter(), StatusFilter(), roster_cells.PersonaFilter(Participant.name),
    )  # fmt: skip
    column_formatters = {
        "program_id": lambda v, c, m, n: g.get("program_names", {}).get(m.program_id, ""),
        "step": lambda v, c, m, n: step_label(m.step),
        "status": lambda v, c, m, n: label("participant_status", m.status),
        "phone": lambda v, c, m, n: mask_phone(
            display_phone(m.phone, program_country(v.session, m.program_id))
        ),
        "needs_me": roster_cells.needs_cell,
        "waiting_on": roster_cells.waiting_cell,
        "last_inbound_at": roster_cells.last_reply_cell,
        "checkins": roster_cells.strip_cell,
    }

    def scope_clause(self, program_ids):
        return Participant.program_id.in_(program_ids)

    # List: search by name or by phone digits; kept ratios computed once per page ----------

    search_placeholder = lambda self: _("Name or last digits of the phone")  # noqa: E731

    def _apply_search(self, query, count_query, joins, count_joins, search):
        for term in search.split():
            like = f"%{term}%"
            clause = Participant.name.ilike(like)
            digits = re.sub(r"\D", "", term).lstrip("0")  # "07911 123456" is +44 7911…
            if len(digits) >= 3:
                clause = sa.or_(clause, Participant.phone.like(f"%{digits}%"))
            query = query.filter(clause)
            if count_query is not None:
                count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if groups and "Program" in groups:
            options = [(str(p), name) for p, name in program_choices(self.session, False)]
            for item in groups["Program"]:
                item["options"] = options
        return groups

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, **kwargs):
        """One page, with what its columns show read once for the page (program names,
        kept ratios): a few statements whatever the page size. The page's ids come first
        (from the sort's index alone, however far down the page is), then their rows."""
        filters = roster_cells.with_personas_hidden(self, filters)
        count, query = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=False, **kwargs
        )
        if not execute:
            return count, query
        ids = [pid for (pid,) in query.with_entities(Participant.id)]
        found = (
            {p.id: p for p in self.session.query(Participant).filter(Participant.id.in_(ids))}
            if ids
            else {}
        )
        rows = [found[pid] for pid in ids if pid in found]
        g.roster_now = services().now()
        g.roster = roster(self.session, rows, g.roster_now)
        program_ids = {r.program_id for r in rows}
        # Held for the page: a `session.get` of one (a row's number format) asks nothing.
        g.page_programs = (
            self.session.query(Program).filter(Program.id.in_(program_ids)).all()
            if program_ids
            else []
        )
        g.program_names = {p.id: p.name for p in g.page_programs}
        return count, rows

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """Any sort, then by id the same way: a stable order, so paging never shows one
        person twice or skips one among equal values (and the sort indexes end in id)."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is None:
            sort_desc = False
        return query.order_by(Participant.id.desc() if sort_desc else Participant.id), joins

    # Create and edit ---------------------------------------------------------------------

    def scaffold_form(self):
        return ParticipantForm

    def render(self, template, **kwargs):
        kwargs.setdefault("label_max", LABEL_MAX)
        if template == self.list_template:
            kwargs["strip_legend"] = roster_cells.legend()
            kwargs["personas_hidden"] = g.get("personas_hidden", False)
            kwargs["show_personas_url"] = roster_cells.show_personas_url(self)
        return super().render(template, **kwargs)

    def _choices(self, form, participant_id=None):
        form.program_id.choices = as_choices(program_choices(self.session))
        form.countries = dict(self.session.execute(sa.select(Program.id, Program.country)).all())
        form.partner_id.choices = as_choices(partner_choices(self.session, exclude=participant_id))

    def create_form(self, obj=None):
        form = super().create_form(obj)
        self._choices(form)
        if request.method == "GET":
            default_program = whole_number(request.args.get("program_id"))
            if default_program in {c.value for c in form.program_id.choices}:
                form.program_id.data = default_program
            elif form.program_id.choices:
                form.program_id.data = form.program_id.choices[0].value
            program = self.session.get(Program, form.program_id.data or 0)
            if not form.timezone.data:
                form.timezone.data = program.timezone if program else "UTC"
        while len(form.commitments) < COMMITMENT_ROWS_BLANK:
            form.commitments.append_entry()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        self._choices(form, participant_id=obj.id if obj is not None else None)
        if obj is not None:
            name = program_name(self.session, obj.program_id)
            form.program_id.choices = [SelectChoice(obj.program_id, name)]
            form.program_id.data = obj.program_id
            if request.method == "GET":
                country = program_country(self.session, obj.program_id)
                form.phone.data = display_phone(obj.phone, country)
                form.partner_id.data = obj.partner_id or 0
                form.commitments.entries = []
                form.commitments.last_index = -1
                for c in self.session.scalars(
                    sa.select(Commitment)
                    .where(
                        Commitment.participant_id == obj.id, Commitment.status.in_(OPEN_COMMITMENTS)
                    )
                    .order_by(Commitment.position, Commitment.id)
                ):
                    form.commitments.append_entry(
                        {"id": str(c.id), "text": c.text, "label": label_of(c), "sign": c.sign}
                    )
        while sum(1 for e in form.commitments if not e.form.id.data) < COMMITMENT_ROWS_BLANK:
            form.commitments.append_entry()
        return form

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    def create_model(self, form):
        svc = services()
        if form.program_id.data not in {pid for pid, _ in program_choices(self.session)}:
            return form_error(form, ValueError("choose one of your programs"))
        with UnitOfWork(svc) as uow:
            program = uow.session.get(Program, form.program_id.data)
            try:
                participant = people.enrol(
                    uow,
                    program,
                    name=form.name.data,
                    phone=form.phone.data,
                    timezone=form.timezone.data,
                    language=form.language.data,
                    partner_id=form.partner_id.data or None,
                    rows=commitment_rows(form),
                    rejoin=bool(form.rejoin.data),
                    secret=svc.settings.effective_secret_key(),
                    visible=visible_program_ids(self.session),
                    actor=current_user.actor,
                )
                uow.commit()
            except ValueError as exc:
                return form_error(form, exc)
        return participant

    def update_model(self, form, model):
        with UnitOfWork(services()) as uow:
            p = uow.session.get(Participant, model.id)
            try:
                people.update(
                    uow,
                    p,
                    name=form.name.data,
                    phone=form.phone.data,
                    timezone=form.timezone.data,
                    language=form.language.data,
                    partner_id=form.partner_id.data or None,
                    rows=commitment_rows(form),
                    visible=visible_program_ids(self.session),
                    actor=current_user.actor,
                )
                uow.commit()
            except ValueError as exc:
                return form_error(form, exc)
        return True

    # The participant's page ----------------------------------------------------------------

    @expose("/details/")
    def details_view(self):
        before = whole_number(request.args.get("before", ""))  # older texts, paged
        return self._details(self.get_one(request.args.get("id")), before=before)

    def _details(
        self,
        model,
        *,
        before: int | None = None,
        body: str = "",
        error: str = "",
        editing: dict | None = None,
    ):
        story = participant_story(model.id, before)
        return self.render(
            self.details_template,
            model=model,
            story=story,
            compose=compose_box(story, body=body, error=error),
            clock=TheirClock(model.timezone, services().now()),
            editing=editing or {},
            here=request.full_path.rstrip("?") if request.method == "GET" else "",
            snoozes=Snooze.choices(),
            return_url=self.get_url(".index_view"),
        )

    # Their commitments: edit, retire, reorder ----------------------------------------------

    def _commitment(self, model) -> int:
        cid = whole_number(request.form.get("commitment"))
        with services().sessions() as s:
            found = s.get(Commitment, cid) if cid is not None else None
            if found is None or found.participant_id != model.id:
                abort(404)
        return cid

    def _back_to_commitments(self, model):
        return redirect(self.get_url(".details_view", id=model.id) + "#commitments")

    @expose("/commitment/edit/", methods=("POST",))
    def commitment_edit_view(self):
        """New wording, short label or sign of progress for one commitment."""
        model = self.get_one(request.form.get("id"))
        cid = self._commitment(model)
        form = CommitmentEditForm(request.form)
        if not form.validate():
            errors = {name: list(f.errors) for name, f in form._fields.items() if f.errors}
            return self._details(model, editing={"id": cid, "form": form, "errors": errors}), 422
        with UnitOfWork(services()) as uow:
            commitment = uow.session.get(Commitment, cid, with_for_update=True)
            try:
                change = commitment_ops.revise(
                    uow,
                    commitment,
                    text=form.text.data,
                    label=form.label.data,
                    sign=form.sign.data,
                    actor=current_user.actor,
                )
            except ValueError as exc:
                field = "label" if "label" in str(exc) or "text message" in str(exc) else "text"
                editing = {"id": cid, "form": form, "errors": {field: [str(exc)]}}
                return self._details(model, editing=editing), 422
            uow.commit()
        flash(str(REVISED[change]), "success")
        return self._back_to_commitments(model)

    @expose("/commitment/retire/", methods=("POST",))
    def commitment_retire_view(self):
        model = self.get_one(request.form.get("id"))
        cid = self._commitment(model)
        with UnitOfWork(services()) as uow:
            commitment = uow.session.get(Commitment, cid, with_for_update=True)
            if commitment.status == CommitmentStatus.RETIRED:
                flash(_("That commitment was retired already."), "info")
                return self._back_to_commitments(model)
            commitment_ops.retire(uow.session, commitment, now=uow.now, actor=current_user.actor)
            uow.commit()
        flash(_("Retired: check-ins no longer ask about it. Its history stays."), "success")
        return self._back_to_commitments(model)

    @expose("/commitment/move/", methods=("POST",))
    def commitment_move_view(self):
        model = self.get_one(request.form.get("id"))
        cid = self._commitment(model)
        offset = {"up": -1, "down": 1}.get(request.form.get("to", ""))
        if offset is None:
            abort(400, description="move a commitment up or down")
        with UnitOfWork(services()) as uow:
            commitment = uow.session.get(Commitment, cid, with_for_update=True)
            if commitment.status == CommitmentStatus.RETIRED:
                flash(_("A retired commitment has no place in the check-in."), "info")
                return self._back_to_commitments(model)
            commitment_ops.move(
                uow.session, commitment, offset, now=uow.now, actor=current_user.actor
            )
            uow.commit()
        flash(_("Moved: the check-in lists them in this order."), "success")
        return self._back_to_commitments(model)

    @expose("/text/", methods=("POST",))
    def text_view(self):
        """Text them what the facilitator wrote (the compose box on their page)."""
        model = self.get_one(request.form.get("id"))
        body = (request.form.get("body") or "").replace("\x00", "")
        nonce = request.form.get("nonce", "")
        if not NONCE.fullmatch(nonce):
            abort(400, description="the form is out of date: reload the page")
        svc = services()
        with UnitOfWork(svc) as uow:
            p = uow.session.get(Participant, model.id, with_for_update=True)
            try:
                sent = actions.text_participant(uow, p, body, actor=current_user.actor, nonce=nonce)
            except actions.ActionError as exc:
                # The page again, the words kept, the reason beside them.
                return self._details(model, body=body, error=f"Not sent: {exc}."), 422
            uow.commit()
        now = svc.now()
        if sent.send_after is not None and sent.send_after > now:
            when = local(sent.send_after, model.timezone, now)
            flash(f"Queued: it leaves {when}, their time (their waking hours).", "success")
        else:
            flash("Sent.", "success")
        return redirect(self.get_url(".details_view", id=model.id) + "#conversation")

    @expose("/audio/")
    def audio_view(self):
        """A recording's audio, only for a facilitator of that participant's program."""
        rid = whole_number(request.args.get("id"))
        if rid is None:
            abort(404)
        svc = services()
        with svc.sessions() as s:
            facilitator = s.get(Facilitator, current_user.id)
            try:
                path = open_recording(s, facilitator, rid, now=svc.now())
            except RecordingNotFound:
                abort(404)
            s.commit()
        response = send_file(path, mimetype=AUDIO_MIMETYPE, conditional=True, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    # Actions -------------------------------------------------------------------------------

    SIMPLE_ACTIONS = {
        "invite": (actions.reinvite, "The invitation is queued."),
        "prompt": (actions.send_prompt_now, "The current step's prompt is queued."),
        "advance": (actions.advance, "Moved on to the next step; its first text is queued."),
        "pause": (actions.pause, "Paused: no check-ins or nudges until resumed."),
        "resume": (actions.resume, "Resumed."),
    }

    @expose("/do/", methods=("POST",))
    def do_view(self):
        model = self.get_one(request.form.get("id"))
        name = request.form.get("action", "")
        if name not in self.SIMPLE_ACTIONS:
            abort(400, description="unknown action")
        func, done = self.SIMPLE_ACTIONS[name]
        with UnitOfWork(services()) as uow:
            p = uow.session.get(Participant, model.id, with_for_update=True)
            try:
                func(uow, p, actor=current_user.actor)
                uow.commit()
            except actions.ActionError as exc:
                flash(f"Not done: {exc}.", "error")
                return redirect(self.get_url(".details_view", id=model.id))
        flash(done, "success")
        return redirect(self.get_url(".details_view", id=model.id))

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self):
        model = self.get_one(request.values.get("id"))
        form = CloseForm(request.form if request.method == "POST" else None)
        if model.status == "closed":
            flash(f"{model.name} is already closed.", "info")
            return redirect(self.get_url(".details_view", id=model.id))
        program = self.session.get(Program, model.program_id)
        overrides = program.text_overrides or {}
        if request.method == "POST" and form.validate():
            closure.close(
                services(),
                model.id,
                outcome=form.outcome.data,
                actor=current_user.actor,
                message=texts.custom_closing(
                    form.message.data, form.outcome.data, model.language, overrides
                ),
            )
            flash(f"{model.name}'s program is closed; nothing more is scheduled.", "success")
            return redirect(self.get_url(".details_view", id=model.id))
        return self.render(
            "realign/participant_close.html",
            model=model,
            form=form,
            outcomes=Outcome.choices(),
            standard=texts.closing_texts(model.language, overrides),
        )

    @expose("/export/", methods=("POST",))
    def export_view(self):
        model = self.get_one(request.form.get("id"))
        svc = services()
        with svc.sessions() as s:
            p = s.get(Participant, model.id)
            archive = exports.participant_zip(s, p)
            records.audit(s, current_user.actor, "export_participant", p, now=svc.now())
            s.commit()
        name = exports.filename(model)
        return send_file(
            archive, mimetype="application/zip", as_attachment=True, download_name=name
        )

    @expose("/erase/", methods=("GET", "POST"))
    def erase_view(self):
        model = self.get_one(request.values.get("id"))
        form = EraseForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            if form.confirm_name.data.strip() != model.name.strip():
                form.confirm_name.errors.append("type the participant's name exactly as shown")
            else:
                try:
                    erased = erase_participant(services(), model.id, actor=current_user.actor)
                except ErasureError as exc:
                    flash(str(exc), "error")
                    return redirect(self.get_url(".details_view", id=model.id))
                message = "Erased. Only a hashed marker of their number remains."
                if erased.at_twilio:
                    message += (
                        " Twilio's copies of their texts, calls and recordings are being deleted."
                    )
                flash(message, "success")
                return redirect(self.get_url(".index_view"))
        return self.render("realign/participant_erase.html", model=model, form=form)

    # CSV import ---------------------------------------------------------------------------

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        return importer.upload(self)

    @expose("/import/run/", methods=("POST",))
    def import_run_view(self):
        return importer.run(self)

    @expose("/import/progress/")
    def import_progress_view(self):
        return importer.progress(self)


class CloseForm(Form):
    """No outcome is chosen for the facilitator: they pick one."""

    outcome = RadioField(
        "Outcome",
        choices=[SelectChoice(value, label) for value, label in Outcome.choices()],
        validators=[InputRequired("Choose an outcome.")],
    )
    message = TextAreaField(
        "Closing message",
        validators=[Optional(), Length(max=640)],
        description="The standard closing text for the outcome, as it is or edited.",
    )


class CommitmentEditForm(Form):
    """One commitment's words, label and sign (the page's CSRF token is checked for every
    admin POST: admin/security.py)."""

    text = TextAreaField(lazy_("Commitment"), validators=[InputRequired(), Length(max=500)])
    label = StringField(lazy_("Short label"), validators=[Optional(), Length(max=LABEL_MAX)])
    sign = StringField(lazy_("Sign of progress"), validators=[Optional(), Length(max=300)])


REVISED = {
    Revision.NEEDS_AGREEMENT: lazy_(
        "Saved. The wording changed, so they are asked to AGREE to it again; until they do, "
        "check-ins do not ask about it."
    ),
    Revision.KEEPS_AGREEMENT: lazy_(
        "Saved. Their agreement stands: only the label or sign changed, and the check-ins "
        "use the new label."
    ),
    Revision.NONE: lazy_("Nothing changed."),
}


class TheirClock:
    """Times on a participant's page: in their zone, in words, UTC only in a tooltip."""

    def __init__(self, tz: str, now):
        self.tz, self.now = tz, now

    def local(self, at) -> str:
        return local(at, self.tz, self.now) if at is not None else ""

    def title(self, at) -> str:
        return utc_title(at) if at is not None else ""

    def place(self) -> str:
        """'New York' for America/New_York."""
        return (self.tz or "UTC").rsplit("/", 1)[-1].replace("_", " ")


class EraseForm(Form):
    confirm_name = StringField("Type their name to confirm", validators=[InputRequired()])


NONCE = re.compile(r"[0-9a-f]{32}")


def compose_box(story: dict, *, body: str, error: str) -> dict:
    """What the compose box shows: whether they may be texted (else why not), and when a
    text written now would leave, in their time."""
    p, svc = story["p"], services()
    now = svc.now()
    leaves = actions.leaves_at(p, story["program"], now)
    return {
        "refusal": compose_rules.refusal(p.status),
        "leaves": None if leaves <= now else local(leaves, p.timezone, now),
        "nonce": uuid.uuid4().hex,
        "body": body,
        "error": error,
        "max": compose_rules.MAX_BODY,
    }


def participant_story(pid: int, before: int | None = None) -> dict:
    svc = services()
    with svc.sessions() as s:
        return story.participant_story(s, pid, svc.now(), before=before)


def register(admin, app, db):
    """Add the participants view and its static assets (called from admin/setup.py)."""
    app.register_blueprint(assets)
    view = ParticipantView(Participant, db, name=lazy_("Participants"), endpoint="participants")
    admin.add_view(view)
    return view
