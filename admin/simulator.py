"""The simulator: text (or call) the program as a test persona, from the browser.

Each text goes to the real webhook (`POST /twilio/sms`) with a valid Twilio signature
(computed with the webhook token over PUBLIC_BASE_URL + path, exactly as Twilio would), via
an in-process test client, so signature checking, storage and queueing are the production
path. Replies are written to the outbox and sent by RQ jobs; rather than wait for a worker,
the simulator runs the same job functions for this one conversation in-process
(`conversation.handle_inbound`, `personas.deliver_now`). Both claim their row atomically, so the
queued jobs a worker picks up later find nothing left to do: nothing is sent twice.

It acts only as test personas (service/core/personas.py): made-up participants with
fictional numbers, whose texts and calls go to the console gateway wherever they are sent
from (never to Twilio) and whose waking-hours delays are skipped, so a facilitator can walk
through consent and steps 1–2 in a minute. A real participant is neither offered nor
accepted: texting or calling "as" them would record consent, answers or keywords they never
gave and text their phone. Nothing is entered on a participant's behalf here.

Calls: "Call" posts to `/twilio/voice` (when the voice webhooks are mounted) and shows what
would be said; keys and speech are posted to the Gather action the TwiML names. Where the
script records (step 3's reflection), "Pretend I recorded 40 seconds" posts what Twilio
would: the <Record> action and the recording status callback, signed, with a made-up
RecordingSid; the recording is then settled like any other (service/voice/recordings.py),
its audio a generated WAV saved like a real one, nothing asked of Twilio.

After each send the page opens at the newest text (`#newest`), the last texts shown above
the box to answer in. A persona can be reset (its records cleared, invited again) or
deleted.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from twilio.request_validator import RequestValidator

from admin.base import SignedInView, visible_program_ids
from admin.i18n import _
from service.core import personas as persona_rules
from service.core.numbers import whole_number
from service.models import Message, Participant, Program, Reflection, Statement
from service.program import conversation, personas
from service.program.enrollment import EnrollmentError
from service.services import current
from service.unit_of_work import UnitOfWork
from service.voice import recordings

MAX_BODY = 1600
ACCOUNT = "AC" + "0" * 32  # the account the simulator's posts name (signatures are checked)
SHOWN = 40  # the last texts of the thread shown above the box (the newest in view)
PRETEND_SECONDS = 40
PRETEND_TRANSCRIPT = "(A test persona's pretend reflection: nobody spoke.)"


def signed_post(path: str, form: dict[str, str]):
    """POST `form` to our own webhook at `path`, signed as Twilio signs it."""
    services = current()
    base = services.settings.public_base_url
    url = base + path
    signature = RequestValidator(services.webhook_token).compute_signature(url, form)
    parts = urlsplit(url)
    client = current_app.test_client()
    return client.post(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        data=form,
        headers={"X-Twilio-Signature": signature},
        base_url=f"{parts.scheme}://{parts.netloc}",
    )


class SimulatorView(SignedInView):
    def __init__(self, db, services, **kwargs):
        super().__init__(**kwargs)
        self.db, self.services = db, services

    # Scope --------------------------------------------------------------------------------

    def _programs(self) -> list[Program]:
        ids = visible_program_ids(self.db)
        query = sa.select(Program).where(Program.status == "active").order_by(Program.name)
        if ids is not None:
            query = query.where(Program.id.in_(ids))
        return list(self.db.scalars(query))

    def _program(self, program_id) -> Program:
        pid = whole_number(program_id)
        if pid is None:
            abort(404)
        ids = visible_program_ids(self.db)
        program = self.db.get(Program, pid)
        if program is None or (ids is not None and pid not in ids):
            abort(404)
        return program

    def _participant(self, participant_id) -> Participant:
        """A test persona of one of this facilitator's programs; anyone else is refused."""
        pid = whole_number(participant_id)
        if pid is None:
            abort(404)
        participant = self.db.get(Participant, pid)
        ids = visible_program_ids(self.db)
        if participant is None or (ids is not None and participant.program_id not in ids):
            abort(404)
        if not personas.is_persona(participant):
            abort(self._refuse(participant))
        return participant

    def _refuse(self, participant: Participant):
        """403, on the program's simulator page: this is a real participant."""
        self.db.commit()
        flash(
            _(
                "The simulator acts only as test personas. %(name)s is a real participant: "
                "nothing was sent, recorded or shown as them. Acting as a real person here "
                "would record consent and answers they never gave, and text their phone.",
                name=participant.name,
            ),
            "error",
        )
        page = self._page(self.db.get(Program, participant.program_id), None)
        return current_app.make_response((page, 403))

    def _number(self, program: Program) -> str:
        """The number a persona texts or calls: the program's, or the service's default."""
        return program.sender_number or self.services.settings.twilio_from_number or ""

    # Pages --------------------------------------------------------------------------------

    @expose("/")
    def index(self):
        program = participant = None
        if request.args.get("participant_id"):
            participant = self._participant(request.args["participant_id"])
            program = self.db.get(Program, participant.program_id)
        elif request.args.get("program_id"):
            program = self._program(request.args["program_id"])
        return self._page(program, participant)

    def _page(self, program: Program | None, participant: Participant | None) -> str:
        programs = self._programs()
        people = []
        if program is not None:
            candidates = self.db.scalars(
                sa.select(Participant)
                .where(
                    Participant.program_id == program.id,
                    Participant.phone.startswith(persona_rules.PREFIX),
                )
                .order_by(Participant.name, Participant.id)
            )
            people = [p for p in candidates if personas.is_persona(p)]
        thread, statements, earlier = [], [], 0
        if participant is not None:
            theirs = Message.participant_id == participant.id
            thread = list(
                self.db.scalars(
                    sa.select(Message)
                    .where(theirs)
                    .order_by(Message.created_at.desc(), Message.id.desc())
                    .limit(SHOWN)
                )
            )[::-1]
            if len(thread) == SHOWN:
                total = self.db.scalar(sa.select(sa.func.count(Message.id)).where(theirs))
                earlier = total - SHOWN
            statements = list(
                self.db.scalars(
                    sa.select(Statement)
                    .where(Statement.participant_id == participant.id)
                    .order_by(Statement.id)
                )
            )
        call = session.get("simulator_call")
        if call and participant is not None and call.get("participant_id") != participant.id:
            call = None
        return self.render(
            "realign/simulator.html",
            programs=programs,
            program=program,
            people=people,
            participant=participant,
            thread=thread,
            earlier=earlier,
            statements=statements,
            pretend_seconds=PRETEND_SECONDS,
            call=call,
            voice=self._has_voice(),
            max_body=MAX_BODY,
        )

    @expose("/persona", methods=("POST",))
    def persona(self):
        program = self._program(request.form.get("program_id"))
        if program.status != "active":
            abort(409)
        self.db.commit()  # end our read transaction before the service writes
        with UnitOfWork(self.services) as uow:
            try:
                participant = personas.enrol(
                    uow,
                    uow.session.get(Program, program.id),
                    language=request.form.get("language") or None,
                    actor=current_user.actor,
                )
                uow.commit()
            except (personas.NoRoom, EnrollmentError) as exc:
                flash(_("Could not add a test persona: %(why)s", why=exc), "error")
                return redirect(url_for(".index", program_id=program.id))
            pid, name = participant.id, participant.name
        self._deliver(pid)
        flash(_("%(name)s was enrolled and invited. Reply YES to consent.", name=name), "success")
        return redirect(url_for(".index", participant_id=pid))

    @expose("/reset", methods=("POST",))
    def reset(self):
        """Back to the start: the persona's records cleared, invited again."""
        participant = self._participant(request.form.get("participant_id"))
        program = self.db.get(Program, participant.program_id)
        if program.status != "active":
            abort(409)
        pid = participant.id
        self.db.commit()
        session.pop("simulator_call", None)
        with UnitOfWork(self.services) as uow:
            try:
                again, paths = personas.reset(
                    uow, uow.session.get(Participant, pid), actor=current_user.actor
                )
            except EnrollmentError as exc:
                flash(_("Could not reset the test persona: %(why)s", why=exc), "error")
                return redirect(url_for(".index", participant_id=pid))
            uow.commit()
            new_id, name = again.id, again.name
        personas.remove_files(paths)
        self._deliver(new_id)
        flash(
            _("%(name)s is back at the start, invited again. Reply YES to consent.", name=name),
            "success",
        )
        return redirect(url_for(".index", participant_id=new_id) + "#newest")

    @expose("/delete", methods=("POST",))
    def delete(self):
        participant = self._participant(request.form.get("participant_id"))
        pid, program_id, name = participant.id, participant.program_id, participant.name
        self.db.commit()
        session.pop("simulator_call", None)
        with UnitOfWork(self.services) as uow:
            paths = personas.delete(
                uow, uow.session.get(Participant, pid), actor=current_user.actor
            )
            uow.commit()
        personas.remove_files(paths)
        flash(_("%(name)s and everything it did were deleted.", name=name), "success")
        return redirect(url_for(".index", program_id=program_id))

    @expose("/text", methods=("POST",))
    def text(self):
        participant = self._participant(request.form.get("participant_id"))
        body = (request.form.get("body") or "").strip()
        if not body:
            flash(_("Type a text to send."), "error")
            return redirect(url_for(".index", participant_id=participant.id))
        program = self.db.get(Program, participant.program_id)
        sid = "SM" + uuid.uuid4().hex
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT,
            "From": participant.phone,
            "To": self._number(program),
            "Body": body[:MAX_BODY],
            "NumMedia": "0",
        }
        if program.messaging_service_sid:
            form["MessagingServiceSid"] = program.messaging_service_sid
        self.db.commit()  # end our read transaction before the webhook writes
        response = signed_post("/twilio/sms", form)
        if response.status_code != 200:
            flash(_("The SMS webhook answered %(code)s.", code=response.status_code), "error")
            return redirect(url_for(".index", participant_id=participant.id))
        self._run_conversation(sid)
        self._deliver(participant.id)
        return redirect(url_for(".index", participant_id=participant.id) + "#newest")

    # Voice --------------------------------------------------------------------------------

    def _has_voice(self) -> bool:
        return any(r.rule == "/twilio/voice" for r in current_app.url_map.iter_rules())

    @expose("/call", methods=("POST",))
    def call(self):
        participant = self._participant(request.form.get("participant_id"))
        if not self._has_voice():
            abort(404)
        program = self.db.get(Program, participant.program_id)
        call = {
            "participant_id": participant.id,
            "sid": "CA" + uuid.uuid4().hex,
            "from": participant.phone,
            "to": self._number(program),
            "said": [],
            "action": None,
            "record": None,
        }
        self.db.commit()
        self._voice_step(call, "/twilio/voice", {})
        return redirect(url_for(".index", participant_id=participant.id) + "#call")

    @expose("/call/answer", methods=("POST",))
    def call_answer(self):
        participant = self._participant(request.form.get("participant_id"))
        call = session.get("simulator_call")
        if not call or call.get("participant_id") != participant.id or not call.get("action"):
            abort(409)
        extra = {}
        if request.form.get("digits"):
            extra["Digits"] = request.form["digits"].strip()[:8]
        if request.form.get("speech"):
            extra["SpeechResult"] = request.form["speech"].strip()[:500]
        self.db.commit()
        self._voice_step(call, call["action"], extra)
        self._deliver(participant.id)
        self._settle_recordings(participant.id)
        return redirect(url_for(".index", participant_id=participant.id) + "#call")

    @expose("/call/record", methods=("POST",))
    def call_record(self):
        """As if the persona spoke for 40 seconds at the beep: Twilio's <Record> action and
        its recording status callback, posted signed, exactly as Twilio would post them."""
        participant = self._participant(request.form.get("participant_id"))
        call = session.get("simulator_call")
        if not call or call.get("participant_id") != participant.id or not call.get("record"):
            abort(409)
        record = call["record"]
        sid = "RE" + uuid.uuid4().hex
        seconds = str(PRETEND_SECONDS)
        recording = {
            "RecordingSid": sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}",
            "RecordingDuration": seconds,
        }
        self.db.commit()
        call["said"].append({"who": "caller", "text": f"(speaks for {seconds} seconds)"})
        self._voice_step(call, record["action"], {**recording, "Digits": "#"}, quiet=True)
        if record.get("callback"):
            path = self._voice_path(record["callback"])
            signed_post(
                path,
                {
                    "AccountSid": ACCOUNT,
                    "CallSid": call["sid"],
                    **recording,
                    "RecordingStatus": "completed",
                    "RecordingChannels": "1",
                    "RecordingSource": "RecordVerb",
                },
            )
        if record.get("transcript"):  # Twilio's transcription, for a short English one
            signed_post(
                self._voice_path(record["transcript"]),
                {
                    "AccountSid": ACCOUNT,
                    "CallSid": call["sid"],
                    "RecordingSid": sid,
                    "TranscriptionStatus": "completed",
                    "TranscriptionText": PRETEND_TRANSCRIPT,
                },
            )
        self._deliver(participant.id)
        self._settle_recordings(participant.id)
        return redirect(url_for(".index", participant_id=participant.id) + "#call")

    @expose("/call/hangup", methods=("POST",))
    def call_hangup(self):
        participant = self._participant(request.form.get("participant_id"))
        session.pop("simulator_call", None)
        return redirect(url_for(".index", participant_id=participant.id))

    def _voice_path(self, target: str) -> str:
        base = self.services.settings.public_base_url
        path = target[len(base) :] if target.startswith(base) else target
        if not path.startswith("/twilio/voice"):
            abort(400)
        return path

    def _voice_step(self, call: dict, target: str, extra: dict, quiet: bool = False) -> None:
        path = self._voice_path(target)
        form = {
            "CallSid": call["sid"],
            "AccountSid": ACCOUNT,
            "From": call["from"],
            "To": call["to"],
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **extra,
        }
        response = signed_post(path, form)
        said, action, record = parse_twiml(response.get_data(as_text=True))
        if extra and not quiet:
            call["said"].append({"who": "caller", "text": " ".join(extra.values())})
        call["said"].extend({"who": "line", "text": s} for s in said)
        call["said"] = call["said"][-30:]
        call["action"] = action
        call["record"] = record
        session["simulator_call"] = call

    # Running the queued work for this conversation ---------------------------------------

    def _run_conversation(self, sid: str) -> None:
        with self.services.sessions() as s:
            message_id = s.scalar(sa.select(Message.id).where(Message.twilio_sid == sid))
        if message_id is not None:
            conversation.handle_inbound(self.services, message_id)

    def _deliver(self, participant_id: int) -> None:
        personas.deliver_now(self.services, participant_id)
        self.db.expire_all()

    def _settle_recordings(self, participant_id: int) -> None:
        """What the worker would do next with this persona's recordings, done here: kept
        audio saved (generated: nothing is asked of Twilio), so its player shows at once."""
        with self.services.sessions() as s:
            ids = list(
                s.scalars(
                    sa.select(Reflection.id).where(
                        Reflection.participant_id == participant_id,
                        Reflection.settled_at.is_(None),
                    )
                )
            )
        for reflection_id in ids:
            recordings.settle(self.services, reflection_id)
        self.db.expire_all()


def parse_twiml(xml: str) -> tuple[list[str], str | None, dict | None]:
    """What a caller would hear, where their answer goes (Gather action), and where a
    recording goes ({"action", "callback"} of a <Record>)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return ["(no answer from the voice webhook)"], None, None
    said, action, record = [], None, None
    for node in root.iter():
        if node.tag == "Say" and node.text:
            said.append(node.text.strip())
        elif node.tag == "Play":
            said.append("(audio)")
        elif node.tag == "Record" and node.get("action"):
            record = {
                "action": node.get("action"),
                "callback": node.get("recordingStatusCallback"),
                "transcript": node.get("transcribeCallback"),
            }
            said.append("(the beep: the line is recording)")
            break  # what follows is heard only when nothing was recorded
        elif node.tag == "Gather" and node.get("action"):
            action = node.get("action")
        elif node.tag == "Redirect" and node.text:
            action = node.text.strip()
        elif node.tag == "Hangup":
            said.append("(the call ends)")
    return said, action, record
