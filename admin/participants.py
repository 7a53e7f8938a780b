"""Participants in the admin: the list, the create/edit form, their story page and actions.

Reads for the list go through Flask-Admin's scoped session (`ScopedModelView`); everything
that changes a participant loads them by id in a SQLModel session from `services.sessions()`
and calls the domain (`service.enrollment`, `service.actions`, `service.checkins`,
`service.erasure`), commits, then hands queued texts to `outbox.enqueue_sends`. Every URL
that takes a participant or recording id first checks it through the view's scoped
`get_one` (or `open_recording`), so another facilitator's ids answer 404.

Everything participants wrote is rendered by Jinja's autoescape; the lists mask phone
numbers (search still finds a number typed in any format: see `_apply_search`).
"""

from __future__ import annotations

import re
from datetime import timedelta

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
from sqlmodel import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from admin import exports, importer
from admin.base import visible_program_ids
from admin.choices import as_choices, partner_choices, program_choices
from admin.views import AuditedModelView
from service.core import schedule, texts
from service.core.phones import normalize_phone
from service.core.redact import mask_phone
from service.messaging import outbox
from service.models import (
    PARTICIPANT_STATUSES,
    AttentionItem,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Facilitator,
    Message,
    Participant,
    Program,
    Reflection,
    Statement,
)
from service.program import actions, audit, checkins, enrollment
from service.program import commitments as commits
from service.program.erasure import ErasureError, erase_participant, was_erased
from service.services import current
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


def percent(ratio) -> str:
    return "–" if ratio is None else f"{round(ratio * 100)}%"


# Forms ------------------------------------------------------------------------------------


