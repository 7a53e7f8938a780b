"""Twilio voice webhooks: the call script (TwiML) and the recording/call callbacks.

POST /twilio/voice                the call is connected (a call in, or ours answered)
POST /twilio/voice/menu           menu answer (keys or speech)
POST /twilio/voice/recorded       the <Record> action
POST /twilio/voice/keep           keep it, or record again
POST /twilio/voice/checkin        one answer of a voice check-in
POST /twilio/voice/recording      recordingStatusCallback (the audio is ready)
POST /twilio/voice/transcription  transcribeCallback
POST /twilio/voice/status         call status callback

Every route is signed. Each answers from the database alone; downloads and deletes are jobs.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, current_app, request

from service.core.numbers import whole_number
from service.services import current
from service.voice import script
from webhooks import forms
from webhooks.signature import twilio_signed
from webhooks.taking import take_in

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")


def twiml(xml: str):
    return current_app.response_class(xml, 200, mimetype="application/xml")


def no_content():
    return current_app.response_class("", 204)


def _int(name: str) -> int | None:
    return whole_number(request.args.get(name))


def spoken(view):
    """A failure on our side is apologised for in words, never Twilio's generic error."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception:
            log.exception("voice webhook %s failed", request.path)
            try:
                req = forms.voice_request(request.form)
            except Exception:
                req = None
            return twiml(script.apology(current(), req, call_id=_int("call")))

    return wrapped


@bp.post("")
@twilio_signed
@spoken
def incoming():
    req = forms.voice_request(request.form)
    return twiml(script.answer(current(), req, call_id=_int("call")))


@bp.post("/menu")
@twilio_signed
@spoken
def menu():
    req = forms.voice_request(request.form)
    return twiml(script.menu_choice(current(), req, misses=_int("misses") or 0))


@bp.post("/recorded")
@twilio_signed
@spoken
def recorded():
    form = request.form
    return twiml(
        script.recorded(
            current(),
            forms.voice_request(form),
            purpose=request.args.get("purpose", ""),
            transcribe=request.args.get("tx") == "1",
            recording_sid=forms.field(form, "RecordingSid", 64),
            duration=forms.number(form, "RecordingDuration"),
            url=forms.field(form, "RecordingUrl", 2000) or None,
        )
    )


@bp.post("/keep")
@twilio_signed
@spoken
def keep():
    return twiml(
        script.keep_choice(
            current(),
            forms.voice_request(request.form),
            reflection_id=_int("reflection") or 0,
            misses=_int("misses") or 0,
        )
    )


@bp.post("/checkin")
@twilio_signed
@spoken
def checkin():
    return twiml(
        script.checkin_choice(
            current(),
            forms.voice_request(request.form),
            checkin_id=_int("checkin") or 0,
            given=request.args.get("given", "")[:20],
            misses=_int("misses") or 0,
        )
    )


@bp.post("/recording")
@twilio_signed
def recording_status():
    form = request.form
    sid = forms.field(form, "RecordingSid", 64)
    if sid:
        args = {
            "call_sid": forms.field(form, "CallSid", 64),
            "recording_sid": sid,
            "status": forms.field(form, "RecordingStatus", 16),
            "duration": forms.number(form, "RecordingDuration"),
            "url": forms.field(form, "RecordingUrl", 2000) or None,
            "purpose": request.args.get("purpose", ""),
            "transcribe": request.args.get("tx") == "1",
        }
        return take_in("recording", args, no_content())
    return no_content()


@bp.post("/transcription")
@twilio_signed
def transcription():
    form = request.form
    sid = forms.field(form, "RecordingSid", 64)
    if sid:
        args = {
            "recording_sid": sid,
            "status": forms.field(form, "TranscriptionStatus", 16),
            "text": forms.field(form, "TranscriptionText") if "TranscriptionText" in form else None,
        }
        return take_in("transcription", args, no_content())
    return no_content()


@bp.post("/status")
@twilio_signed
def status():
    sid = forms.field(request.form, "CallSid", 64)
    if sid:
        args = {
            "call_sid": sid,
            "status": forms.field(request.form, "CallStatus", 16),
            "call_id": _int("call"),
            "attempt": _int("attempt"),
        }
        return take_in("call_status", args, no_content())
    return no_content()
