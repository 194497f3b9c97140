"""The `itsm` command: database, demo, tokens, passwords, server."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from datetime import datetime, timedelta
from typing import IO, Any

import click

from itsm import migrate
from itsm.config import Settings
from itsm.db import Database
from itsm.errors import ItsmError
from itsm.runtime import Runtime


def _settings() -> Settings:
    return Settings.from_env()


def _database(settings: Settings) -> Database:
    return Runtime(settings, "command").database


@click.group()
def main() -> None:
    """itsm: tickets and SLA workflows for healthcare-IT maintenance contracts."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the database (ITSM_DATABASE_URL) to the current schema."""
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the data and print how to sign in, then stop.")
def demo(port: int, no_serve: bool) -> None:
    """Create the database if needed, load the demo data once, and serve on 127.0.0.1."""
    from itsm.accounts.services import users
    from itsm.demo import loader

    settings = _settings()
    migrate.upgrade(settings.database_url)
    database = _database(settings)
    with database.transaction() as session:
        loaded = loader.load(session)
    click.echo("demo data loaded" if loaded else "demo data already present, nothing loaded")
    with database.transaction() as session:
        tokens = {u: users.create_token(session, u, "demo") for u in ("admin", "agent1")}
    database.dispose()
    click.echo(f"database: {_safe_url(settings.database_url)}")
    click.echo(
        f"users: {', '.join(u.username for u in loader.DEMO_USERS)}; "
        f"password for all: {loader.DEMO_PASSWORD}"
    )
    for username, token in tokens.items():
        click.echo(f"API token for {username}: {token}")
    click.echo(
        f"try: curl -H 'Authorization: Bearer {tokens['agent1']}' "
        f"'http://127.0.0.1:{port}/api/v1/institutions?q=bjsxc'"
    )
    if no_serve:
        return
    from itsm.app import create_app
    from itsm.jobs import inline_enqueuer

    # One process, no Redis needed: jobs (SLA timers, messages) run on threads in it, and
    # with no provider configured the messages are written to this console.
    os.environ["ITSM_REDIS_URL"] = ""
    settings = dataclasses.replace(settings, redis_url="")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    click.echo(f"sign in at http://127.0.0.1:{port}/ (API docs at /api/v1/docs); Ctrl-C stops")
    app = create_app(settings, enqueue=inline_enqueuer())
    app.run(host="127.0.0.1", port=port, threaded=True)


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--days", type=click.IntRange(1, 36_500), default=None, help="Expires after this many days."
)
def token_create(username: str, name: str, days: int | None) -> None:
    """Print a new API token for USERNAME (alone on the last line); it is stored hashed."""
    from itsm import clock
    from itsm.accounts.services import users

    expires_at = clock.now() + timedelta(days=days) if days else None
    database = _database(_settings())
    try:
        with database.transaction() as session:
            value = users.create_token(session, username, name, expires_at)
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    until = f", valid until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    click.echo(f"token for {username}{until} (shown once, keep it safe):", err=True)
    click.echo(value)


@token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """USERNAME's API tokens, newest first: id, created, expires, revoked (UTC), name."""
    from itsm.accounts.services import tokens, users

    def when(instant: datetime | None) -> str:
        return f"{instant:%Y-%m-%d %H:%M}" if instant else "-"

    database = _database(_settings())
    try:
        with database.transaction() as session:
            owner = users.get_by_username(session, username)
            rows, _total = tokens.list_tokens(session, owner.id, 1, 10_000)
            for row in rows:
                dates = [when(row.created_at), when(row.expires_at), when(row.revoked_at)]
                click.echo("\t".join([str(row.id), *dates, row.name]))
    except ItsmError as error:
        raise click.ClickException(error.message) from None


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def token_revoke(token_id: int) -> None:
    """Revoke the API token TOKEN_ID (see `itsm token list`): it is refused from now on (by
    running web processes within 10 s)."""
    from itsm import clock
    from itsm.accounts.services import tokens

    database = _database(_settings())
    try:
        with database.transaction() as session:
            row = tokens.find(session, token_id)
            tokens.revoke(session, row, clock.now())
            owner = row.user.username
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"token {token_id} of {owner} revoked")


@main.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, help="agent, engineer, requester, manager or admin.")
@click.option("--name", default="", help="The name people see (the user name when not given).")
@click.option("--phone", default=None, help="A mobile number, for SMS.")
@click.option("--wechat-id", default=None, help="The WeChat Work user id.")
@click.option("--contract", "contracts", multiple=True, help="A contract's code (repeatable).")
@click.option("--institution", default=None, help="A requester's institution (its code).")
def user_create(
    username: str,
    role: str,
    name: str,
    phone: str | None,
    wechat_id: str | None,
    contracts: tuple[str, ...],
    institution: str | None,
) -> None:
    """Create USERNAME with ROLE; the password is read from standard input (10 characters or
    more). The first admin of a new installation is made this way."""
    from itsm.accounts.services import users

    password = sys.stdin.readline().rstrip("\r\n")
    database = _database(_settings())
    try:
        with database.transaction() as session:
            users.create_user(
                session, username, role, password, name, phone, wechat_id, contracts, institution
            )
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"user {username} ({role}) created")


@user.command("passwd")
@click.argument("username")
def user_passwd(username: str) -> None:
    """Set USERNAME's password, read from standard input."""
    from itsm.accounts.services import users

    password = sys.stdin.readline().rstrip("\r\n")
    database = _database(_settings())
    try:
        with database.transaction() as session:
            users.set_password(session, username, password)
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"password set for {username}; their page sessions have ended")