def phone_validator(form, field):
    try:
        field.data = normalize_phone(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def timezone_validator(form, field):
    try:
        field.data = schedule.validate_tz((field.data or "").strip())
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class CommitmentForm(Form):
    """One inline commitment row (no CSRF of its own: the outer form carries it)."""

    id = HiddenField()
    text = TextAreaField("Commitment", validators=[Optional(), Length(max=500)])
    sign = StringField("Sign of progress", validators=[Optional(), Length(max=300)])


class ParticipantForm(SecureForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    phone = StringField(
        "Phone", validators=[InputRequired(), phone_validator],
        description="Any format; stored as E.164 (+15550100200). US numbers may omit +1.",
    )  # fmt: skip
    timezone = StringField(
        "Time zone", validators=[InputRequired(), timezone_validator],
        description="IANA name, e.g. America/New_York or Europe/Berlin.",
    )  # fmt: skip
    language = SelectField("Language", choices=[SelectChoice(c, c) for c in enrollment.LANGUAGES])
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


class CommitmentRowError(ValueError):
    """A refusal about one inline commitment row (shown beside that row)."""

    def __init__(self, entry, message: str):
        super().__init__(message)
        self.entry = entry


def form_error(form, exc) -> bool:
    if isinstance(exc, CommitmentRowError):
        exc.entry.form.text.errors.append(str(exc))
    else:
        getattr(form, field_for(str(exc))).errors.append(str(exc))
    return False


# Filters ----------------------------------------------------------------------------------


class ProgramFilter(sqla_filters.FilterEqual):
    """The options are the signed-in facilitator's programs, filled in per request
    (Flask-Admin caches filter options when the view is built; see `_get_filter_groups`)."""

    def __init__(self):
        super().__init__(Participant.program_id, "Program", options=[("0", "—")])

    def clean(self, value):
        return int(value)


class StepFilter(sqla_filters.FilterEqual):
    def __init__(self):
        super().__init__(Participant.step, "Step", options=STEP_CHOICES)

    def clean(self, value):
        return int(value)


class StatusFilter(sqla_filters.FilterEqual):
    def __init__(self):
        options = [(s, s.replace("_", " ")) for s in PARTICIPANT_STATUSES]
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
    column_list = (
        "name", "program_id", "step", "status", "streak", "kept_7d", "kept_30d",
        "last_inbound_at", "phone",
    )  # fmt: skip
    column_labels = {
        "program_id": "Program",
        "kept_7d": "Kept 7d",
        "kept_30d": "Kept 30d",
        "last_inbound_at": "Last reply",
    }
    column_sortable_list = ("name", "step", "status", "streak", "last_inbound_at")
    column_searchable_list = ("name",)  # plus phone numbers: see _apply_search
    column_default_sort = "name"
    column_filters = (ProgramFilter(), StepFilter(), StatusFilter())
    column_formatters = {
        "program_id": lambda v, c, m, n: program_name(v.session, m.program_id),
        "step": lambda v, c, m, n: step_label(m.step),
        "status": lambda v, c, m, n: m.status.replace("_", " "),
        "phone": lambda v, c, m, n: mask_phone(m.phone),
        "kept_7d": lambda v, c, m, n: percent(_stats(m.id)[0]),
        "kept_30d": lambda v, c, m, n: percent(_stats(m.id)[1]),
        "last_inbound_at": lambda v, c, m, n: (
            m.last_inbound_at.strftime("%Y-%m-%d %H:%M UTC") if m.last_inbound_at else "never"
        ),
    }

    def scope_clause(self, program_ids):
        return Participant.program_id.in_(program_ids)

    # List: search by name or by phone digits; kept ratios computed once per page ----------

    search_placeholder = lambda self: "Name or phone"  # noqa: E731

    def _apply_search(self, query, count_query, joins, count_joins, search):
        for term in search.split():
            like = f"%{term}%"
            clause = Participant.name.ilike(like)
            digits = re.sub(r"\D", "", term)
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

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        rows = list(rows)
        g.participant_stats = kept_stats([r.id for r in rows])
        return count, rows

    # Create and edit ---------------------------------------------------------------------

    def scaffold_form(self):
        return ParticipantForm

    def _choices(self, form, participant_id=None):
        form.program_id.choices = as_choices(program_choices(self.session))
        form.partner_id.choices = as_choices(partner_choices(self.session, exclude=participant_id))

    def create_form(self, obj=None):
        form = super().create_form(obj)
        self._choices(form)
        if request.method == "GET":
            default_program = request.args.get("program_id", type=int)
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
                form.partner_id.data = obj.partner_id or 0
                form.commitments.entries = []
                form.commitments.last_index = -1
                for c in self.session.scalars(
                    sa.select(Commitment)
                    .where(Commitment.participant_id == obj.id, Commitment.status.in_(commits.OPEN))
                    .order_by(Commitment.id)
                ):
                    form.commitments.append_entry({"id": str(c.id), "text": c.text, "sign": c.sign})
        while sum(1 for e in form.commitments if not e.form.id.data) < COMMITMENT_ROWS_BLANK:
            form.commitments.append_entry()
        return form

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    def create_model(self, form):
        svc = services()
        now, actor = svc.now(), current_user.actor
        if form.program_id.data not in {pid for pid, _ in program_choices(self.session)}:
            return form_error(form, ValueError("choose one of your programs"))
        with svc.sessions() as s:
            program = s.get(Program, form.program_id.data)
            secret = svc.settings.effective_secret_key()
            erased = was_erased(s, form.phone.data, secret)
            if erased and not form.rejoin.data:
                form.phone.errors.append(
                    "this number belonged to someone who asked to be erased; tick the box "
                    "below only if they asked to join again"
                )
                return False
            try:
                participant, invitation = enrollment.enroll(
                    s,
                    program,
                    name=form.name.data,
                    phone=form.phone.data,
                    timezone=form.timezone.data,
                    language=form.language.data,
                    now=now,
                    actor=actor,
                )
                if erased:
                    audit.record(s, actor, "rejoin_after_erasure", participant, now=now)
                    outbox.flag(
                        s,
                        participant,
                        "rejoined",
                        "this number was erased before; re-enrolled on request",
                        now,
                    )
                self._link(s, participant, form.partner_id.data, now, actor)
                self._commitments(s, participant, form, now, actor)
                s.commit()
            except ValueError as exc:
                s.rollback()
                return form_error(form, exc)
        outbox.enqueue_sends(svc, [invitation])
        return participant

    def update_model(self, form, model):
        svc = services()
        now, actor = svc.now(), current_user.actor
        asked = []
        with svc.sessions() as s:
            p = s.get(Participant, model.id)
            changed = []
            try:
                if form.phone.data != p.phone:
                    other = s.exec(
                        select(Participant).where(
                            Participant.program_id == p.program_id,
                            Participant.phone == form.phone.data,
                            Participant.id != p.id,
                        )
                    ).first()
                    if other is not None:
                        raise ValueError(f"{other.name} already uses that number in this program")
                for name in ("name", "phone", "timezone", "language"):
                    value = getattr(form, name).data.strip()
                    if getattr(p, name) != value:
                        setattr(p, name, value)
                        changed.append(name)
                if "timezone" in changed and p.step == 5 and p.next_checkin_at is not None:
                    # The schedule follows their local time: recompute the next check-in.
                    program = s.get(Program, p.program_id)
                    p.next_checkin_at = checkins.next_due_after(program, p, now)
                if (p.partner_id or 0) != form.partner_id.data:
                    self._unlink(s, p)
                    self._link(s, p, form.partner_id.data, now, actor)
                    changed.append("partner_id")
                asked = self._commitments(s, p, form, now, actor)
                s.add(p)
                audit.record(s, actor, "participant.update", p, now=now, detail={"fields": changed})
                s.commit()
            except ValueError as exc:
                s.rollback()
                return form_error(form, exc)
        outbox.enqueue_sends(svc, asked)
        return True

    def _link(self, s, participant, partner_id, now, actor):
        if not partner_id:
            return
        visible = visible_program_ids(self.session)
        partner = s.get(Participant, partner_id)
        if partner is None or (visible is not None and partner.program_id not in visible):
            raise ValueError("choose a partner from your programs")
        enrollment.link_partners(s, participant, partner, now=now, actor=actor)

    def _unlink(self, s, participant):
        if participant.partner_id:
            old = s.get(Participant, participant.partner_id)
            if old is not None and old.partner_id == participant.id:
                old.partner_id = None
                s.add(old)
            participant.partner_id = None
            s.add(participant)
            s.flush()

    def _commitments(self, s, participant, form, now, actor) -> list:
        asked = []
        for entry in form.commitments:
            text, sign = (entry.form.text.data or "").strip(), (entry.form.sign.data or "").strip()
            cid = entry.form.id.data
            try:
                if cid:
                    commitment = s.get(Commitment, int(cid)) if cid.isdigit() else None
                    if commitment is None or commitment.participant_id != participant.id:
                        raise ValueError("that commitment belongs to someone else")
                    if text != commitment.text or sign != commitment.sign:
                        asked += commits.edit_commitment(
                            s, commitment, text, sign=sign, now=now, actor=actor
                        )
                elif text:
                    commits.add_commitment(s, participant, text, sign=sign, now=now, actor=actor)
                elif sign:
                    raise ValueError("a commitment needs some words, not only a sign of progress")
            except ValueError as exc:
                raise CommitmentRowError(entry, str(exc)) from None
        return [m for m in asked if m is not None]

    # The participant's page ----------------------------------------------------------------

    @expose("/details/")
    def details_view(self):
        model = self.get_one(request.args.get("id"))
        story = participant_story(model.id)
        return self.render(
            self.details_template,
            model=model,
            story=story,
            return_url=self.get_url(".index_view"),
        )

    @expose("/audio/")
    def audio_view(self):
        """A recording's audio, only for a facilitator of that participant's program."""
        rid = request.args.get("id", type=int)
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
        svc = services()
        with svc.sessions() as s:
            p = s.get(Participant, model.id, with_for_update=True)
            try:
                messages = func(s, p, now=svc.now(), actor=current_user.actor) or []
                s.commit()
            except actions.ActionError as exc:
                s.rollback()
                flash(f"Not done: {exc}.", "error")
                return redirect(self.get_url(".details_view", id=model.id))
        outbox.enqueue_sends(svc, messages)
        flash(done, "success")
        return redirect(self.get_url(".details_view", id=model.id))

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self):
        model = self.get_one(request.values.get("id"))
        form = CloseForm(request.form if request.method == "POST" else None)
        if model.status == "closed":
            flash(f"{model.name} is already closed.", "info")
            return redirect(self.get_url(".details_view", id=model.id))
        if request.method == "POST" and form.validate():
            checkins.close(
                services(),
                model.id,
                outcome=form.outcome.data,
                actor=current_user.actor,
                message=(form.message.data or "").strip() or None,
            )
            flash(f"{model.name}'s program is closed; nothing more is scheduled.", "success")
            return redirect(self.get_url(".details_view", id=model.id))
        return self.render("realign/participant_close.html", model=model, form=form)

    @expose("/export/", methods=("POST",))
    def export_view(self):
        model = self.get_one(request.form.get("id"))
        svc = services()
        with svc.sessions() as s:
            p = s.get(Participant, model.id)
            archive = exports.participant_zip(s, p)
            audit.record(s, current_user.actor, "export_participant", p, now=svc.now())
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
                    erase_participant(services(), model.id, actor=current_user.actor)
                except ErasureError as exc:
                    flash(str(exc), "error")
                    return redirect(self.get_url(".details_view", id=model.id))
                flash("Erased. Only a hashed marker of their number remains.", "success")
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
    outcome = SelectField(
        "Outcome",
        choices=[
            SelectChoice("restored", "Restored: trust is rebuilt"),
            SelectChoice("ended", "A clear ending"),
        ],
        validators=[InputRequired()],
    )
    message = TextAreaField(
        "Closing message",
        validators=[Optional(), Length(max=640)],
        description="Leave blank for the program's standard closing text for this outcome.",
    )


class EraseForm(Form):
    confirm_name = StringField("Type their name to confirm", validators=[InputRequired()])


def program_name(db, program_id: int) -> str:
    program = db.get(Program, program_id)
    return program.name if program else ""


# Figures for the list and the page --------------------------------------------------------


def kept_stats(participant_ids: list[int]) -> dict[int, tuple]:
    """(kept 7 days, kept 30 days) per participant, from the domain's own score."""
    svc = services()
    now = svc.now()
    out = {}
    if not participant_ids:
        return out
    with svc.sessions() as s:
        # Only people with a scored check-in in the window can have a ratio (kept_ratio
        # answers None for everyone else): one query instead of two per row.
        scored = select(CheckIn.participant_id).where(
            CheckIn.participant_id.in_(participant_ids),
            CheckIn.kind == "self",
            CheckIn.due_at > now - timedelta(days=30),
            CheckIn.status.in_(("answered", "missed")),
        )
        for p in s.exec(select(Participant).where(Participant.id.in_(scored))):
            out[p.id] = (
                checkins.kept_ratio(s, p, now, 7),
                checkins.kept_ratio(s, p, now, 30),
            )
    return out


def _stats(pid: int) -> tuple:
    return g.get("participant_stats", {}).get(pid, (None, None))


def participant_story(pid: int) -> dict:
    """Everything the participant page shows, read in one SQLModel session."""
    svc = services()
    now = svc.now()
    with svc.sessions() as s:
        p = s.get(Participant, pid)
        program = s.get(Program, p.program_id)
        partner = s.get(Participant, p.partner_id) if p.partner_id else None
        messages = s.exec(
            select(Message)
            .where(Message.participant_id == pid)
            .order_by(Message.created_at, Message.id)
        ).all()
        statements = s.exec(
            select(Statement)
            .where(Statement.participant_id == pid)
            .order_by(Statement.step, Statement.id)
        ).all()
        by_step = {}
        for st in statements:
            by_step.setdefault(st.step, []).append(st)
        reflections = s.exec(
            select(Reflection)
            .where(
                Reflection.participant_id == pid, Reflection.status.notin_(("discarded", "empty"))
            )
            .order_by(Reflection.id)
        ).all()
        commitments = [
            {
                "c": c,
                "kept_7d": percent(checkins.commitment_ratio(s, c, now, 7)),
                "kept_30d": percent(checkins.commitment_ratio(s, c, now, 30)),
            }
            for c in s.exec(
                select(Commitment).where(Commitment.participant_id == pid).order_by(Commitment.id)
            )
        ]
        attention = s.exec(
            select(AttentionItem)
            .where(AttentionItem.participant_id == pid, AttentionItem.resolved_at.is_(None))
            .order_by(AttentionItem.created_at.desc())
        ).all()
        calendar = checkin_calendar(s, p, now)
        return {
            "p": p,
            "masked_phone": mask_phone(p.phone),
            "program": program,
            "partner": partner,
            "step_label": step_label(p.step),
            "messages": messages,
            "statements": [(step_label(step), by_step[step]) for step in sorted(by_step)],
            "reflections": reflections,
            "commitments": commitments,
            "attention": attention,
            "calendar": calendar,
            "kept_7d": percent(checkins.kept_ratio(s, p, now, 7)),
            "kept_30d": percent(checkins.kept_ratio(s, p, now, 30)),
        }


def checkin_calendar(s, p: Participant, now) -> list[list[dict]]:
    """Weeks (Monday first) of the last six, each day kept / partly / missed / none."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(p.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=today.weekday() + 7 * (CALENDAR_WEEKS - 1))
    rows = s.exec(
        select(CheckIn).where(
            CheckIn.participant_id == p.id,
            CheckIn.kind == "self",
            CheckIn.due_at >= now - timedelta(days=7 * CALENDAR_WEEKS + 1),
        )
    ).all()
    answers: dict[int, list[str]] = {}
    if rows:
        for cid, result in s.exec(
            select(CheckInAnswer.checkin_id, CheckInAnswer.result).where(
                CheckInAnswer.checkin_id.in_([c.id for c in rows])
            )
        ):
            answers.setdefault(cid, []).append(result)
    days: dict = {}
    for c in rows:
        day = c.due_at.astimezone(zone).date()
        results = answers.get(c.id, [])
        if c.status == "missed" or (results and all(r == "missed" for r in results)):
            state = "missed"
        elif results and all(r == "kept" for r in results):
            state = "kept"
        elif results:
            state = "partly"
        elif c.status in ("open", "scheduled"):
            state = "waiting"
        else:
            state = "none"
        rank = {"missed": 4, "partly": 3, "kept": 2, "waiting": 1, "none": 0}
        if rank[state] >= rank[days.get(day, "none")]:
            days[day] = state
    weeks = []
    for w in range(CALENDAR_WEEKS):
        week = []
        for d in range(7):
            day = first + timedelta(days=7 * w + d)
            week.append({"date": day, "state": days.get(day, "none"), "future": day > today})
        weeks.append(week)
    return weeks


def register(admin, app, db):
    """Add the participants view and its static assets (called from admin/setup.py)."""
    app.register_blueprint(assets)
    view = ParticipantView(Participant, db, name="Participants", endpoint="participants")
    admin.add_view(view)
    return view
