"""The admin stays quick as a practice grows: pages cost a constant few statements, the
dashboard adds up in the database (never a list of ids), a long thread comes in pages.

Flask's test client against a real database and Redis (bench/admin.py times the same
pages at 100,000 participants).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.models import (
    CheckIn,
    CheckInAnswer,
    Commitment,
    Message,
    Participant,
    Program,
)
from service.program import accounts, scores
from tests.support.admin import PASSWORD
from tests.support.sql import statements

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RESULTS = ("kept", "partly", "missed")


@pytest.fixture
def client(admin_app):
    return admin_app.test_client()


def login(client, email):
    token = TOKEN.search(client.get("/admin/login").text).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data).status_code == 302


def services_of(app):
    return app.extensions["realign"]


def people(app, program_ids: list[int], each: int, days: int = 10) -> list[int]:
    """`each` participants in every program, each with a commitment and `days` daily
    check-ins (answered kept / partly / not kept, or missed): scored, so they have ratios."""
    svc = services_of(app)
    now = svc.now()
    made = []
    with svc.sessions() as s:
        k = s.scalar(sa.select(sa.func.count()).select_from(Participant)) or 0
        for program_id in program_ids:
            for _ in range(each):
                k += 1
                p = Participant(
                    program_id=program_id,
                    name=f"Person {k:03d}",
                    phone=f"+1201555{k:04d}",
                    status="active",
                    step=5,
                    streak=k % 5,
                    last_inbound_at=now - timedelta(hours=k),
                )
                s.add(p)
                s.flush()
                c = Commitment(participant_id=p.id, text="Call on Sundays", status="active")
                s.add(c)
                s.flush()
                for day in range(days):
                    due = now - timedelta(days=day, hours=1)
                    missed = (k + day) % 4 == 3
                    ci = CheckIn(
                        participant_id=p.id,
                        due_at=due,
                        status="missed" if missed else "answered",
                        sent_at=due,
                        answered_at=None if missed else due,
                        commitment_ids=[c.id],
                    )
                    s.add(ci)
                    s.flush()
                    if not missed:
                        result = RESULTS[(k + day) % 3]
                        s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=c.id, result=result))
                made.append(p.id)
        s.commit()
    return made


def programs_for(app, owner_id: int, count: int, *, own_owners: bool = False) -> list[int]:
    """`count` programs of `owner_id` (or, `own_owners`, each owned by a new colleague who
    shares it with `owner_id`: a different owner name on every row)."""
    from service.models import ProgramFacilitator

    svc = services_of(app)
    with svc.sessions() as s:
        start = s.scalar(sa.select(sa.func.count()).select_from(Program)) or 0
        ids = []
        for i in range(count):
            owner = owner_id
            if own_owners:
                colleague = accounts.create_facilitator(
                    s, f"colleague{start + i}@example.org", f"Colleague {start + i}", PASSWORD
                )
                owner = colleague.id
            program = Program(name=f"Program {start + i:02d}", owner_id=owner)
            s.add(program)
            s.flush()
            if own_owners:
                s.add(ProgramFacilitator(program_id=program.id, facilitator_id=owner_id))
            ids.append(program.id)
        s.commit()
    return ids


def listed(client, engine, path: str) -> tuple[str, list[tuple[str, int]]]:
    with statements(engine, with_params=True) as seen:
        page = client.get(path)
    assert page.status_code == 200, page.status_code
    return page.text, seen


# The participants list and the programs list -----------------------------------------------


def test_the_participants_list_costs_the_same_few_statements_for_5_rows_or_50(
    admin_app, client, world
):
    engine = services_of(admin_app).engine
    login(client, "ana@example.org")
    programs = [world.ana_program, *programs_for(admin_app, world.ana, 4)]
    people(admin_app, programs[:1], 4)
    small_page, few = listed(client, engine, "/admin/participants/")
    assert len(set(re.findall(r"Person \d{3}", small_page))) == 4
    people(admin_app, programs, 10)  # 50 more in five programs, each with kept ratios
    page, many = listed(client, engine, "/admin/participants/")
    # A page holds 50: Ari and Cy (the world's), then 48 of the 54 by name.
    assert len(set(re.findall(r"Person \d{3}", page))) == 48
    assert "Program 03" in page  # program names still shown
    assert re.search(r"\d+%", page)  # and the kept ratios
    assert len(many) == len(few), [q for q, _ in many]
    assert len(many) <= 12, [q for q, _ in many]


def test_the_participants_list_shows_each_persons_kept_ratio_beside_the_strip(
    admin_app, client, world
):
    """The page's grouped check-in statement gives what the one score gives for each
    person over the strip's 14 days."""
    ids = people(admin_app, [world.ana_program], 3, days=20)
    svc = services_of(admin_app)
    login(client, "ana@example.org")
    page = client.get("/admin/participants/").text
    with svc.sessions() as s:
        for pid in ids:
            p = s.get(Participant, pid)
            expected = scores.kept_ratio(s, p, svc.now(), 14)
            row = page[page.index(p.name) :].split("</tr>", 1)[0]
            assert f"{scores.percent(expected)} kept" in row, (p.name, row)
            assert row.count('class="dot dot-') == 14


