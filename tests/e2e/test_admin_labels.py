"""The commitment form: each commitment's short label is shown, editable, and held to what
fits one text message, with the count in the error."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from service.models import Commitment
from tests.e2e.test_admin_participants import form_data, login, sessions

LONG = "Share the weekly numbers with the whole team every Monday by noon"


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def commitments_of(app, participant_id):
    with sessions(app) as s:
        return list(
            s.scalars(
                sa.select(Commitment)
                .where(Commitment.participant_id == participant_id)
                .order_by(Commitment.id)
            )
        )


def test_labels_are_suggested_shown_and_edited_without_new_agreement(admin_app, client, world):
    login(client)
    url = f"/admin/participants/edit/?id={world.shared_participant}"
    fields = {"name": "Cy Shared", "phone": "+12015550133", "program_id": str(world.shared_program)}
    data = form_data(client, url, **fields, **{"commitments-0-text": LONG})
    assert client.post(url, data=data).status_code == 302
    [c] = commitments_of(admin_app, world.shared_participant)
    assert c.label == "Share the weekly numbers"

    page = client.get(url).text  # the form shows it, with its count
    assert re.search(r'id="commitments-0-label"[^>]*value="Share the weekly numbers"', page)
    assert "24/32" in page
    details = client.get(f"/admin/participants/details/?id={world.shared_participant}").text
    assert 'class="commitment-label">“Share the weekly numbers”' in details

    with sessions(admin_app) as s:  # agreed and live
        row = s.get(Commitment, c.id)
        row.status, row.agreed_text = "active", row.text
        s.commit()
    data = form_data(
        client,
        url,
        **fields,
        **{"commitments-0-id": str(c.id), "commitments-0-text": LONG,
           "commitments-0-label": "Monday numbers"},
    )  # fmt: skip
    assert client.post(url, data=data).status_code == 302
    [c] = commitments_of(admin_app, world.shared_participant)
    assert (c.label, c.status) == ("Monday numbers", "active")  # no new agreement needed


def test_labels_that_would_not_fit_are_refused_at_the_form_with_the_count(admin_app, client, world):
    login(client)
    url = f"/admin/participants/edit/?id={world.shared_participant}"
    fields = {"name": "Cy Shared", "phone": "+12015550133", "program_id": str(world.shared_program)}
    rows = {}
    for i in range(4):
        rows |= {
            f"commitments-{i}-id": "",
            f"commitments-{i}-text": f"{LONG} ({i})",
            f"commitments-{i}-label": f"Share the weekly numbers, part {i}",
        }
    page = client.post(url, data=form_data(client, url, **fields, **rows)).text
    assert "With these labels the check-in is 192 characters (GSM-7)" in page
    assert "more than one text message (160). Shorten a label." in page
    assert 'class="text-danger small label-error"' in page
    assert commitments_of(admin_app, world.shared_participant) == []  # nothing half saved

    rows["commitments-0-label"] = "x" * 33
    page = client.post(url, data=form_data(client, url, **fields, **rows)).text
    assert "Field cannot be longer than 32 characters." in page
    assert commitments_of(admin_app, world.shared_participant) == []


def test_a_suggested_label_follows_new_wording_and_an_own_label_stays(admin_app, client, world):
    login(client)
    url = f"/admin/participants/edit/?id={world.shared_participant}"
    fields = {"name": "Cy Shared", "phone": "+12015550133", "program_id": str(world.shared_program)}
    with sessions(admin_app) as s:
        old = Commitment(participant_id=world.shared_participant, text="Call Sam every Sunday")
        own = Commitment(participant_id=world.shared_participant, text="Walk", label="Evening walk")
        s.add_all([old, own])
        s.commit()
        ids = old.id, own.id
    page = client.get(url).text  # an older commitment without a label shows its suggestion
    assert re.search(r'id="commitments-0-label"[^>]*value="Call Sam every Sunday"', page)
    rows = {
        "commitments-0-id": str(ids[0]), "commitments-0-text": "Call Dana every Friday",
        "commitments-0-label": "Call Sam every Sunday",
        "commitments-1-id": str(ids[1]), "commitments-1-text": "Walk after dinner",
        "commitments-1-label": "Evening walk",
    }  # fmt: skip
    assert client.post(url, data=form_data(client, url, **fields, **rows)).status_code == 302
    labels = [c.label for c in commitments_of(admin_app, world.shared_participant)]
    assert labels == ["Call Dana every Friday", "Evening walk"]
