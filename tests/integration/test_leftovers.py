"""An erasure's copies elsewhere: deleted once, retried with backoff while Twilio is away,
and the program's facilitators told when it lasts (program/leftovers.py)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.core.enums import AttentionKind, LeftoverKind
from service.infra.twilio_gateway import TwilioGateway
from service.models import AttentionItem, PendingDeletion
from service.program import leftovers
from tests.support.factories import make_program
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, free_port, local_gateway


@pytest.fixture
def gateway(local_twilio):
    return local_gateway(local_twilio)


def pending(services, program_id, *items):
    with services.sessions() as session:
        rows = [
            PendingDeletion(kind=kind, ref=ref, program_id=program_id, created_at=services.now())
            for kind, ref in items
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def test_files_go_at_once_and_a_missing_one_counts_as_gone(services, tmp_path):
    program = make_program(services)
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF")
    missing = tmp_path / "gone.wav"
    files = [(LeftoverKind.FILE, str(audio)), (LeftoverKind.FILE, str(missing))]
    ids = pending(services, program.id, *files)
    assert leftovers.purge(services, ids) == {"deleted": 2, "waiting": 0}
    assert not audio.exists()
    with services.sessions() as session:
        assert session.exec(select(PendingDeletion)).all() == []


def test_twilio_away_for_hours_retries_hourly_and_tells_once(services, clock, local_twilio):
    program = make_program(services)
    kept = local_twilio.add_inbound("+12015550123", "+12015550100", "hello")
    ids = pending(services, program.id, (LeftoverKind.MESSAGE, kept["sid"]))
    working = services.gateway
    services.gateway = TwilioGateway(
        ACCOUNT_SID, AUTH_TOKEN, api_base_url=f"http://127.0.0.1:{free_port()}", timeout=1
    )
    assert leftovers.purge(services, ids) == {"deleted": 0, "waiting": 1}
    assert leftovers.sweep(services) == 0  # not due yet: the next try is a minute away
    for _ in range(11):
        clock.advance(hours=1)
        leftovers.sweep(services)
    with services.sessions() as session:
        [row] = session.exec(select(PendingDeletion)).all()
        [told] = session.exec(select(AttentionItem)).all()
    assert row.attempts == 12 and row.last_error.startswith("Twilio unreachable")
    assert (told.kind, told.program_id, told.participant_id) == (
        AttentionKind.ERASURE_PENDING,
        program.id,
        None,
    )
    assert "+1" not in told.detail and "2015550123" not in told.detail
    clock.advance(hours=1)
    leftovers.sweep(services)  # still away: no second item
    with services.sessions() as session:
        assert len(session.exec(select(AttentionItem)).all()) == 1

    services.gateway = working
    clock.advance(hours=1)
    assert leftovers.sweep(services) == 1
    assert local_twilio.messages() == []
