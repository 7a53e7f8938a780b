"""`/api/v1/`: read-only JSON of what a token's facilitator sees in the admin. Each view
parses its query with its model, asks `service.program.reads` within the caller's
programs and answers with the response model; unknown and out-of-scope ids are 404."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, g, jsonify, request, send_file, url_for
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from readapi.access import audio_key, caller
from readapi.answers import bad_query, error, page, single
from readapi.registry import Registry, Route
from service.core import cursors, signed_urls
from service.models import Facilitator
from service.program import reads
from service.program import shapes as s
from service.voice.recordings import AUDIO_MIMETYPE, RecordingNotFound, open_recording

PREFIX = "/api/v1"


def build(services) -> tuple[Blueprint, Registry]:
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    registry = Registry(PREFIX, "Realign API", "1.0.0")

    def route(r: Route):
        registry.add(r)

        def register(view):
            bp.add_url_rule(r.rule, r.name, view, methods=["GET"])
            return view

        return register

    def parse(model):
        try:
            return model.model_validate(request.args.to_dict(flat=True))
        except ValidationError as exc:
            abort(bad_query(exc))

    def in_range(id_: int) -> int:
        if id_ > cursors.MAX_ID:
            abort(404)
        return id_

    # Programs ------------------------------------------------------------------------

    @route(Route("/programs", "list_programs", "Programs", s.ProgramPage, s.ProgramQuery))
    def list_programs():
        q = parse(s.ProgramQuery)
        with services.sessions() as session:
            rows = reads.programs(session, caller().visible, after=q.after(), limit=q.limit)
            return page(s.ProgramPage, rows, q.limit, s.ProgramOut.of)

    @route(Route("/programs/<int:program_id>", "get_program", "One program", s.ProgramOut,
                 single=True))  # fmt: skip
    def get_program(program_id):
        with services.sessions() as session:
            found = reads.program(session, caller().visible, in_range(program_id))
            if found is None:
                abort(404)
            return single(s.ProgramOut.of(found))

    # Participants ----------------------------------------------------------------------

    @route(Route("/participants", "list_participants", "Participants", s.ParticipantPage,
                 s.ParticipantQuery))  # fmt: skip
    def list_participants():
        q = parse(s.ParticipantQuery)
        who = caller()
        with services.sessions() as session:
            rows = reads.participants(
                session,
                who.visible,
                program_id=q.program,
                step=q.step,
                status=q.status,
                updated_since=q.updated_since,
                after=q.after(),
                limit=q.limit,
            )
            return page(
                s.ParticipantPage, rows, q.limit, lambda p: s.ParticipantOut.of(p, who.phones)
            )

    @route(Route("/participants/<int:participant_id>", "get_participant",
                 "One participant, with what they said, recorded, agreed, answered and were sent",
                 s.ParticipantDetail, single=True))  # fmt: skip
    def get_participant(participant_id):
        who = caller()
        with services.sessions() as session:
            p = reads.participant(session, who.visible, in_range(participant_id))
            if p is None:
                abort(404)
            record = reads.record(session, p)
            z = p.timezone
            return single(
                s.ParticipantDetail(
                    **s.ParticipantOut.fields_of(p, who.phones),
                    statements=[s.StatementOut.of(x, z) for x in record.statements],
                    reflections=[
                        s.ReflectionOut.of(r, z, audio_link(r)) for r in record.reflections
                    ],
                    commitments=[s.CommitmentOut.of(c, z) for c in record.commitments],
                    checkins=[
                        s.CheckInOut.of(c, p, record.answers.get(c.id, [])) for c in record.checkins
                    ],
                    messages=[s.MessageOut.of(m, z, who.phones) for m in record.messages],
                )
            )

    def audio_link(reflection):
        if not reflection.storage_path:
            return None
        token_id = caller().token_id
        expires = signed_urls.expiry(services.now().timestamp())
        key = audio_key(services.settings.effective_secret_key())
        url = url_for(
            "api.recording_audio",
            reflection_id=reflection.id,
            token=token_id,
            expires=expires,
            signature=signed_urls.signature(key, reflection.id, token_id, expires),
            _external=True,
        )
        return url, datetime.fromtimestamp(expires, UTC)

    @route(Route("/recordings/<int:reflection_id>/audio", "recording_audio",
                 "A recording's audio, by the signed link a participant's page gives",
                 None, s.AudioQuery, public=True, media_type=AUDIO_MIMETYPE))  # fmt: skip
    def recording_audio(reflection_id):
        parse(s.AudioQuery)
        who = caller()
        with services.sessions() as session:
            facilitator = session.get(Facilitator, who.facilitator_id)
            if reads.reflection_of(session, who.visible, in_range(reflection_id)) is None:
                abort(404)
            try:
                path = open_recording(session, facilitator, reflection_id, now=services.now())
            except RecordingNotFound:
                abort(404)
            session.commit()  # open_recording's own audit line is this request's
            g.api_audited = True
        response = send_file(path, mimetype=AUDIO_MIMETYPE, conditional=True, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    # Check-ins and attention -----------------------------------------------------------

    @route(Route("/checkins", "list_checkins", "Check-ins", s.CheckInPage, s.CheckInQuery))
    def list_checkins():
        q = parse(s.CheckInQuery)
        with services.sessions() as session:
            rows = reads.checkins(
                session,
                caller().visible,
                program_id=q.program,
                participant_id=q.participant,
                due_from=q.due_from,
                due_to=q.due_to,
                status=q.status,
                result=q.result,
                after=q.after(),
                limit=q.limit,
            )
            answers = reads.answers_of(session, [c.id for c, _ in rows[: q.limit]])

            def make(row):
                return s.CheckInOut.of(*row, answers.get(row[0].id, []))

            return page(s.CheckInPage, rows, q.limit, make)

    @route(Route("/attention", "list_attention", "Needs-attention items", s.AttentionPage,
                 s.AttentionQuery))  # fmt: skip
    def list_attention():
        q = parse(s.AttentionQuery)
        with services.sessions() as session:
            rows = reads.attention(
                session,
                caller().visible,
                program_id=q.program,
                participant_id=q.participant,
                open_only=q.open_only(),
                after=q.after(),
                limit=q.limit,
            )
            return page(s.AttentionPage, rows, q.limit, lambda r: s.AttentionOut.of(*r))

    # The document, the rest, errors ----------------------------------------------------

    @bp.get("/openapi.json", endpoint="openapi")
    def openapi():
        return jsonify(registry.document(request.host_url.rstrip("/")))

    @bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def elsewhere(rest):
        if request.method != "GET":
            return error(405, "method_not_allowed", "The API is read-only: use GET.",
                         headers={"Allow": "GET"})  # fmt: skip
        abort(404)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:
            return exc.response
        code = exc.code or 500
        messages = {
            404: ("not_found", "No such record among those this token may read."),
            429: ("rate_limited", "Too many requests for this token: wait and try again."),
        }
        name, message = messages.get(code, (exc.name.lower().replace(" ", "_"), exc.description))
        response = error(code, name, message)
        if code == 429:
            retry = getattr(exc, "retry_after", None)
            if retry:
                response.headers["Retry-After"] = str(retry)
        return response

    return bp, registry
