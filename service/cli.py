"""The `realign` command: operator tasks on the configured database."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import FlaskGroup
from sqlmodel import select

from service.core.enums import Language, Role
from service.infra import migrate
from service.models import Facilitator, Participant, Program
from service.program.enrollment import EnrollmentError, enroll
from service.program.exports import export_participant
from service.services import current
from service.unit_of_work import UnitOfWork


def _app():
    from service.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=True, add_version_option=False)
def main() -> None:
    """Realign: SMS and voice programs for repairing trust."""


def _services():
    return current()


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@main.command("migrate")
@click.option("--revision", default="head", show_default=True)
def migrate_cmd(revision: str) -> None:
    """Bring the database schema up to date."""
    migrate.upgrade(_services().settings.effective_database_url, revision)
    click.echo("database is up to date")


@main.command("create-facilitator")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(Role.values()), default="facilitator")
@click.option("--contact", default="", help="How participants can reach you (shown in HELP).")
@click.option("--phone", default="", help="The number the daily digest texts (E.164 or US).")
@click.option("--timezone", default="UTC", show_default=True, help="e.g. America/New_York.")
@click.option(
    "--language",
    type=click.Choice(Language.values()),
    default=None,
    help="The admin's language for them; by default, whatever their browser asks for.",
)
def create_facilitator_cmd(email, name, password, role, contact, phone, timezone, language) -> None:
    """Create a facilitator account (use --role admin for the first one)."""
    from service.program.accounts import create_facilitator

    services = _services()
    with services.sessions() as session:
        try:
            person = create_facilitator(
                session,
                email,
                name,
                password,
                role=role,
                contact=contact,
                phone=phone,
                timezone=timezone,
                language=language,
            )
        except ValueError as exc:
            _fail(str(exc))
        session.commit()
        click.echo(f"created {person.role} {person.email} (id {person.id})")


@main.command("set-password")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_cmd(email, password) -> None:
    """Give a facilitator a new password (their open sessions end with the old one)."""
    from service.program.accounts import find_by_email, set_password
    from service.records import audit

    services = _services()
    with services.sessions() as session:
        person = find_by_email(session, email)
        if person is None:
            _fail(f"no facilitator with the email {email}")
        try:
            set_password(person, password)
        except ValueError as exc:
            _fail(str(exc))
        audit(session, "operator", "password_reset", person, now=services.now())
        session.commit()
        click.echo(f"password set for {person.email}")


@main.command("create-program")
@click.option("--name", required=True)
@click.option("--owner", "owner_email", required=True, help="Facilitator e-mail.")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--sender", default=None, help="The program's Twilio number (E.164).")
@click.option(
    "--country", default=None,
    help="Two-letter code national numbers are read in (default: the time zone's, else US).",
)  # fmt: skip
def create_program_cmd(name, owner_email, timezone, sender, country) -> None:
    """Create a program owned by a facilitator."""
    from service.program.matching import defaults_of
    from service.program.programs import ProgramError, create_program

    services = _services()
    with services.sessions() as session:
        owner = session.exec(select(Facilitator).where(Facilitator.email == owner_email)).first()
        if owner is None:
            _fail(f"no facilitator with e-mail {owner_email}")
        try:
            program = create_program(
                session,
                owner,
                name=name,
                timezone=timezone,
                sender_number=sender,
                country=country,
                now=services.now(),
                defaults=defaults_of(services.settings),
            )
        except ProgramError as exc:
            _fail(str(exc))
        session.commit()
        click.echo(f"created program {program.name!r} (id {program.id})")


@main.command("enroll")
@click.option("--program", "program_ref", required=True, help="Program id or exact name.")
@click.option("--name", required=True)
@click.option("--phone", required=True)
@click.option("--timezone", default=None, help="IANA zone; defaults to the program's.")
@click.option("--language", default=None, type=click.Choice(Language.values()))
def enroll_cmd(program_ref, name, phone, timezone, language) -> None:
    """Enrol a participant and queue their invitation."""
    with UnitOfWork(_services()) as uow:
        program = _find_program(uow.session, program_ref)
        try:
            participant = enroll(
                uow,
                program,
                name=name,
                phone=phone,
                timezone=timezone,
                language=language,
                actor="cli",
            )
        except EnrollmentError as exc:
            _fail(str(exc))
        uow.commit()
        click.echo(f"enrolled {participant.name} (id {participant.id}); invitation queued")


@main.command("export")
@click.argument("participant_id", type=int)
@click.option("--output", "-o", type=click.File("w"), default="-")
def export_cmd(participant_id, output) -> None:
    """Write one participant's full record as JSON."""
    services = _services()
    with services.sessions() as session:
        participant = session.get(Participant, participant_id)
        if participant is None:
            _fail(f"no participant with id {participant_id}")
        json.dump(export_participant(session, participant), output, indent=2, ensure_ascii=False)
        output.write("\n")


@main.group("api-token")
def api_token_group() -> None:
    """A facilitator's tokens for the read API (/api/v1/)."""