@user.command("sign-out")
@click.argument("username")
def user_sign_out(username: str) -> None:
    """End every page session of USERNAME, in every browser (API tokens keep working)."""
    from itsm.accounts.services import users

    database = _database(_settings())
    try:
        with database.transaction() as session:
            users.end_sessions(session, users.get_by_username(session, username))
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{username} is signed out everywhere")


@user.command("deactivate")
@click.argument("username")
def user_deactivate(username: str) -> None:
    """Stop USERNAME from signing in or using the API; their page sessions end at once."""
    _set_active(username, False)
    click.echo(f"{username} is deactivated")


@user.command("activate")
@click.argument("username")
def user_activate(username: str) -> None:
    """Let a deactivated USERNAME sign in again."""
    _set_active(username, True)
    click.echo(f"{username} is active")


def _set_active(username: str, active: bool) -> None:
    from itsm.accounts.services import users

    database = _database(_settings())
    try:
        with database.transaction() as session:
            users.set_active(session, username, active)
    except ItsmError as error:
        raise click.ClickException(error.message) from None


@main.group()
def sla() -> None:
    """SLA clocks."""


@sla.command("sweep")
def sla_sweep() -> None:
    """Mark every clock whose warning or due time has passed (each event is raised once), and
    fire the triggers of the deadlines among them."""
    from itsm import clock, workflow_runner

    database = _database(_settings())
    with database.transaction() as session:
        result = workflow_runner.pass_instants(session, clock.now())
    click.echo(f"warned {len(result.warned)} clocks, breached {len(result.breached)}")


@main.command()
@click.option("--queues", default="sla,notifications,default,reports", show_default=True)
@click.option("--burst", is_flag=True, help="Run the jobs there are, then stop.")
def worker(queues: str, burst: bool) -> None:
    """An RQ worker with its scheduler (for jobs due at an instant: SLA timers, retries).

    It runs jobs in its own process (SimpleWorker): a forking worker costs a fork per job,
    about four times fewer jobs per second, and our jobs hold no state between runs. After
    SIGTERM it stops within ITSM_WORKER_STOP_SECONDS plus one (itsm/jobs/worker.py).
    """
    from itsm.jobs import queue
    from itsm.jobs.runtime import database, redis, settings
    from itsm.jobs.worker import BoundedStopWorker, die_with_this_process

    database()  # build the database and the outbox dispatch once, before the first job
    names = [q.strip() for q in queues.split(",") if q.strip()]
    die_with_this_process()
    BoundedStopWorker(
        [queue(n, redis()) for n in names],
        connection=redis(),
        stop_seconds=settings().worker_stop_seconds,
    ).work(with_scheduler=True, burst=burst)


@main.command()
@click.option("--sweep-every", default=60, show_default=True, help="Seconds between SLA sweeps.")
def cron(sweep_every: int) -> None:
    """The periodic jobs (itsm.jobs.PERIODIC): the SLA sweep, the outbox redispatch, the
    hand-on of lost messages. It outlives a Redis outage, running the sweep itself meanwhile
    (itsm/jobs/cron.py)."""
    from itsm.jobs import PERIODIC, function_at
    from itsm.jobs.cron import OutageProofCron
    from itsm.jobs.runtime import redis

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    OutageProofCron(redis(), PERIODIC, function_at, {"sla-sweep": sweep_every}).start()


@main.group()
def calendar() -> None:
    """Business calendars."""


@calendar.command("load")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def calendar_load(file: IO[str]) -> None:
    """Load a year (or a list of years) of the working-day schedule from a JSON FILE.

    Format: {"year": 2027, "holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}.
    """
    import json

    from itsm.sla.services import calendars

    try:
        data = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not JSON: {error}") from None
    documents = data if isinstance(data, list) else [data]
    database = _database(_settings())
    try:
        with database.transaction() as session:
            for document in documents:
                if not isinstance(document, dict) or not isinstance(document.get("year"), int):
                    raise click.ClickException('each year needs "year", "holidays", "workdays"')
                schedule = calendars.load_year(session, None, document["year"], document)
                click.echo(
                    f"loaded {schedule.year}: {len(schedule.holidays)} holidays, "
                    f"{len(schedule.workdays)} make-up working days"
                )
    except ItsmError as error:
        raise click.ClickException(error.message) from None


@main.group()
def inspections() -> None:
    """Inspections planned from each contract's inspection plan."""


@inspections.command("generate")
@click.option("--contract", "code", required=True, help="The contract's code (e.g. C1).")
@click.option(
    "--through",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The last day to plan occurrences for (YYYY-MM-DD).",
)
def inspections_generate(code: str, through: Any) -> None:
    """Make the plan's occurrences from today through a day; none is made twice, and none
    whose window has already ended."""
    from sqlalchemy import select

    from itsm import clock
    from itsm.directory.models import Contract
    from itsm.errors import ItsmError
    from itsm.inspections.services import inspections as service

    database = _database(_settings())
    try:
        with database.transaction() as session:
            contract = session.scalar(select(Contract).where(Contract.code == code))
            if contract is None:
                raise click.ClickException(f"no contract with the code {code!r}")
            made = service.generate(session, contract, through.date(), clock.now())
    except ItsmError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"{code}: {made.created} made, {made.existing} already there, "
        f"{made.skipped_ended} whose window had ended"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=(os.cpu_count() or 1) * 2 + 1, show_default="2×cores+1", type=int
)
@click.option("--threads", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """The production server: gunicorn with N worker processes."""
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "itsm.wsgi:app",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-control-socket",
        "--access-logfile",
        "-",
    ]
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()
