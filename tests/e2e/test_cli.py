"""The `realign` command an operator runs: on the test database and Redis, via click.

The CLI builds its own app with `create_app()` from the environment (DATABASE_URL,
REDIS_URL, REALIGN_INSTANCE_DIR), exactly as on a server; one test runs the installed
console script in a subprocess.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlmodel import Session, func, select

from jobs import tasks
from service import cli
from service.models import Facilitator, Message, Participant, Program, WebhookEndpoint
from service.program import commitments
from service.unit_of_work import UnitOfWork
from tests.support.factories import ANA, BEN, enter_step5, make_participant, make_program, sms_form
from tests.support.queues import queued_count

ENV_NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PORT",
    "PUBLIC_BASE_URL",
    "REALIGN_ENV",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE_URL",
    "TWILIO_TIMEOUT",
    "LOG_LEVEL",
    "FLASK_APP",
)
_sids = itertools.count(1)


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url, redis_url, db, redis_conn) -> dict:
    """The environment an operator's shell would have; no stray .env is picked up."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REALIGN_INSTANCE_DIR": str(tmp_path / "cli-instance"),
        "SECRET_KEY": "cli-test-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def realign(cli_env):
    """Run `realign ARGS…`; returns click's Result. Each run builds its app from the env."""
    built = []

    def make_app():
        app = cli._app()  # the CLI's own factory: create_app() from the environment
        built.append(app)
        return app

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(
            cli.main, list(args), input=input, obj=ScriptInfo(create_app=make_app)
        )

    yield run
    for app in built:  # close each run's pool (PostgreSQL connections are finite)
        services = app.extensions["realign"]
        services.engine.dispose()
        services.redis.close()


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result.stdout


def error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stderr.startswith("Error: "), result.stderr
    return result.stderr.strip()


def facilitator_and_program(realign) -> int:
    """Dana and her program, made through the CLI; returns the program's id."""
    ok(
        realign(
            "create-facilitator",
            "--email",
            "dana@example.org",
            "--name",
            "Dana Coach",
            "--password",
            "a-long-password-1",
        )
    )
    out = ok(
        realign(
            "create-program",
            "--name",
            "Founders Reset",
            "--owner",
            "dana@example.org",
            "--timezone",
            "America/New_York",
            "--sender",
            "+12015550100",
        )
    )
    match = re.fullmatch(r"created program 'Founders Reset' \(id (\d+)\)\n", out)
    assert match, out
    return int(match[1])


# create-facilitator ---------------------------------------------------------------------


def test_create_facilitator(realign, db):
    out = ok(
        realign(
            "create-facilitator",
            "--email",
            "Dana@Example.org",
            "--name",
            "Dana Coach",
            "--password",
            "a-long-password-1",
            "--role",
            "admin",
            "--contact",
            "dana@example.org",
        )
    )
    assert out.startswith("created admin dana@example.org (id ")
    with Session(db) as session:
        [person] = session.exec(select(Facilitator)).all()
    assert (person.email, person.role, person.contact) == (
        "dana@example.org",
        "admin",
        "dana@example.org",
    )
    assert "a-long-password-1" not in person.password_hash


def test_create_facilitator_with_a_language_for_the_admin(realign, db):
    base = ["create-facilitator", "--name", "Dana Coach", "--password", "a-long-password-1"]
    ok(realign(*base, "--email", "dana@example.org", "--language", "es"))
    ok(realign(*base, "--email", "eli@example.org"))
    refused = realign(*base, "--email", "fay@example.org", "--language", "fr")
    assert refused.exit_code == 2 and "'fr' is not one of 'en', 'es'" in refused.stderr
    with Session(db) as session:
        chosen = {f.email: f.language for f in session.exec(select(Facilitator)).all()}
    assert chosen == {"dana@example.org": "es", "eli@example.org": None}


