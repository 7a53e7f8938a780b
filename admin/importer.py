"""CSV import of participants: upload → preview (an error per bad row) → confirm.

* Preview: `service.program.imports.parse_csv` and `check_import` give each row its errors (name,
  phone, time zone, language, duplicate in the file or in the program, erased number). The
  valid rows travel to the confirm step in a hidden field; nothing is stored yet.
* Confirm (`run`): every row is checked again (the program may have changed meanwhile) and
  then enrolled in ONE transaction (`service.program.imports.import_rows`): if any row fails, the
  transaction rolls back and nobody is imported. Invitations are enqueued after commit.
* Progress: while the confirm request works, it writes `done/total` to Redis under a random
  token (keyed to the facilitator); `static/participant_import.js` posts the confirm form
  with fetch and polls `/admin/participants/import/progress/?token=…` into a <progress>
  bar. Without JavaScript the form posts normally and the list page says how it went.
  Redis being down only loses the bar, never the import.
"""

from __future__ import annotations

import json
import logging
import secrets

from flask import abort, flash, jsonify, redirect, request
from flask_login import current_user
from redis.exceptions import RedisError
from wtforms import FileField, Form, SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired

from admin.choices import program_choices
from service.core.numbers import whole_number
from service.infra.queue import Lane
from service.models import Program
from service.program import actions, imports
from service.program.matching import defaults_of
from service.services import current
from service.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

PROGRESS_TTL = 3600


class UploadForm(Form):
    program_id = SelectField("Program", coerce=int, validate_choice=True)
    file = FileField("CSV file", validators=[InputRequired()])


def _services():
    return current()


def _key(token: str) -> str:
    return f"realign:import:{token}"


def _programs(view):
    return program_choices(view.session)


def upload(view):
    form = UploadForm(request.form if request.method == "POST" else None)
    form.program_id.choices = [SelectChoice(pid, name) for pid, name in _programs(view)]
    if request.method == "GET":
        form.program_id.data = whole_number(request.args.get("program_id"))
        return view.render("realign/participant_import.html", form=form, error=None)
    upload_file = request.files.get("file")
    if not form.program_id.validate(form) or upload_file is None or not upload_file.filename:
        error = "Choose one of your programs and a CSV file."
        return view.render("realign/participant_import.html", form=form, error=error), 400
    try:
        text = upload_file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        error = "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
        return view.render("realign/participant_import.html", form=form, error=error), 400
    svc = _services()
    with svc.sessions() as s:
        program = s.get(Program, form.program_id.data)
        try:
            rows = imports.check_import(
                s,
                program,
                imports.parse_csv(text),
                svc.settings.effective_secret_key(),
                defaults_of(svc.settings),
            )
        except actions.ActionError as exc:
            error = f"The file cannot be read: {exc}."
            return view.render("realign/participant_import.html", form=form, error=error), 400
    return _preview(view, program, rows)


def _preview(view, program, rows, error=None, status=200):
    valid = [r.as_dict() for r in rows if r.ok]
    page = view.render(
        "realign/participant_import_preview.html",
        program=program,
        rows=rows,
        valid=len(valid),
        invalid=len(rows) - len(valid),
        payload=json.dumps(valid),
        token=secrets.token_urlsafe(16),
        error=error,
    )
    return page, status


def _wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _finish(view, program_id, ok: bool, message: str, status=200):
    target = view.get_url(".index_view", flt0_0=program_id) if ok else view.get_url(".import_view")
    flash(message, "success" if ok else "error")  # shown on the page the script opens next
    if _wants_json():
        return jsonify({"ok": ok, "message": message, "redirect": target}), status
    return redirect(target)


def run(view):
    svc = _services()
    program_id = whole_number(request.form.get("program_id"))
    token = request.form.get("token", "")
    if program_id not in {pid for pid, _ in _programs(view)} or not 16 <= len(token) <= 64:
        abort(404)
    try:
        data = json.loads(request.form.get("rows", "[]"))
        rows = [
            imports.ImportRow(
                line=int(d["line"]),
                name=str(d["name"]),
                phone=str(d["phone"]),
                timezone=str(d["timezone"]),
                language=str(d["language"]),
            )
            for d in data
        ]
    except (ValueError, KeyError, TypeError):
        abort(400, description="The import form was damaged; please upload the file again.")
    if not rows:
        return _finish(view, program_id, False, "There was nothing to import.", 400)
    actor = current_user.actor
    progress = Progress(svc.redis, token, current_user.id, len(rows))
    with UnitOfWork(svc, lane=Lane.BULK) as uow:  # a whole file's invitations
        program = uow.session.get(Program, program_id)
        secret, defaults = svc.settings.effective_secret_key(), defaults_of(svc.settings)
        imports.check_import(uow.session, program, rows, secret, defaults)
        if not all(r.ok for r in rows):
            progress.set("failed")
            if _wants_json():
                message = "Some rows are no longer valid; nothing was imported."
                return _finish(view, program_id, False, message, 409)
            error = "Some rows are no longer valid (see below); nothing was imported."
            return _preview(view, program, rows, error, 409)
        try:
            imports.import_rows(
                uow, program, [r.as_dict() for r in rows], actor=actor, progress=progress.update
            )
            uow.commit()
        except Exception as exc:  # noqa: BLE001  any failure: nothing is imported
            uow.rollback()
            progress.set("failed")
            log.warning("participant import rolled back: %s", type(exc).__name__)
            reason = str(exc) if isinstance(exc, actions.ActionError) else "a database error"
            message = f"Nothing was imported ({reason}). Please check the file and try again."
            return _finish(view, program_id, False, message, 409)
    progress.set("done")
    message = f"Imported {len(rows)} participants; invitations are queued."
    return _finish(view, program_id, True, message)


class Progress:
    """done/total of one import in Redis (best effort: a Redis outage only loses the bar)."""

    def __init__(self, redis, token: str, owner: int, total: int):
        self.redis, self.key, self.total = redis, _key(token), total
        self.step = max(1, total // 100)
        self._write({"owner": owner, "total": total, "done": 0, "state": "running"})

    def _write(self, mapping) -> None:
        try:
            pipe = self.redis.pipeline()
            pipe.hset(self.key, mapping=mapping)
            pipe.expire(self.key, PROGRESS_TTL)
            pipe.execute()
        except RedisError as exc:
            log.warning("import progress not recorded: %s", type(exc).__name__)

    def update(self, done: int, total: int) -> None:
        if done % self.step == 0 or done == total:
            self._write({"done": done})

    def set(self, state: str) -> None:
        self._write({"state": state})


def progress(view):
    token = request.args.get("token", "")
    try:
        data = _services().redis.hgetall(_key(token)) if token else {}
    except RedisError:
        data = {}
    data = {k.decode(): v.decode() for k, v in data.items()}
    if not data or data.get("owner") != str(current_user.id):
        return jsonify({"state": "unknown", "done": 0, "total": 0}), 404
    return jsonify(
        {"state": data.get("state"), "done": int(data["done"]), "total": int(data["total"])}
    )
