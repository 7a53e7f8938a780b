"""A program's text sent to the facilitator's own phone ("Text me this" in the texts
editor): filled in as the preview shows it, through the outbox and the real gateway, once
per click, and written to the audit log (which text, not its words)."""

from __future__ import annotations

from service.core import text_trial as rules
from service.core.enums import Direction, MessageStatus
from service.core.text_preview import Preview
from service.messaging import outbox
from service.models import Facilitator, Message, Program
from service.records import audit
from service.unit_of_work import UnitOfWork


class NotSent(ValueError):
    """The test text cannot go; the message says why, in plain words."""


def text_me(
    uow: UnitOfWork,
    program: Program,
    facilitator: Facilitator,
    key: str,
    lang: str,
    shown: Preview,
    *,
    nonce: str,
    actor: str,
) -> Message:
    """Queue `shown` (a text of `program` as previewed) to `facilitator`'s phone, at once."""
    why = rules.refusal(facilitator.phone, shown.problems or (not shown.text))
    if why:
        raise NotSent(why)
    now = uow.now
    message = Message(
        direction=Direction.OUT,
        program_id=program.id,
        idempotency_key=rules.key(facilitator.id, nonce, key, lang),
        to_number=facilitator.phone,
        from_number=program.sender_number or "",
        messaging_service_sid=program.messaging_service_sid,
        body=shown.text,
        template=rules.TEMPLATE,
        status=MessageStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    stored = outbox.insert_once(uow.session, message)
    if stored is message:  # a second click of the same form finds the row it wrote
        uow.send(stored)
        audit(uow.session, actor, "program.text_test", program, now=now,
              detail={"text": key, "language": lang, "message_id": stored.id})  # fmt: skip
    return stored