def test_a_facilitator_made_with_a_phone_gets_the_daily_digest(realign, db):
    from datetime import UTC, datetime

    from service import records
    from service.program import digest

    out = ok(
        realign(
            "create-facilitator",
            "--email", "dana@example.org",
            "--name", "Dana Coach",
            "--password", "a-long-password-1",
            "--phone", "(201) 555-0177",
            "--timezone", " Europe/London ",
        )
    )  # fmt: skip
    assert out.startswith("created facilitator dana@example.org")
    with Session(db) as session:
        dana = session.exec(select(Facilitator)).one()
        assert (dana.phone, dana.timezone) == ("+12015550177", "Europe/London")
        program = Program(
            name="Founders Reset",
            owner_id=dana.id,
            timezone="America/New_York",
            sender_number="+12015550100",
            options={"daily_digest": True},
        )
        session.add(program)
        session.flush()
        ana = Participant(program_id=program.id, name="Ana", phone="+12015550111")
        session.add(ana)
        session.flush()
        now = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)  # 14:05 in London, where Dana is
        records.flag(session, ana, "headsup", "at risk", now)
        [text] = digest.queue_digests(session, now)
        assert text.to_number == "+12015550177"
        assert "Founders Reset: 1 person needs your attention" in text.body


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [("--phone", "555-01", "Phone: "), ("--timezone", "Mars/Base", "Time zone: ")],
)
def test_create_facilitator_refuses_a_bad_phone_or_time_zone(realign, db, option, value, says):
    args = ["--email", "lee@example.org", "--name", "Lee", "--password", "a-long-password-1"]
    message = error(realign("create-facilitator", *args, option, value))
    assert says in message
    assert count(db, Facilitator) == 0


def test_create_facilitator_without_a_phone_is_in_utc(realign, db):
    args = ["--email", "lee@example.org", "--name", "Lee", "--password", "a-long-password-1"]
    ok(realign("create-facilitator", *args))
    with Session(db) as session:
        lee = session.exec(select(Facilitator)).one()
    assert (lee.phone, lee.timezone) == (None, "UTC")


def test_create_facilitator_prompts_for_the_password(realign, db):
    result = realign(
        "create-facilitator",
        "--email",
        "lee@example.org",
        "--name",
        "Lee",
        input="a-long-password-1\na-long-password-1\n",
    )
    assert "created facilitator lee@example.org" in ok(result)
    assert "a-long-password-1" not in result.output  # hidden input is not echoed


def test_create_facilitator_duplicate_email_is_a_clear_error(realign, db):
    args = (
        "create-facilitator",
        "--email",
        "dana@example.org",
        "--name",
        "Dana",
        "--password",
        "a-long-password-1",
    )
    ok(realign(*args))
    message = error(realign(*args[:2], "DANA@example.org", *args[3:]))
    assert message == "Error: A facilitator with this email address already exists."
    assert count(db, Facilitator) == 1


@pytest.mark.parametrize(
    ("email", "password", "says"),
    [
        ("dana@example.org", "short", "at least 12 characters"),
        ("dana@example.org", "eleven-char", "at least 12 characters"),
        ("dana@example.org", "password1234", "most common"),
        ("dana@example.org", "QWERTY123456", "most common"),
        ("not-an-email", "a-long-password-1", "valid email address"),
    ],
)
def test_create_facilitator_bad_input(realign, db, email, password, says):
    message = error(
        realign("create-facilitator", "--email", email, "--name", "Dana", "--password", password)
    )
    assert says in message
    assert count(db, Facilitator) == 0


# set-password ---------------------------------------------------------------------------


def test_set_password_resets_with_the_same_rules(realign, db):
    realign("create-facilitator", "--email", "dana@example.org", "--name", "Dana",
            "--password", "a-long-password-1")  # fmt: skip
    with Session(db) as session:
        before = session.exec(select(Facilitator.password_hash)).one()

    for weak, says in (("qwerty123456", "most common"), ("too-short", "at least 12")):
        message = error(realign("set-password", "--email", "dana@example.org", "--password", weak))
        assert says in message
    assert "no facilitator" in error(
        realign("set-password", "--email", "nobody@example.org", "--password", "a-new-long-one-2")
    )
    with Session(db) as session:
        assert session.exec(select(Facilitator.password_hash)).one() == before

    done = realign(
        "set-password", "--email", "DANA@example.org", input="a-new-long-one-2\na-new-long-one-2\n"
    )
    assert done.exit_code == 0 and "password set for dana@example.org" in done.output
    from service.program.accounts import authenticate

    with Session(db) as session:
        assert authenticate(session, "dana@example.org", "a-new-long-one-2") is not None
        assert authenticate(session, "dana@example.org", "a-long-password-1") is None


# create-program -------------------------------------------------------------------------


def test_create_program(realign, db):
    facilitator_and_program(realign)
    with Session(db) as session:
        [program] = session.exec(select(Program)).all()
    assert (program.name, program.timezone, program.sender_number) == (
        "Founders Reset",
        "America/New_York",
        "+12015550100",
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--owner", "nobody@example.org"), "no facilitator with e-mail nobody@example.org"),
        (("--owner", "dana@example.org", "--timezone", "Mars/Olympus"), "unknown time zone"),
        (("--owner", "dana@example.org", "--sender", "12"), "sender number"),
    ],
)
def test_create_program_bad_input(realign, db, args, says):
    ok(
        realign(
            "create-facilitator",
            "--email",
            "dana@example.org",
            "--name",
            "Dana",
            "--password",
            "a-long-password-1",
        )
    )
    assert says in error(realign("create-program", "--name", "Reset", *args))
    assert count(db, Program) == 0