def test_the_programs_list_reads_owner_names_once_for_the_page(admin_app, client, world):
    engine = services_of(admin_app).engine
    login(client, "ana@example.org")
    programs_for(admin_app, world.ana, 1, own_owners=True)
    page, few = listed(client, engine, "/admin/programs/")
    programs_for(admin_app, world.ana, 12, own_owners=True)
    page, many = listed(client, engine, "/admin/programs/")
    assert "Colleague 12" in page and "Ben Coach" in page  # each row's owner, by name
    assert len(many) == len(few), [q for q, _ in many]


def test_sorting_by_a_column_with_equal_values_pages_through_everyone_once(
    admin_app, client, world
):
    """Sorted by status (all "active"), page after page shows each person exactly once."""
    people(admin_app, [world.ana_program], 45, days=0)
    login(client, "ana@example.org")
    names = []
    for page in range(3):  # 47 people (with the world's Ari and Cy), 20 a page
        text = client.get(f"/admin/participants/?sort=3&page={page}&page_size=20").text
        names += sorted(set(re.findall(r"Person \d{3}", text)))
    assert len(names) == len(set(names)) == 45


# The dashboard -------------------------------------------------------------------------------


def test_the_dashboard_adds_up_in_the_database_without_lists_of_ids(admin_app, client, world):
    """A facilitator with hundreds of check-ins: no statement carries more bound values
    than a handful per program (on today's main, one IN list held every check-in id, which
    PostgreSQL refuses past 65,535)."""
    engine = services_of(admin_app).engine
    programs = [world.ana_program, *programs_for(admin_app, world.ana, 2)]
    people(admin_app, programs, 8, days=14)  # 336 check-ins
    login(client, "ana@example.org")
    page, seen = listed(client, engine, "/admin/")
    assert max(n for _, n in seen) <= 60, sorted(seen, key=lambda q: -q[1])[:3]
    assert not any("FROM checkin" in q and "checkin.id IN" in q for q, _ in seen)
    block = page[page.index(f'id="program-{world.ana_program}"') :]
    assert "%" in block[: block.index("</table>", block.index("trend-table"))]


def test_the_dashboard_figures_match_the_one_score(admin_app, world):
    """The database's sums give what the score gives check-in by check-in."""
    from service.core import checkin_rules

    svc = services_of(admin_app)
    people(admin_app, [world.ana_program], 6, days=20)
    now = svc.now()
    with svc.sessions() as s:
        weeks = scores.weekly_figures(s, [world.ana_program], now, 12)[world.ana_program]
        rows = s.execute(
            sa.select(CheckIn)
            .join(Participant, Participant.id == CheckIn.participant_id)
            .where(Participant.program_id == world.ana_program)
        ).scalars()
        expected: dict = {}
        for ci in rows:
            start = scores.week_start(ci.due_at)
            answers = s.scalars(
                sa.select(CheckInAnswer.result).where(CheckInAnswer.checkin_id == ci.id)
            ).all()
            scored = checkin_rules.Scored(ci.status, len(ci.commitment_ids), tuple(answers))
            gained, counted = checkin_rules.points([scored])
            sent, answered, points, total = expected.get(start, (0, 0, 0.0, 0))
            expected[start] = (
                sent + 1,
                answered + (ci.status == "answered"),
                points + gained,
                total + counted,
            )
    found = {w.start: (w.sent, w.answered, w.points, w.total) for w in weeks if w.sent}
    assert found == expected  # halves and wholes: exact in floating point
    assert len(found) >= 3