@api_token_group.command("create")
@click.option("--email", required=True, help="The facilitator the token reads as.")
@click.option("--name", required=True, help="What the token is for, e.g. the CRM's name.")
@click.option("--phones", is_flag=True, help="Let the token read full phone numbers.")
def api_token_create_cmd(email, name, phones) -> None:
    """Create a token; it is printed once, alone on the last line, and kept only hashed."""
    from service.core.enums import ApiScope
    from service.program import tokens
    from service.program.accounts import find_by_email

    services = _services()
    with services.sessions() as session:
        person = find_by_email(session, email)
        if person is None or not person.is_active:
            _fail(f"no active facilitator with the email {email}")
        try:
            row, token = tokens.create(
                session,
                person,
                name,
                scopes=[ApiScope.PHONES] if phones else [],
                now=services.now(),
                actor="operator",
            )
        except ValueError as exc:
            _fail(str(exc))
        session.commit()
        click.echo(f"created API token {row.name!r} (id {row.id}) for {person.email}")
        click.echo("It is shown only this once; keep it somewhere safe:")
        click.echo(token)


@api_token_group.command("list")
@click.option("--email", required=True)
def api_token_list_cmd(email) -> None:
    """A facilitator's tokens (never the tokens themselves)."""
    from service.program import tokens
    from service.program.accounts import find_by_email

    services = _services()
    with services.sessions() as session:
        person = find_by_email(session, email)
        if person is None:
            _fail(f"no facilitator with the email {email}")
        for row in tokens.owned(session, person):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            scopes = ",".join(row.scopes) or "-"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.name}\t{scopes}\t{state}")


@api_token_group.command("revoke")
@click.option("--email", required=True)
@click.argument("token_id", type=int)
def api_token_revoke_cmd(email, token_id) -> None:
    """Revoke one of a facilitator's tokens: it is refused from the next request on."""
    from service.program import tokens
    from service.program.accounts import find_by_email

    services = _services()
    with services.sessions() as session:
        person = find_by_email(session, email)
        if person is None:
            _fail(f"no facilitator with the email {email}")
        try:
            row = tokens.revoke(session, person, token_id, now=services.now(), actor="operator")
        except tokens.TokenNotFound:
            _fail(f"{email} has no token {token_id}")
        session.commit()
        click.echo(f"revoked API token {row.name!r} (id {row.id})")


@main.group("webhook")
def webhook_group() -> None:
    """Event webhooks: signed POSTs to another system when things happen."""


@webhook_group.command("add")
@click.option("--email", required=True, help="The facilitator whose programs it covers.")
@click.option("--url", required=True, help="The receiver's https:// address.")
@click.option("--event", "events", multiple=True, required=True, help="An event; repeatable.")
def webhook_add_cmd(email, url, events) -> None:
    """Register an endpoint; its signing secret is printed once, alone on the last line."""
    from service.program import webhooks
    from service.program.accounts import find_by_email

    services = _services()
    with services.sessions() as session:
        person = find_by_email(session, email)
        if person is None or not person.is_active:
            _fail(f"no active facilitator with the email {email}")
        try:
            production = services.settings.env == "production"
            endpoint = webhooks.register(
                session, person, url, events, now=services.now(),
                allow_local=not production, production=production, resolve=services.resolve,
            )  # fmt: skip
        except webhooks.WebhookError as exc:
            _fail(str(exc))
        session.commit()
        click.echo(f"registered webhook {endpoint.id} for {', '.join(endpoint.events)}")
        click.echo("Its signing secret, shown only this once:")
        click.echo(endpoint.secret)


@main.command("seed-demo")
def seed_demo_cmd() -> None:
    """Load demo data (once): a facilitator, a program and two partnered participants."""
    from service.program.demo import seed_demo

    with UnitOfWork(_services()) as uow:
        info = seed_demo(uow)
        uow.commit()
    for line in info:
        click.echo(line)


@main.command("texts")
@click.option("--program", "program_id", type=int, default=None, help="Program id (default: 1st).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option(
    "--commitment", "labels", multiple=True,
    help="A commitment label for the check-in texts (repeatable); default: the program's longest.",
)  # fmt: skip
def texts_cmd(program_id, as_json, labels) -> None:
    """Print every participant-facing text of a program in each language, with its characters,
    encoding and SMS segments. Exits 1 if a default text is over one segment (a program's own
    wording is reported, not failed)."""
    from service.program.texts_report import program_report

    services = _services()
    with services.sessions() as session:
        if program_id is None:
            program = session.exec(select(Program).order_by(Program.id)).first()
        else:
            program = session.get(Program, program_id)
            if program is None:
                _fail(f"no program with id {program_id}")
        rows = program_report(session, program, list(labels) or None)
    if as_json:
        keys = ("key", "language", "text", "characters", "encoding", "segments", "override")
        listed = [{k: getattr(r, k) for k in keys} for r in rows]
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Texts of {program.name!r} (id {program.id})" if program else "Standard texts")
        for r in rows:
            mark = "  OVER ONE SEGMENT" if r.segments > 1 else ""
            own = ", program's own wording" if r.override else ""
            click.echo(
                f"\n{r.key} ({r.language}): {r.characters} characters, {r.encoding}, "
                f"{r.segments} segment{'s' if r.segments != 1 else ''}{own}{mark}"
            )
            click.echo("\n".join(f"  {line}" for line in r.text.splitlines()))
    failing = [r for r in rows if r.fails]
    summary = (
        f"{len(failing)} standard text(s) over one segment: "
        + ", ".join(f"{r.key} ({r.language})" for r in failing)
        if failing
        else f"All {sum(not r.override for r in rows)} standard texts fit one segment."
    )
    click.echo(summary, err=True)
    sys.exit(1 if failing else 0)


def _find_program(session, ref: str) -> Program:
    program = session.get(Program, int(ref)) if ref.isdigit() else None
    program = program or session.exec(select(Program).where(Program.name == ref)).first()
    if program is None:
        _fail(f"no program {ref!r}")
    return program