def test_create_program_refuses_another_facilitators_number(realign, db):
    facilitator_and_program(realign)  # Dana's, on +12015550100
    ok(
        realign(
            "create-facilitator",
            "--email",
            "eli@example.org",
            "--name",
            "Eli Coach",
            "--password",
            "a-long-password-2",
        )
    )
    args = ("--name", "Capture", "--owner", "eli@example.org", "--sender", "+12015550100")
    assert "used by another facilitator's programs" in error(realign("create-program", *args))
    assert count(db, Program) == 1
    # Dana may use it again.
    args = ("--name", "Second", "--owner", "dana@example.org", "--sender", "+12015550100")
    ok(realign("create-program", *args))
    assert count(db, Program) == 2


# enroll ---------------------------------------------------------------------------------


def test_enroll_queues_the_invitation(realign, db, redis_conn):
    facilitator_and_program(realign)
    out = ok(
        realign(
            "enroll",
            "--program",
            "Founders Reset",
            "--name",
            "Ana Reyes",
            "--phone",
            "(201) 555-0123",
            "--language",
            "es",
        )
    )
    assert out.startswith("enrolled Ana Reyes (id ") and "invitation queued" in out

    with Session(db) as session:
        [person] = session.exec(select(Participant)).all()
        [invite] = session.exec(select(Message)).all()
    assert (person.phone, person.timezone, person.language, person.status) == (
        ANA,
        "America/New_York",  # the program's zone by default
        "es",
        "invited",
    )
    assert (invite.template, invite.status, invite.to_number) == ("invite", "pending", ANA)
    assert "Founders Reset" in invite.body
    # Handed to the queue now, or scheduled for the participant's waking hours.
    assert queued_count(redis_conn, scheduled=True) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--phone", "12345"), "'12345' is not a valid phone number"),
        (("--phone", "call me"), "is not a phone number"),
        (("--phone", ANA, "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("--phone", ANA, "--timezone", "America"), "unknown time zone 'America'"),
    ],
)
def test_enroll_bad_phone_or_zone_is_a_clear_error(realign, db, redis_conn, args, says):
    facilitator_and_program(realign)
    message = error(realign("enroll", "--program", "Founders Reset", "--name", "Ana", *args))
    assert says in message
    assert "Traceback" not in message
    assert count(db, Participant) == 0 and count(db, Message) == 0
    assert queued_count(redis_conn, scheduled=True) == 0


def test_enroll_duplicate_and_unknown_program(realign, db):
    program_id = facilitator_and_program(realign)
    ok(realign("enroll", "--program", str(program_id), "--name", "Ana Reyes", "--phone", ANA))
    message = error(
        realign(
            "enroll", "--program", "Founders Reset", "--name", "Ana R", "--phone", "+1 201 555 0123"
        )
    )
    assert message == "Error: Ana Reyes already uses that number in this program"
    assert error(realign("enroll", "--program", "Nope", "--name", "X", "--phone", ANA)) == (
        "Error: no program 'Nope'"
    )
    assert count(db, Participant) == 1


