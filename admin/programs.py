"""Programs in the admin: every setting, co-facilitators, texts per language, closure.

* The create/edit form is our own (`ProgramForm`): a friendly cadence (kind, weekdays,
  every-N, time) that becomes the stored cadence string, quiet hours, pacing, language,
  dates, and every option in `service.programs.DEFAULT_OPTIONS`. What the form cannot
  check, `validate_program` does; its `ProgramError` is shown on the form (never a 500).
* Texts: the texts editor (admin/program_texts.py), mixed into this view.
* Closure: outcome + closing message; every open participant is closed through
  `service.program.closure` (closing text once, schedules stopped), then the program.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.form import SecureForm
from flask_login import current_user
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from admin import exports
from admin.base import ScopedModelView
from admin.i18n import _, lazy_
from admin.program_texts import TextsEditor
from admin.program_words import cadence_text, country_name, options_summary, waking_time
from admin.times import LOCAL_TIMES, LOCAL_TIMES_DETAIL
from admin.views import owner_name, owner_names
from admin.zones import ZoneField
from service import records
from service.core import schedule, texts
from service.core.enums import Outcome, label
from service.core.options import (
    DEFAULT_OPTIONS,
    option,
    parse_hhmm,
)
from service.models import Facilitator, Participant, Program, ProgramFacilitator
from service.program import accounts, closure
from service.program.matching import defaults_of
from service.program.programs import ProgramError, check_line, validate_program
from service.program.results import results_shape
from service.services import current

WEEKDAY_NAMES = schedule.WEEKDAY_NAMES
CADENCE_KINDS = (
    (schedule.DAILY, "Every day"),
    (schedule.WEEKDAYS, "Weekdays (Mon–Fri)"),
    (schedule.DAYS, "On chosen weekdays"),
    (schedule.EVERY_N_DAYS, "Every N days"),
)
OPTION_FIELDS = (
    "nudge_delay_minutes", "max_nudges", "adaptive_cadence", "ladder_step", "two_sided",
    "milestones", "weekly_summary", "daily_digest", "recording_max_seconds",
    "delete_recordings_at_twilio", "call_retries", "quiet_days",
)  # fmt: skip
OUTCOMES = tuple(Outcome.choices())


def now():
    return current().now()


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def hhmm(form, field):
    try:
        parse_hhmm(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def parse_milestones(text: str) -> list[int]:
    days = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 3650:
            raise ValueError(f"{part!r} is not a number of days between 1 and 3650")
        days.append(int(part))
    return sorted(set(days))


class ProgramForm(SecureForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    sender_number = StringField(
        "Sender number",
        validators=[Optional(), Length(max=32)],
        description=lazy_(
            "The Twilio number participants text, in any format: a number without "
            "+country is read in the program's country. Or use a messaging service."
        ),
    )
    messaging_service_sid = StringField(
        "Messaging service SID",
        validators=[Optional(), Length(max=34)],
        description="MG… (instead of, or with, a sender number).",
    )
    timezone = ZoneField(
        lazy_("Time zone"),
        default="UTC",
        validators=[InputRequired()],
        description=lazy_("Where the check-in time and waking hours are counted."),
    )
    language = SelectField(
        "Language", choices=[SelectChoice("en", "English"), SelectChoice("es", "Español")]
    )
    country = StringField(
        "Country",
        validators=[Optional(), Length(max=2)],
        description="Two-letter code (US, GB, MX, ES…): phone numbers typed without +country "
        "are read in this country. Left empty, it follows the time zone.",
    )
    cadence_kind = SelectField(
        "Check-ins",
        choices=[SelectChoice(v, label) for v, label in CADENCE_KINDS],
        default=schedule.DAILY,
    )
    cadence_days = MultiCheckboxField(
        "On these weekdays",
        choices=[SelectChoice(str(i), n) for i, n in enumerate(WEEKDAY_NAMES)],
        description="Only for “On chosen weekdays”.",
    )
    cadence_every = IntegerField(
        "Every N days",
        default=2,
        validators=[Optional(), NumberRange(1, schedule.MAX_EVERY)],
        description="Only for “Every N days” (counted from the start date).",
    )
    cadence_time = StringField(
        "At (local time)", default="19:00", validators=[InputRequired(), hhmm]
    )
    quiet_start = StringField(
        "Waking hours from", default="08:00", validators=[InputRequired(), hhmm]
    )
    quiet_end = StringField(
        "Waking hours until", default="21:00", validators=[InputRequired(), hhmm]
    )
    pacing = SelectField(
        "Pacing",
        choices=[
            SelectChoice("immediate", "Next prompt right after an answer"),
            SelectChoice("morning", "Next prompt the next morning"),
        ],
    )
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    nudge_delay_minutes = IntegerField(
        "Nudge after (minutes)", validators=[InputRequired(), NumberRange(5, 24 * 60)]
    )
    max_nudges = IntegerField(
        "Nudges per check-in", validators=[InputRequired(), NumberRange(0, 5)]
    )
    adaptive_cadence = BooleanField("Adaptive cadence (space check-ins out as promises are kept)")
    ladder_step = IntegerField(
        "Ladder step (kept check-ins per step)", validators=[InputRequired(), NumberRange(1, 100)]
    )
    two_sided = BooleanField("Two-sided check-ins (partners confirm each other, where they agree)")
    milestones = StringField(
        "Streak milestones (days)",
        validators=[Optional(), Length(max=120)],
        description="Comma separated, e.g. 7, 30, 90.",
    )
    weekly_summary = BooleanField("Weekly summary to participants")
    daily_digest = BooleanField("Daily digest to facilitators")
    recording_max_seconds = IntegerField(
        "Longest recording (seconds)", validators=[InputRequired(), NumberRange(10, 3600)]
    )
    delete_recordings_at_twilio = BooleanField("Delete recordings at Twilio once stored")
    call_retries = IntegerField("Call retries", validators=[InputRequired(), NumberRange(0, 5)])
    quiet_days = IntegerField(
        "Flag as quiet after (days without a reply, steps 1–4)",
        validators=[InputRequired(), NumberRange(1, 30)],
    )
    co_facilitators = MultiCheckboxField("Co-facilitators", coerce=int)

    def validate_milestones(self, field):
        try:
            parse_milestones(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_cadence_days(self, field):
        if self.cadence_kind.data == schedule.DAYS and not field.data:
            raise ValidationError("Choose at least one weekday.")

    def validate(self, extra_validators=None):
        """Every field checked, then the cadence fields the chosen kind does not use are
        ignored (whatever was typed in them, hidden): they are not saved either."""
        super().validate(extra_validators)
        for name in unused_cadence_fields(self.cadence_kind.data):
            getattr(self, name).errors = []
        self._errors = None
        return not self.errors and not self.form_errors


CADENCE_FIELDS = {schedule.DAYS: "cadence_days", schedule.EVERY_N_DAYS: "cadence_every"}


def unused_cadence_fields(kind: str) -> list[str]:
    """The cadence fields that only another kind of cadence reads."""
    return [name for k, name in CADENCE_FIELDS.items() if k != kind]


# The form's sections, in order: each a title and its fields.
SECTIONS = (
    ("basics", lazy_("Basics"), (
        "name", "sender_number", "messaging_service_sid", "timezone", "country",
        "co_facilitators",
    )),
    ("schedule", lazy_("Schedule"), (
        "cadence_kind", "cadence_days", "cadence_every", "cadence_time", "quiet_start",
        "quiet_end", "pacing", "start_date", "end_date",
    )),
    ("texts", lazy_("Texts"), (
        "language", "nudge_delay_minutes", "max_nudges", "weekly_summary", "milestones",
        "daily_digest",
    )),
    ("options", lazy_("Options"), (
        "adaptive_cadence", "ladder_step", "two_sided", "recording_max_seconds",
        "delete_recordings_at_twilio", "call_retries", "quiet_days",
    )),
)  # fmt: skip

# Which field a refusal of `validate_program` / `check_line` is about (its first words).
REFUSAL_FIELDS = (
    ("sender number", "sender_number"),
    ("messaging service", "messaging_service_sid"),
    ("time zone", "timezone"),
    ("country", "country"),
    ("cadence", "cadence_time"),
    ("waking hours", "quiet_start"),
    ("the end date", "end_date"),
    ("a program needs a name", "name"),
)


def refusal_field(message: str) -> str | None:
    text = message.lower()
    return next((name for start, name in REFUSAL_FIELDS if text.startswith(start)), None)


def cadence_string(form: ProgramForm) -> str:
    at = parse_hhmm(form.cadence_time.data)
    kind = form.cadence_kind.data
    if kind == schedule.DAYS:
        cadence = schedule.Cadence.on_days((int(d) for d in form.cadence_days.data), at)
    elif kind == schedule.EVERY_N_DAYS:
        cadence = schedule.Cadence.every(form.cadence_every.data or 1, at)
    else:
        cadence = schedule.Cadence(kind, at)
    return str(cadence)


class ProgramView(TextsEditor, ScopedModelView):
    can_create = True
    can_edit = True
    can_delete = False  # close instead: statements and check-ins stay with the program
    can_view_details = True
    form = ProgramForm
    column_list = ("name", "owner_id", "status", "timezone", "cadence", "created_at")
    column_details_list = (
        "name", "owner_id", "status", "outcome", "sender_number", "messaging_service_sid",
        "timezone", "language", "country", "cadence", "quiet_start", "quiet_end", "pacing",
        "start_date", "end_date", "options", "created_at", "closed_at",
    )  # fmt: skip
    column_labels = {"owner_id": "Owner", "quiet_start": "Waking from", "quiet_end": "Waking until"}
    column_searchable_list = ("name",)
    column_filters = ("status", "timezone")
    column_default_sort = "name"
    column_formatters = {
        "owner_id": lambda v, c, m, n: (
            g.owner_names[m.owner_id]
            if m.owner_id in g.get("owner_names", {})
            else owner_name(v.session, m.owner_id)
        ),
        "options": lambda v, c, m, n: options_summary(m),
        "status": lambda v, c, m, n: label("program_status", m.status),
        "outcome": lambda v, c, m, n: label("outcome", m.outcome),
        "language": lambda v, c, m, n: label("language", m.language),
        "pacing": lambda v, c, m, n: label("pacing", m.pacing),
        "cadence": lambda v, c, m, n: cadence_text(m.cadence),
        "quiet_start": lambda v, c, m, n: waking_time(m.quiet_start),
        "quiet_end": lambda v, c, m, n: waking_time(m.quiet_end),
        "country": lambda v, c, m, n: country_name(m.country),
    }
    column_type_formatters = LOCAL_TIMES
    column_type_formatters_detail = LOCAL_TIMES_DETAIL
    details_template = "realign/program_details.html"
    create_template = "realign/program_form.html"
    edit_template = "realign/program_form.html"

    def scope_clause(self, program_ids):
        return Program.id.in_(program_ids)

    def get_list(self, *args, **kwargs):
        """One page, with its owners' names read once for the page (not once a row)."""
        count, rows = super().get_list(*args, **kwargs)
        rows = list(rows)
        g.owner_names = owner_names(self.session, {r.owner_id for r in rows})
        return count, rows

    # The form ---------------------------------------------------------------------------

    def _prepare(self, form, program: Program | None):
        owner_id = program.owner_id if program else current_user.id
        form.co_facilitators.choices = [
            SelectChoice(f.id, f.name) for f in self._pickable(program) if f.id != owner_id
        ]
        return form

    def _pickable(self, program: Program | None) -> list[Facilitator]:
        """Active facilitators this user may name on `program`: for an admin anyone; for a
        facilitator the people they already work with, and those the program has now."""
        query = sa.select(Facilitator).where(Facilitator.is_active.is_(True))
        me = self.session.get(Facilitator, current_user.id)
        colleagues = accounts.colleague_ids(self.session, me)
        if colleagues is not None:
            current = set()
            if program is not None and program.id is not None:
                current = set(
                    self.session.scalars(
                        sa.select(ProgramFacilitator.facilitator_id).where(
                            ProgramFacilitator.program_id == program.id
                        )
                    )
                )
            query = query.where(Facilitator.id.in_(colleagues | current))
        return list(self.session.scalars(query.order_by(Facilitator.name)))

    def create_form(self, obj=None):
        form = self._prepare(self.form(request.form if request.method == "POST" else None), None)
        if request.method != "POST":
            for name in OPTION_FIELDS:
                value = DEFAULT_OPTIONS[name]
                getattr(form, name).data = (
                    ", ".join(map(str, value)) if name == "milestones" else value
                )
        return form

    def edit_form(self, obj=None):
        form = self.form(request.form if request.method == "POST" else None)
        self._prepare(form, obj)
        if request.method != "POST" and obj is not None:
            self._fill(form, obj)
        return form

    def _fill(self, form, program: Program):
        for name in (
            "name",
            "sender_number",
            "messaging_service_sid",
            "timezone",
            "language",
            "country",
            "quiet_start",
            "quiet_end",
            "pacing",
            "start_date",
            "end_date",
        ):
            getattr(form, name).data = getattr(program, name)
        try:
            cadence = schedule.Cadence.parse(program.cadence)
            form.cadence_kind.data = cadence.kind
            form.cadence_days.data = [str(d) for d in sorted(cadence.days)]
            form.cadence_every.data = cadence.n
            form.cadence_time.data = f"{cadence.at:%H:%M}"
        except ValueError:
            pass
        for name in OPTION_FIELDS:
            value = option(program, name)
            getattr(form, name).data = ", ".join(map(str, value)) if name == "milestones" else value
        form.co_facilitators.data = list(
            self.session.scalars(
                sa.select(ProgramFacilitator.facilitator_id).where(
                    ProgramFacilitator.program_id == program.id
                )
            )
        )

    def _apply(self, form, program: Program) -> None:
        for name in (
            "name",
            "timezone",
            "language",
            "country",
            "quiet_start",
            "quiet_end",
            "pacing",
            "start_date",
            "end_date",
        ):
            value = getattr(form, name).data
            setattr(program, name, value.strip() if isinstance(value, str) else value)
        program.sender_number = (form.sender_number.data or "").strip() or None
        program.messaging_service_sid = (form.messaging_service_sid.data or "").strip() or None
        program.cadence = cadence_string(form)
        options = dict(program.options or {})
        for name in OPTION_FIELDS:
            value = getattr(form, name).data
            options[name] = parse_milestones(value) if name == "milestones" else value
        program.options = options

    def _save(self, form, program: Program, is_created: bool):
        try:
            self._apply(form, program)
            validate_program(program)
            owner_id = current_user.id if is_created else program.owner_id
            check_line(self.session, program, owner_id, defaults_of(current().settings))
        except (ProgramError, ValueError) as exc:
            self.session.rollback()
            message = str(exc)
            sentence = message[:1].upper() + message[1:] + "."
            field = refusal_field(message)
            if field is not None:
                getattr(form, field).errors.append(sentence)  # beside the field
            else:
                form.form_errors.append(sentence)
            flash(f"The program was not saved: {message}.", "error")
            return None
        if is_created:
            program.owner_id = current_user.id
            program.created_at = now()
        changed = sorted(a.key for a in sa.inspect(program).attrs if a.history.has_changes())
        self.session.add(program)
        self.session.flush()
        self._set_co_facilitators(program, form.co_facilitators.data or [])
        records.audit(
            self.session,
            current_user.actor,
            "program.create" if is_created else "program.update",
            program,
            now=now(),
            detail={"fields": changed},
        )
        self.session.commit()
        return program

    def _set_co_facilitators(self, program: Program, wanted: list[int]):
        # Only whom the picker offers: a hand-made POST cannot name anyone else.
        valid = {f.id for f in self._pickable(program)} - {program.owner_id}
        wanted = {i for i in wanted if i in valid}
        self.session.execute(
            sa.delete(ProgramFacilitator).where(ProgramFacilitator.program_id == program.id)
        )
        for fid in sorted(wanted):
            self.session.add(ProgramFacilitator(program_id=program.id, facilitator_id=fid))

    def create_model(self, form):
        program = Program(name="", owner_id=current_user.id)
        saved = self._save(form, program, True)
        if saved:
            flash(next_steps(saved), "info")
        return saved or False

    def get_save_return_url(self, model, is_created=False):
        """After creating a program: its page, with what to do next."""
        if is_created:
            return self.get_url(".details_view", id=model.id)
        return super().get_save_return_url(model, is_created)

    def render(self, template, **kwargs):
        if template in (self.create_template, self.edit_template):
            kwargs["sections"] = SECTIONS
            kwargs["cadence_only"] = {name: kind for kind, name in CADENCE_FIELDS.items()}
        return super().render(template, **kwargs)

    def update_model(self, form, model):
        return bool(self._save(form, model, False))

    # Results --------------------------------------------------------------------------------

    @expose("/results/", methods=("POST",))
    def results_view(self):
        """The whole program's results, one row per participant, as CSV or JSON. A POST: who
        took a copy of everyone's results is written to the audit log."""
        program = self.get_one(request.form.get("id"))
        kind = request.form.get("format", "csv")
        if kind not in ("csv", "json"):
            abort(400)
        # What the download needs of the program, read before the commit expires it.
        program_id, program_name = program.id, program.name
        name = exports.results_filename(program, kind)
        people, most = results_shape(self.session, program_id)
        records.audit(
            self.session, current_user.actor, "export_results", program, now=now(),
            detail={"format": kind, "participants": people},
        )  # fmt: skip
        self.session.commit()
        # Streamed a page of participants at a time: the download starts at once, and a
        # program of thousands is never held in memory whole. In a session of its own,
        # opened as the body is read (after this view has returned).
        sessions = current().sessions
        if kind == "json":
            body = exports.results_json(sessions, program_id, program_name)
            mimetype = "application/json"
        else:
            body = exports.results_csv(sessions, program_id, most)
            mimetype = "text/csv; charset=utf-8"
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # Closure --------------------------------------------------------------------------------

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self):
        program = self.get_one(request.args.get("id"))
        overrides = program.text_overrides or {}
        error = None
        outcome = request.form.get("outcome", "")
        message = (request.form.get("closing_message") or "").strip()
        if request.method == "POST":
            if program.status == "closed":
                error = "This program is already closed."
            elif outcome not in dict(OUTCOMES):
                error = "Choose an outcome."
            elif len(message) > 1000:
                error = "The closing message is too long (1,000 characters at most)."
            else:
                own = texts.custom_closing(message, outcome, program.language, overrides)
                closed = self._close(program, outcome, own)
                flash(f"The program is closed; {closed} participant(s) were closed.", "success")
                return redirect(url_for(".details_view", id=program.id))
        open_count = self.session.scalar(
            sa.select(sa.func.count(Participant.id)).where(
                Participant.program_id == program.id, Participant.status != "closed"
            )
        )
        page = self.render(
            "realign/program_close.html",
            program=program,
            outcomes=OUTCOMES,
            standard=texts.closing_texts(program.language, overrides),
            chosen=outcome,
            message=message,
            error=error,
            open_count=open_count,
        )
        return (page, 400) if error else page

    def _close(self, program: Program, outcome: str, message: str | None) -> int:
        self.session.commit()  # release our read before the service's own transactions
        return closure.close_program(
            current(), program.id, outcome=outcome, actor=current_user.actor, message=message
        )


def next_steps(program: Program) -> Markup:
    """What a coach does after creating a program, each a link."""
    steps = []
    if not program.sender_number and not program.messaging_service_sid:
        steps.append(
            (url_for(".edit_view", id=program.id), "next-sender", _("add a sender number"))
        )
    steps += [
        (url_for(".texts_view", id=program.id), "next-texts", _("review its texts")),
        (
            url_for("participants.create_view", program_id=program.id),
            "next-invite",
            _("invite participants"),
        ),
        (url_for("simulator.index", program_id=program.id), "next-try", _("try it yourself")),
    ]
    links = Markup("").join(
        Markup('<li><a href="{}" id="{}">{}</a></li>').format(href, ident, words)
        for href, ident, words in steps
    )
    return Markup('<span id="next-steps">{}</span><ol class="mb-0">{}</ol>').format(
        _("%(name)s is ready. Next:", name=program.name), links
    )
