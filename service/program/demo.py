"""Demo data for the local stack: a facilitator, a program, two partnered participants."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from service.models import Facilitator, Statement
from service.program.accounts import create_facilitator
from service.program.commitments import add_commitment
from service.program.enrollment import enroll, link_partners
from service.program.matching import defaults_of
from service.program.programs import create_program
from service.unit_of_work import UnitOfWork

DEMO_EMAIL = "coach@example.org"
DEMO_PASSWORD = "realign-demo-2026"


def seed_demo(uow: UnitOfWork) -> list[str]:
    """Create the demo once; later runs only print the login."""
    session, now = uow.session, uow.now
    login = [
        "Demo facilitator login:",
        f"  e-mail:   {DEMO_EMAIL}",
        f"  password: {DEMO_PASSWORD}",
    ]
    if session.exec(select(Facilitator).where(Facilitator.email == DEMO_EMAIL)).first():
        return login
    coach = create_facilitator(
        session,
        DEMO_EMAIL,
        "Dana Coach",
        DEMO_PASSWORD,
        role="admin",
        contact="dana@example.org",
    )
    program = create_program(
        session,
        coach,
        name="Founders Reset",
        timezone="America/New_York",
        sender_number="+12015550100",
        now=now,
        defaults=defaults_of(uow.services.settings),
    )
    ana = enroll(
        uow,
        program,
        name="Ana Reyes",
        phone="+12015550123",
        invite=False,
        timezone="America/New_York",
        language="en",
    )
    ben = enroll(
        uow,
        program,
        name="Ben Okafor",
        phone="+12015550124",
        invite=False,
        timezone="America/Chicago",
        language="en",
    )
    link_partners(session, ana, ben, now=now)
    # Ana has consented and is naming what happened; Ben has reached step 4.
    earlier = now - timedelta(days=3)
    ana.status, ana.consent_at, ana.step, ana.prompt = "active", earlier, 1, "step1_emotions"
    ana.prompt_due_at = earlier
    ben.status, ben.consent_at, ben.step, ben.prompt = "active", earlier, 4, "agree"
    ben.share_with_partner = ana.share_with_partner = True
    session.add(
        Statement(
            participant_id=ana.id,
            step=1,
            kind="what_happened",
            channel="sms",
            body="We agreed I would present the numbers to investors and I didn't show.",
            created_at=earlier,
        )
    )
    for kind, body in (
        ("what_happened", "Ana skipped the investor meeting we had planned for weeks."),
        ("emotions", "I felt abandoned and embarrassed. Ana probably felt overwhelmed."),
        ("pattern", "Yes, last-minute changes have happened before."),
        ("responsibility", "I stopped sharing my worries, so Ana didn't know how stretched I was."),
    ):
        step = 2 if kind == "responsibility" else 1
        session.add(
            Statement(
                participant_id=ben.id,
                step=step,
                kind=kind,
                body=body,
                channel="sms",
                created_at=earlier,
            )
        )
    add_commitment(
        session,
        ben,
        "Tell each other by Friday about any meeting we can't make",
        sign="A message in the shared channel every Friday",
        shared=True,
        now=now,
    )
    session.add_all([ana, ben])
    return [*login, f"Program {program.name!r} with {ana.name} (step 1) and {ben.name} (step 4)."]
