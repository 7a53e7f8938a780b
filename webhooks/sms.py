"""POST /twilio/sms (a text came in) and /twilio/sms/status (delivery status)."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from service import intake
from webhooks import forms
from webhooks.signature import twilio_signed
from webhooks.taking import take_in

bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


# Replies go out through the outbox (idempotent, status-tracked), never as TwiML.
EMPTY_TWIML = str(MessagingResponse())


@bp.post("")
@twilio_signed
def incoming():
    """Store the text first (or spool it), queue the conversation turn, answer at once."""
    sms = intake.sms_args(forms.inbound_sms(request.form))
    answer = current_app.response_class(EMPTY_TWIML, 200, mimetype="application/xml")
    return take_in("sms", sms, answer)


@bp.post("/status")
@twilio_signed
def status():
    form = request.form
    args = {
        "sid": forms.field(form, "MessageSid", 64),
        "status": forms.field(form, "MessageStatus", 16) or forms.field(form, "SmsStatus", 16),
        "error_code": forms.field(form, "ErrorCode", 16),
    }
    return take_in("sms_status", args, current_app.response_class("", 204))
