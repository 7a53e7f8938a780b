"""Helpers for the voice tests: Twilio's voice forms, TwiML parsing, participants at a step."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from service.models import CheckIn, Commitment, Participant
from service.program import commitments
from tests.support.factories import ANA, PROGRAM_NUMBER
from tests.support.twilio import ACCOUNT_SID

_sids = itertools.count(1)


def new_call_sid() -> str:
    return f"CA{next(_sids):032x}"


def new_recording_sid() -> str:
    return f"RE{next(_sids):032x}"


def voice_form(call_sid: str, *, from_=ANA, to=PROGRAM_NUMBER, direction="inbound", **extra):
    form = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call_sid,
        "From": from_,
        "To": to,
        "Direction": direction,
        "CallStatus": "in-progress",
    }
    form.update({k: str(v) for k, v in extra.items()})
    return form


def twiml(response) -> ET.Element:
    """The TwiML answer as XML (asserting it is one)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def said(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def path_of(url: str) -> str:
    """'https://realign.example.org/twilio/voice/keep?x=1' -> '/twilio/voice/keep?x=1'."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def at_step(services, participant_id: int, step: int, *, prompt=None, status="active", **fields):
    """Move a participant straight to `step` (consented), as if the steps before were done."""
    now = services.now()
    with services.sessions() as session:
        p = session.get(Participant, participant_id)
        p.status = status
        p.consent_at = now - timedelta(days=2)
        p.step = step
        p.prompt = prompt
        p.prompt_due_at = now - timedelta(hours=1) if prompt else None
        for name, value in fields.items():
            setattr(p, name, value)
        session.add(p)
        session.commit()
        return p


def live_commitments(services, participant_id: int, texts: list[str], signs=None) -> list[int]:
    """Commitments written and agreed (active), as at the start of step 5."""
    now = services.now()
    with services.sessions() as session:
        p = session.get(Participant, participant_id)
        for i, text in enumerate(texts):
            sign = (signs or [""] * len(texts))[i]
            commitments.add_commitment(session, p, text, sign=sign, now=now)
        commitments.agree(session, p, now=now)
        session.commit()
        rows = session.exec(
            select(Commitment).where(Commitment.participant_id == participant_id)
        ).all()
        return [c.id for c in rows]


def open_checkin(services, participant_id: int, commitment_ids: list[int]) -> int:
    now = services.now()
    with services.sessions() as session:
        checkin = CheckIn(
            participant_id=participant_id,
            kind="self",
            due_at=now - timedelta(minutes=30),
            status="open",
            sent_at=now - timedelta(minutes=30),
            commitment_ids=commitment_ids,
            closes_at=now + timedelta(hours=6),
            created_at=now,
        )
        session.add(checkin)
        session.commit()
        return checkin.id


class PhoneCall:
    """One phone call: posts each request of it, signed, with the same CallSid."""

    def __init__(self, twilio_post, *, from_=ANA, to=PROGRAM_NUMBER, sid=None):
        self.post = twilio_post
        self.sid = sid or new_call_sid()
        self.from_, self.to = from_, to

    def request(self, path, **extra):
        return twiml(self.post(path, voice_form(self.sid, from_=self.from_, to=self.to, **extra)))

    def answer(self):
        return self.request("/twilio/voice")

    def follow(self, url, **extra):
        """Post to an action/redirect URL from our own TwiML."""
        return self.request(path_of(url), **extra)

    def press(self, root, digits):
        return self.follow(root.find("Gather").get("action"), Digits=digits)

    def record(self, root, recording_sid=None, duration=20, digits="#"):
        """Twilio's <Record> action after the caller spoke for `duration` seconds."""
        action = root.find("Record").get("action")
        sid = recording_sid or new_recording_sid()
        return sid, self.follow(
            action,
            RecordingSid=sid,
            RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{sid}",
            RecordingDuration=duration,
            Digits=digits,
        )


def options(root) -> list[str]:
    return [say.text for say in root.find("Gather").iter("Say")][1:]


def recording_callback(call, record, recording_sid, *, status="completed", duration=20):
    """Twilio's recordingStatusCallback for the <Record> in `record`."""
    url = record.get("recordingStatusCallback")
    response = call.post(
        path_of(url),
        {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call.sid,
            "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
            f"/Recordings/{recording_sid}",
            "RecordingStatus": status,
            "RecordingDuration": str(duration),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        },
    )
    assert response.status_code == 204
    return response


def recording_requests(twilio_api) -> list[tuple[str, str]]:
    """(method, last path part) of every request about recordings."""
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1])
        for r in twilio_api.requests()
        if "/Recordings/" in r["path"]
    ]


def recording_url(twilio_api, sid, ext=".wav"):
    return f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}{ext}"
