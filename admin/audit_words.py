"""The audit log in words: who (a facilitator's name, never `facilitator:1`), what (the
action as a sentence, never its key) and the details as "label: value" words."""

from __future__ import annotations

from admin.i18n import _, lazy_
from admin.text_guide import GUIDE
from service.core.enums import label
from service.models import Facilitator

ACTIONS = {
    "add_commitment": lazy_("Added a commitment"),
    "admin.login": lazy_("Signed in"),
    "admin.login_failed": lazy_("Sign-in failed"),
    "admin.login_refused": lazy_("Sign-in refused"),
    "admin.logout": lazy_("Signed out"),
    "admin.session_refused": lazy_("Session ended"),
    "advance_step": lazy_("Moved on to the next step"),
    "agree_commitments": lazy_("Agreed to the commitments"),
    "api_token.create": lazy_("Created an API token"),
    "api_token.revoke": lazy_("Revoked an API token"),
    "attention.raised": lazy_("Raised an attention item"),
    "attention.reopen": lazy_("Reopened an attention item"),
    "attention.resolve": lazy_("Resolved an attention item"),
    "attention.settled": lazy_("An attention item settled itself"),
    "attention.snooze": lazy_("Snoozed an attention item"),
    "close": lazy_("Closed the participant"),
    "consent": lazy_("Said yes to the program"),
    "create_program": lazy_("Created a program"),
    "edit_commitment": lazy_("Edited a commitment"),
    "enroll": lazy_("Enrolled a participant"),
    "export_participant": lazy_("Exported a participant's data"),
    "export_results": lazy_("Downloaded a program's results"),
    "facilitator.create": lazy_("Created a facilitator account"),
    "facilitator.update": lazy_("Changed a facilitator account"),
    "import_participants": lazy_("Imported participants"),
    "link_partners": lazy_("Linked partners"),
    "opt_in": lazy_("Texted START: messages back on"),
    "opt_out": lazy_("Texted STOP: messages off"),
    "participant.update": lazy_("Changed a participant"),
    "password_reset": lazy_("Reset a password"),
    "pause": lazy_("Paused their messages"),
    "program.close": lazy_("Closed a program"),
    "program.create": lazy_("Created a program"),
    "program.text_test": lazy_("Sent themself a test of a text"),
    "program.texts": lazy_("Changed a program's texts"),
    "program.update": lazy_("Changed a program's settings"),
    "reflection_kept": lazy_("A spoken reflection was kept"),
    "reinvite": lazy_("Invited again"),
    "rejoin_after_erasure": lazy_("Rejoined after their data was erased"),
    "relabel_commitment": lazy_("Relabelled a commitment"),
    "resume": lazy_("Resumed their messages"),
    "retry_text": lazy_("Retried a text"),
    "send_prompt": lazy_("Sent the step's question again"),
    "simulator.persona": lazy_("Created a test persona"),
    "simulator.persona_deleted": lazy_("Deleted a test persona"),
    "simulator.persona_reset": lazy_("Reset a test persona"),
    "text_participant": lazy_("Texted a participant"),
    "unlink_partners": lazy_("Unlinked partners"),
    "webhook.disable": lazy_("Turned a webhook off"),
    "webhook.register": lazy_("Registered a webhook"),
    "webhook.resend": lazy_("Sent a webhook delivery again"),
}

ACTORS = {
    "cli": lazy_("The command line"),
    "operator": lazy_("The operator (command line)"),
    "system": lazy_("Realign"),
    "twilio": lazy_("Twilio"),
    "anonymous": lazy_("Someone not signed in"),
}

DETAIL_KEYS = {
    "fields": lazy_("changed"),
    "texts": lazy_("texts"),
    "text": lazy_("text"),
    "language": lazy_("language"),
    "message_id": lazy_("message"),
    "outcome": lazy_("outcome"),
    "step": lazy_("step"),
    "role": lazy_("role"),
    "format": lazy_("format"),
    "participants": lazy_("participants"),
    "reason": lazy_("reason"),
    "why": lazy_("why"),
}


def words(key: str) -> str:
    """A key as words when we have no better: "participant.update" -> "Participant update"."""
    return (key or "").replace(".", " ").replace("_", " ").capitalize()


def action_words(action: str) -> str:
    return str(ACTIONS.get(action) or words(action))


def actor_name(db, actor: str) -> str:
    """Who did it: the facilitator's name, "Participant 12", "Twilio", "The command line"."""
    kind, _sep, ident = (actor or "").partition(":")
    if kind == "facilitator" and ident.isdigit():
        person = db.get(Facilitator, int(ident))
        return person.name if person else _("Facilitator %(id)s", id=ident)
    if kind == "participant" and ident.isdigit():
        return _("Participant %(id)s", id=ident)
    return str(ACTORS.get(actor) or words(actor))


def _text_name(dotted: str) -> str:
    key, _sep, lang = str(dotted).partition(".")
    guide = GUIDE.get(key)
    if guide is None:
        return words(str(dotted))
    return f"{guide.title} ({label('language', lang)})" if lang else str(guide.title)


def _value(key: str, value) -> str:
    if key == "texts" and isinstance(value, list):
        return ", ".join(_text_name(v) for v in value) or _("none")
    if key == "text":
        return _text_name(value)
    if key == "language":
        return label("language", value)
    if key == "outcome":
        return label("outcome", value)
    if key == "step":
        return label("step", value)
    if key == "role":
        return label("role", value)
    if key == "fields" and isinstance(value, list):
        return ", ".join(words(v).lower() for v in value) or _("nothing")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(words(str(v)).lower() if isinstance(v, str) else str(v) for v in value)
    if isinstance(value, str):
        return words(value).lower() if value.isidentifier() else value
    if isinstance(value, dict):
        return detail_text(value)
    return str(value)


def detail_text(detail) -> str:
    """An event's detail as a line: "changed: name, phone · step: 3. Listening deeply"."""
    parts = []
    for key, value in (detail or {}).items():
        name = str(DETAIL_KEYS.get(key) or words(key).lower())
        parts.append(f"{name}: {_value(key, value)}")
    return " · ".join(parts)