def test_installed_console_script(cli_env, db):
    """The `realign` entry point itself, as an operator's shell runs it."""
    script = Path(sys.executable).with_name("realign")
    env = {**os.environ, **cli_env}
    done = subprocess.run(
        [script, "enroll", "--program", "Nope", "--name", "Ana", "--phone", "12345"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Error: no program 'Nope'"


def test_migrate_is_a_no_op_on_an_up_to_date_database(realign, db):
    assert ok(realign("migrate")) == "database is up to date\n"
    assert ok(realign("migrate")) == "database is up to date\n"


# export ---------------------------------------------------------------------------------


def test_export_is_the_participants_full_record(realign, services, twilio_post, run_jobs, clock):
    program = make_program(services, cadence="daily@19:00")
    ana = make_participant(services, program)
    make_participant(services, program, name="Ben Okafor", phone=BEN)
    run_jobs()
    for body in ("Yes", "I missed the investor meeting."):
        form = sms_form(body, sid=f"SM{next(_sids):032x}")
        assert twilio_post("/twilio/sms", form).status_code == 200
        run_jobs()
    with UnitOfWork(services) as uow:
        session = uow.session
        person = session.get(Participant, ana.id)
        person.step = 4
        commitments.add_commitment(
            session, person, "Send the numbers by Friday", sign="In the channel", now=clock()
        )
        commitments.agree(session, person, now=clock())
        enter_step5(uow, person)
        uow.commit()
        due = person.next_checkin_at
    clock.set(due)
    tasks.tick()
    run_jobs()

    out = ok(realign("export", str(ana.id)))
    data = json.loads(out)
    assert set(data) >= {"participant", "statements", "commitments", "checkins", "messages"}
    assert data["participant"]["phone"] == ANA and data["participant"]["step"] == 5
    assert data["participant"]["status"] == "active"
    assert all(m["status"] for m in data["messages"])  # each text's fate, as stored
    assert {m["status"] for m in data["messages"] if m["direction"] == "out"} == {"console"}
    assert [(s["kind"], s["body"]) for s in data["statements"]] == [
        ("what_happened", "I missed the investor meeting.")
    ]
    [commitment] = data["commitments"]
    assert commitment["text"] == "Send the numbers by Friday" and commitment["status"] == "active"
    [checkin] = data["checkins"]
    assert checkin["due_at"].startswith(due.isoformat()[:16]) and "answers" in checkin
    bodies = [(m["direction"], m["template"] or m["body"]) for m in data["messages"]]
    assert ("in", "Yes") in bodies and ("in", "I missed the investor meeting.") in bodies
    templates = {m["template"] for m in data["messages"] if m["direction"] == "out"}
    assert {"invite", "consent_thanks", "step1_what_happened", "checkin"} <= templates
    assert data["program"]["name"] == "Founders Reset"
    # Nobody else's texts are in it.
    assert {m["participant_id"] for m in data["messages"]} == {ana.id}
    assert BEN not in out


def test_export_to_a_file(realign, services, tmp_path):
    program = make_program(services)
    ana = make_participant(services, program)
    target = tmp_path / "ana.json"
    assert ok(realign("export", str(ana.id), "-o", str(target))) == ""
    assert json.loads(target.read_text())["participant"]["name"] == "Ana Reyes"


def test_export_unknown_participant(realign, db):
    assert error(realign("export", "999999")) == "Error: no participant with id 999999"
    result = realign("export", "not-a-number")
    assert result.exit_code == 2 and "not a valid integer" in result.output


# seed-demo ------------------------------------------------------------------------------


def test_seed_demo_twice_is_idempotent_and_prints_the_login(realign, db):
    first = ok(realign("seed-demo"))
    assert "e-mail:   coach@example.org" in first and "password: realign-demo-2026" in first
    assert "Ana Reyes (step 1)" in first and "Ben Okafor (step 4)" in first
    counts = {m.__name__: count(db, m) for m in (Facilitator, Program, Participant)}
    assert counts == {"Facilitator": 1, "Program": 1, "Participant": 2}

    second = ok(realign("seed-demo"))
    assert "e-mail:   coach@example.org" in second and "password: realign-demo-2026" in second
    assert {m.__name__: count(db, m) for m in (Facilitator, Program, Participant)} == counts

    with Session(db) as session:
        ana, ben = session.exec(select(Participant).order_by(Participant.id)).all()
    assert (ana.partner_id, ben.partner_id) == (ben.id, ana.id)
    assert (ana.step, ben.step) == (1, 4)


# webhook add ----------------------------------------------------------------------------


def test_webhook_add_in_production_refuses_a_receiver_on_a_private_network(
    realign, db, monkeypatch
):
    facilitator_and_program(realign)
    monkeypatch.setenv("REALIGN_ENV", "production")
    monkeypatch.setenv("TWILIO_CONSOLE", "1")
    add = ("webhook", "add", "--email", "dana@example.org", "--event", "participant.enrolled")
    assert error(realign(*add, "--url", "https://10.0.0.5/hook")) == (
        "Error: The receiver's address 10.0.0.5 is not on the public internet."
    )
    assert error(realign(*add, "--url", "https://169.254.169.254/latest")).endswith(
        "is not on the public internet."
    )
    # A name is resolved as registered: this machine's own name points at a loopback address.
    assert re.fullmatch(
        r"Error: The receiver's host localhost points at (127\.0\.0\.1|::1), not on the "
        r"public internet\.",
        error(realign(*add, "--url", "https://localhost/hook")),
    )
    assert "https://" in error(realign(*add, "--url", "http://127.0.0.1:9/hook"))
    assert count(db, WebhookEndpoint) == 0
