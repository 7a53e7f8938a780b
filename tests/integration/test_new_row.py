"""A row the code composes (an outbound text) built without the model's per-field hooks is
the same row: the same values and defaults, stored and read back the same, and tracked
like any other object once in a session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from service.core.enums import Direction, MessageStatus
from service.infra.db import new_row
from service.models import Message

VALUES = dict(
    direction=Direction.OUT,
    idempotency_key="k:new-row",
    to_number="+12015550123",
    body="Thank you for telling me.",
    template="ack_statement",
    created_at=datetime(2026, 12, 1, 19, 2, tzinfo=UTC),
    updated_at=datetime(2026, 12, 1, 19, 2, tzinfo=UTC),
)


def test_it_holds_what_the_model_would():
    built, made = new_row(Message, **VALUES), Message(**VALUES)
    assert built.model_dump() == made.model_dump()
    assert built.model_fields_set == made.model_fields_set
    assert built.status == MessageStatus.PENDING and built.media_urls == []
    # A mutable default is the row's own.
    built.media_urls.append("https://example.org/a.jpg")
    assert new_row(Message, **VALUES).media_urls == []


def test_a_default_factory_runs_when_the_value_is_not_given():
    before = datetime.now(UTC)
    row = new_row(Message, direction=Direction.IN)
    assert row.created_at >= before and row.updated_at >= before


def test_it_is_stored_changed_and_read_back_like_any_row(services):
    with services.sessions() as session:
        row = new_row(Message, **VALUES)
        session.add(row)
        session.commit()
        row.status = MessageStatus.SENT  # tracked: the change is written
        session.commit()
        row_id = row.id
    with services.sessions() as session:
        stored = session.get(Message, row_id)
        assert (stored.body, stored.status, stored.template) == (
            VALUES["body"], MessageStatus.SENT, "ack_statement",
        )  # fmt: skip
        assert stored.created_at == VALUES["created_at"]
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_a_model_with_relationships_is_refused():
    class Fake:
        __sqlmodel_relationships__ = {"owner": object()}
        __name__ = "Fake"

    with pytest.raises(TypeError):
        new_row(Fake)
