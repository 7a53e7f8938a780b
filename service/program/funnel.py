"""Where each program's people are: how many are invited, at each of the five steps, and
closed. Counted by the database (one grouped statement), test personas left out."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from service.core.enums import ParticipantStatus, Step
from service.models import Participant
from service.program.personas import real_people


@dataclass
class Funnel:
    invited: int = 0
    steps: dict[int, int] = field(default_factory=lambda: {int(s): 0 for s in Step})
    closed: int = 0
    active: int = 0  # of those at a step, the ones active now (not paused, opted out, …)

    @property
    def people(self) -> int:
        return self.invited + sum(self.steps.values()) + self.closed

    @property
    def widest(self) -> int:
        return max([self.invited, *self.steps.values(), 1])


def funnels(session, program_ids: list[int]) -> dict[int, Funnel]:
    """{program id: its Funnel}. People who agreed are counted at their step, whatever
    their status (paused, opted out, unreachable); invited people before step 1."""
    found = {pid: Funnel() for pid in program_ids}
    if not program_ids:
        return found
    rows = session.execute(
        sa.select(Participant.program_id, Participant.status, Participant.step, sa.func.count())
        .where(Participant.program_id.in_(program_ids), real_people())
        .group_by(Participant.program_id, Participant.status, Participant.step)
    )
    for program_id, status, step, count in rows:
        funnel = found[program_id]
        if status == ParticipantStatus.INVITED:
            funnel.invited += count
        elif status == ParticipantStatus.CLOSED:
            funnel.closed += count
        else:
            funnel.steps[int(step)] = funnel.steps.get(int(step), 0) + count
            if status == ParticipantStatus.ACTIVE:
                funnel.active += count
    return found


def counts(found: dict[int, Funnel]) -> dict[int, tuple[int, int]]:
    """{program id: (people, active people)}, as `scores.with_counts` takes them."""
    return {pid: (funnel.people, funnel.active) for pid, funnel in found.items()}
