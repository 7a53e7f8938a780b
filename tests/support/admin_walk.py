"""Walking every admin URL: the rules, their URLs filled with one facilitator's records,
and a snapshot of the database to prove a request changed nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import SQLModel

from service.models import (
    ApiToken,
    AttentionItem,
    AuditEvent,
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Reflection,
    Statement,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.support.admin import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET = "BEN-SECRET"  # in every text of Ben's-only records: must never reach Ana
PUBLIC = {"admin.login", "admin.static"}
STATIC = {
    "admin.static",
    "realign_admin.static",
    "realign_participants.static",
    "rq_dashboard.static",
}
# Path arguments that are not record ids (rq-dashboard's instance, queue, registry, paging).
PATH_VALUES = {
    "export_type": "csv",
    "job_id": "no-such-job",
    "filename": "x",
    "instance_number": "0",
    "queue_name": "bulk",
    "registry_name": "failed",
    "per_page": "8",
    "page": "1",
    "order": "asc",
}


@dataclass
class BenRecords:
    program: int
    participant: int
    statement: int
    message: int
    commitment: int
    checkin: int
    reflection: int
    attention: int
    audit: int
    facilitator: int
    api_token: int = 0
    webhook: int = 0


def add_ben_records(app, world) -> BenRecords:
    """Records of every kind under Ben's-only program, each carrying SECRET."""
    services = app.extensions["realign"]
    now = services.now()
    with services.sessions() as s:
        from service.models import Participant, Program

        s.get(Program, world.ben_program).name = f"Ben's program {SECRET}-PROGRAM"
        p = s.get(Participant, world.ben_participant)
        p.name = f"Bo {SECRET}-NAME"
        message = Message(
            direction="in",
            program_id=world.ben_program,
            participant_id=p.id,
            from_number=p.phone,
            body=f"{SECRET}-MESSAGE",
            status="processed",
        )
        s.add(message)
        s.flush()
        statement = Statement(
            participant_id=p.id,
            step=1,
            kind="what_happened",
            body=f"{SECRET}-STATEMENT",
            message_id=message.id,
        )
        commitment = Commitment(participant_id=p.id, text=f"{SECRET}-COMMITMENT", status="active")
        reflection = Reflection(
            participant_id=p.id, transcript=f"{SECRET}-TRANSCRIPT", duration_s=12, status="stored"
        )
        attention = AttentionItem(
            program_id=world.ben_program,
            participant_id=p.id,
            kind="headsup",
            detail=f"{SECRET}-ATTENTION",
        )
        s.add_all([statement, commitment, reflection, attention])
        s.flush()
        checkin = CheckIn(
            participant_id=p.id,
            due_at=now - timedelta(days=1),
            status="answered",
            sent_at=now - timedelta(days=1),
            answered_at=now,
            answer_raw=f"{SECRET}-ANSWER",
            commitment_ids=[commitment.id],
        )
        s.add(checkin)
        s.flush()
        s.add(CheckInAnswer(checkin_id=checkin.id, commitment_id=commitment.id, result="kept"))
        s.add(
            Message(
                direction="in",
                program_id=world.ben_program,
                from_number="+12015550177",
                body=f"{SECRET}-UNMATCHED",
                status="processed",
            )
        )
        event = AuditEvent(
            actor=f"facilitator:{world.ben}", action="test", entity="participant", entity_id=p.id
        )
        s.add(event)
        api_token = ApiToken(
            facilitator_id=world.ben,
            name=f"{SECRET}-TOKEN",
            token_hash="b" * 64,
            prefix="rlg_bbbbbbbb",
        )
        s.add(api_token)
        webhook = WebhookEndpoint(
            facilitator_id=world.ben,
            url=f"https://ben.example.org/{SECRET}-WEBHOOK",
            secret="whsec_ben",
            events=["participant.enrolled"],
        )
        s.add(webhook)
        s.flush()
        s.add(
            WebhookDelivery(
                endpoint_id=webhook.id,
                event_id="evt_ben",
                event_type="participant.enrolled",
                body=f'{{"data": "{SECRET}-EVENT"}}',
                status="failed",
            )
        )
        s.commit()
        return BenRecords(
            world.ben_program,
            p.id,
            statement.id,
            message.id,
            commitment.id,
            checkin.id,
            reflection.id,
            attention.id,
            event.id,
            world.ben,
            api_token.id,
            webhook.id,
        )


def admin_rules(app) -> list:
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith("/admin") and r.endpoint not in STATIC
        ),
        key=lambda r: r.rule,
    )


def record_id(endpoint: str, ben: BenRecords) -> int:
    view = endpoint.split(".")[0]
    return {
        "programs": ben.program,
        "participants": ben.participant,
        "facilitators": ben.facilitator,
        "audit": ben.audit,
        "admin": ben.attention,
        "api_tokens": ben.api_token,
        "webhooks": ben.webhook,
    }.get(view, ben.participant)


def url_for_rule(rule, ben: BenRecords) -> str:
    """The rule's URL with path arguments and every id-like query argument set to Ben's."""
    path = rule.rule
    for name in rule.arguments:
        value = PATH_VALUES.get(name, str(record_id(rule.endpoint, ben)))
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    rid = record_id(rule.endpoint, ben)
    query = (
        f"id={rid}&program_id={ben.program}&participant_id={ben.participant}"
        f"&reflection_id={ben.reflection}&commitment_id={ben.commitment}"
        f"&message_id={ben.message}&url=/admin/"
    )
    return f"{path}?{query}"


def post_data(rule, ben: BenRecords, token: str | None) -> dict:
    rid = record_id(rule.endpoint, ben)
    data = {
        "id": str(rid),
        "rowid": str(rid),
        "program_id": str(ben.program),
        "participant_id": str(ben.participant),
        "commitment_id": str(ben.commitment),
        "reflection_id": str(ben.reflection),
        "name": "changed",
        "body": "changed",
        "text": "changed",
        "outcome": "ended",
        "closing_message": "changed",
        "action": "delete",
        "list_form_pk": str(rid),
        "status": "paused",
        "step": "3",
        "confirm": "ERASE",
        "do": "pause",
        "what": "pause",
    }
    if token is not None:
        data["csrf_token"] = token
    return data


def snapshot(engine, skip=("auditevent",)) -> dict:
    """Every row of every table (the audit log apart: sign-ins write to it)."""
    tables = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            tables[table.name] = sorted(repr(tuple(r)) for r in rows)
    return tables


def token_for(client) -> str:
    page = client.get("/admin/")
    if page.status_code != 200:
        page = client.get("/admin/login")
    return TOKEN.search(page.text).group(1)


def login(client, email: str) -> None:
    page = client.get("/admin/login")
    token = TOKEN.search(page.text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/admin/login", data=data)
    assert response.status_code == 302, response.status_code