def test_the_cron_job_keeps_the_weekly_figures_the_dashboard_shows(admin_app, client, world):
    from service.program import trends

    svc = services_of(admin_app)
    people(admin_app, [world.ana_program], 3, days=7)
    assert trends.refresh(svc) == 3  # the three open programs of the world
    kept = svc.redis.get(trends.key(world.ana_program, svc.now(), trends.WEEKS))
    assert kept is not None
    login(client, "ana@example.org")
    with statements(svc.engine, with_params=True) as seen:
        page = client.get("/admin/").text
    # Read from Redis: no check-in is added up for the page.
    assert not any("FROM checkin" in q for q, _ in seen), [q for q, _ in seen]
    block = page[page.index(f'id="program-{world.ana_program}"') :]
    assert "%" in block[: block.index("</table>", block.index("trend-table"))]


# A long thread ---------------------------------------------------------------------------------


def test_a_long_thread_comes_newest_first_a_page_at_a_time(admin_app, client, world):
    svc = services_of(admin_app)
    now = svc.now()
    with svc.sessions() as s:
        for k in range(120):
            s.add(
                Message(
                    direction="in" if k % 2 else "out",
                    participant_id=world.ana_participant,
                    program_id=world.ana_program,
                    body=f"text number {k:03d}",
                    status="received" if k % 2 else "delivered",
                    created_at=now - timedelta(minutes=120 - k),
                )
            )
        s.commit()
    login(client, "ana@example.org")
    url = f"/admin/participants/details/?id={world.ana_participant}"
    shown = []
    pages = 0
    while url and pages < 5:
        page = client.get(url).text
        pages += 1
        texts = re.findall(r"text number (\d{3})", page)
        assert len(texts) <= 50
        shown += texts
        older = re.search(r'href="([^"]+)"[^>]*>Older texts<', page)
        url = older.group(1).replace("&amp;", "&") if older else None
        if pages > 1:
            assert "Back to the newest texts" in page
    assert pages == 3
    assert shown == [f"{k:03d}" for k in range(119, -1, -1)]  # newest first, each once


def test_another_facilitators_thread_stays_out_of_reach(admin_app, client, world):
    login(client, "ana@example.org")
    answer = client.get(f"/admin/participants/details/?id={world.ben_participant}&before=1")
    assert answer.status_code == 404


# A participant's export ------------------------------------------------------------------------


def test_the_export_reads_every_answer_at_once(admin_app, client, world):
    """A participant's export costs the same statements for 3 check-ins or 30."""
    import io
    import json
    import zipfile

    svc = services_of(admin_app)
    short, long = people(admin_app, [world.ana_program], 2, days=0)
    people_days = {short: 3, long: 30}
    now = svc.now()
    with svc.sessions() as s:
        for pid, days in people_days.items():
            commitment = s.scalar(sa.select(Commitment.id).where(Commitment.participant_id == pid))
            for day in range(days):
                ci = CheckIn(
                    participant_id=pid,
                    due_at=now - timedelta(days=day),
                    status="answered",
                    sent_at=now - timedelta(days=day),
                    commitment_ids=[commitment],
                )
                s.add(ci)
                s.flush()
                result = RESULTS[day % 3]
                s.add(CheckInAnswer(checkin_id=ci.id, commitment_id=commitment, result=result))
        s.commit()
    login(client, "ana@example.org")
    token = TOKEN.search(client.get("/admin/participants/").text).group(1)
    counts = {}
    for pid in (short, long):
        with statements(svc.engine, with_params=True) as seen:
            answer = client.post(
                "/admin/participants/export/", data={"csrf_token": token, "id": pid}
            )
        assert answer.status_code == 200
        counts[pid] = len(seen)
        data = json.loads(zipfile.ZipFile(io.BytesIO(answer.data)).read("participant.json"))
        assert len(data["checkins"]) == people_days[pid]
        # Each check-in with its own answer, oldest first.
        results = [c["answers"][0]["result"] for c in data["checkins"]]
        assert results == [RESULTS[day % 3] for day in range(people_days[pid] - 1, -1, -1)]
    assert counts[long] == counts[short], counts


def test_the_dashboard_adds_up_its_figures_itself_while_redis_is_away(
    admin_app, client, world, monkeypatch
):
    import redis

    svc = services_of(admin_app)
    people(admin_app, [world.ana_program], 2, days=7)
    login(client, "ana@example.org")

    def away(*args, **kwargs):
        raise redis.ConnectionError("Redis is away")

    monkeypatch.setattr(svc.redis, "mget", away)
    page = client.get("/admin/")
    assert page.status_code == 200
    block = page.text[page.text.index(f'id="program-{world.ana_program}"') :]
    assert "%" in block[: block.index("</table>", block.index("trend-table"))]
