"""Sending: the delivery job through the real twilio and wechatpy clients against the stub;
retries, final failures, SMS fallback, and Twilio's receipts through the signed callback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import event, select, text
from twilio.request_validator import RequestValidator

from itsm import clock
from itsm.app import create_app
from itsm.db import Database
from itsm.jobs import runtime
from itsm.models.outbox import OutboxMessage
from itsm.notify import jobs
from itsm.notify.models import Notification
from tests.conftest import at
from tests.factories import World
from tests.integration.notify_env import PUBLIC_URL, provider_env, worker_runtime
from tests.provider_stub import TWILIO_AUTH_TOKEN, ProviderStub
from tests.redis_server import RedisServer

MONDAY_10 = "2026-11-23T10:00:00+08:00"
REPORTER = "+8613912345678"

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")


@pytest.fixture
def worker(
    database_url: str, redis_server: RedisServer, provider: ProviderStub, tmp_path: Path
) -> Iterator[dict[str, str]]:
    env = provider_env(
        database_url,
        redis_server.url,
        provider,
        tmp_path,
        notify_retry_backoff="30,120",
        notify_max_attempts="3",
    )
    # The stub forgot the tokens it issued (reset): so must the workers' shared token cache.
    tokens = Redis.from_url(redis_server.url)
    for key in tokens.scan_iter("itsm:wechat-token:*"):
        tokens.delete(key)
    with worker_runtime(env):
        yield env


@pytest.fixture(scope="module")
def hooks_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(
        instance_path=tmp_path_factory.mktemp("hooks"),
        database_url=database_url,
        redis_url="",
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url=PUBLIC_URL,
    )
    yield app
    app.extensions["itsm.db"].dispose()


def rows(db: Database, ticket_id: int, event: str | None = None) -> list[Notification]:
    with db.sessions() as session:
        query = select(Notification).where(
            Notification.subject_type == "ticket", Notification.subject_id == ticket_id
        )
        if event:
            query = query.where(Notification.event == event)
        return list(session.scalars(query.order_by(Notification.id)))


def one(db: Database, key: str) -> Notification:
    with db.sessions() as session:
        return session.scalars(select(Notification).where(Notification.key == key)).one()


def opened(client: FlaskClient, world: World, db: Database, **fields: object) -> Notification:
    ticket = world.open_ticket(client, **fields)
    [row] = rows(db, ticket["id"], "ticket_opened")
    return row


def test_an_sms_goes_to_twilio_and_is_recorded_sent(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    assert jobs.deliver(row.key) == "sent"
    [request] = provider.requests_to("twilio")
    assert request["body"]["To"] == REPORTER
    assert request["body"]["From"] == "+15005550006"
    assert request["body"]["StatusCallback"] == f"{PUBLIC_URL}/hooks/twilio/status"
    assert row.context["number"] in request["body"]["Body"]
    sent = one(db, row.key)
    assert sent.status == "sent" and sent.attempts == 1 and sent.provider_id.startswith("SM")
    assert sent.body == request["body"]["Body"] and sent.sent_at == clock.now()
    assert jobs.deliver(row.key) == "not due, or done"  # a second run sends nothing
    assert len(provider.requests_to("twilio")) == 1


def test_a_delivery_claims_and_records_by_one_statement_each(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    statements: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(statement.split()[0])

    engines = {runtime.database().engine, runtime.single_statements()}  # one on SQLite
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        assert jobs.deliver(row.key) == "sent"
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["UPDATE", "UPDATE"]  # the claim (… RETURNING), the record
    sent = one(db, row.key)
    assert sent.status == "sent" and sent.attempts == 1 and sent.lease_until is None


def _on_postgresql(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the delivery engine pings and reconnects on PostgreSQL")


def test_a_busy_worker_sends_message_after_message_without_a_ping(
    client, db, world, worker, provider, travel, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _on_postgresql(db)
    monkeypatch.setattr("itsm.runtime.IDLE_BEFORE_PING_SECONDS", 60)  # however slow this machine
    travel(MONDAY_10)
    first, second = opened(client, world, db, priority="P3"), opened(client, world, db)
    dialect = runtime.single_statements().dialect
    real_ping, pings = dialect.do_ping, []

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted_ping)
    assert jobs.deliver(first.key) == "sent"  # a new connection: alive, no ping
    assert jobs.deliver(second.key) == "sent"  # handed back a moment ago: no ping
    assert pings == []


def test_a_message_after_the_database_dropped_the_connection_is_still_sent(
    client, db, world, worker, provider, travel, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _on_postgresql(db)
    monkeypatch.setattr("itsm.runtime.IDLE_BEFORE_PING_SECONDS", 60)  # the dead one is not pinged
    travel(MONDAY_10)
    first, second = opened(client, world, db, priority="P3"), opened(client, world, db)
    assert jobs.deliver(first.key) == "sent"
    engine = runtime.single_statements()
    with engine.connect() as pooled:
        backend = pooled.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as admin:
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})
    statements: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert jobs.deliver(second.key) == "sent"
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # The claim met the dead connection and ran once more on a new one; then the record.
    assert statements == ["UPDATE", "UPDATE", "UPDATE"]
    sent = one(db, second.key)
    assert sent.status == "sent" and sent.attempts == 1
    assert len(provider.requests_to("twilio")) == 2


def test_a_wechat_card_links_to_the_ticket(client, db, world, worker, provider, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3", assignee_id=world.users["engineer"])
    [row] = rows(db, ticket["id"], "ticket_assigned")
    assert jobs.deliver(row.key) == "sent"
    [request] = provider.requests_to("wechat_app")
    payload = request["body"]
    assert payload["touser"] == f"engineer-{world.contract_code}"
    assert payload["msgtype"] == "textcard"
    assert payload["textcard"]["url"] == f"{PUBLIC_URL}/tickets/{ticket['id']}"
    assert ticket["number"] in payload["textcard"]["title"] + payload["textcard"]["description"]


def test_a_rate_limit_is_retried_later_and_then_sent(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    provider.script("rate_limit", recipient=REPORTER)
    assert jobs.deliver(row.key) == "retry"
    waiting = one(db, row.key)
    assert waiting.status == "pending" and waiting.attempts == 1
    assert waiting.error_code == "20429" and waiting.not_before == at(MONDAY_10) + timedelta(
        seconds=30
    )
    with db.sessions() as session:
        retry_job = session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == f"notify:{row.key}:2")
        )
    assert retry_job is not None and retry_job.run_at == waiting.not_before
    assert jobs.deliver(row.key) == "not due, or done"  # too early: nothing is sent
    travel(at(MONDAY_10) + timedelta(seconds=31))
    assert jobs.deliver(row.key) == "sent"
    done = one(db, row.key)
    assert done.status == "sent" and done.attempts == 2
    assert provider.counts()["sends"] == {REPORTER: 1}


def test_retries_stop_at_the_cap_with_the_providers_error_kept(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    provider.script("server_error", recipient=REPORTER, times=5)
    outcomes = []
    for step in range(4):
        travel(at(MONDAY_10) + timedelta(minutes=5 * step))
        outcomes.append(jobs.deliver(row.key))
    assert outcomes == ["retry", "retry", "failed", "not due, or done"]
    failed = one(db, row.key)
    assert failed.status == "failed" and failed.attempts == 3 and failed.failed_at is not None
    assert failed.error_message
    assert len(provider.requests_to("twilio")) == 3


def test_an_unknown_wechat_user_falls_back_to_sms_at_once(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P3", assignee_id=world.users["engineer"])
    [row] = rows(db, ticket["id"], "ticket_assigned")
    provider.script("invalid_recipient", recipient=row.address)
    assert jobs.deliver(row.key) == "failed"
    failed = one(db, row.key)
    assert failed.status == "failed" and failed.attempts == 1 and failed.error_code == "81013"
    sms = one(db, f"{row.key}:sms-fallback")
    assert (sms.channel, sms.address, sms.fallback_for_id) == ("sms", "+8613800138000", row.id)
    assert jobs.deliver(sms.key) == "sent"
    assert provider.counts()["sends"] == {"+8613800138000": 1}


def test_a_wechat_message_not_sent_by_its_deadline_falls_back(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P2", assignee_id=world.users["engineer"])
    [row] = rows(db, ticket["id"], "ticket_assigned")
    provider.script("server_error", endpoint="wechat_app", times=10)
    assert jobs.deliver(row.key) == "retry"
    travel(row.fallback_at)
    assert jobs.check_fallback(row.key).startswith("fell back to SMS")
    assert jobs.check_fallback(row.key) == "no fallback needed"  # a second run adds nothing
    assert (
        len([r for r in rows(db, ticket["id"]) if r.channel == "sms"]) == 2
    )  # reporter + fallback
    assert one(db, f"{row.key}:sms-fallback").status == "pending"


def test_a_wechat_message_sent_in_time_needs_no_sms(
    client, db, world, worker, provider, travel
) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    ticket = world.open_ticket(client, priority="P1", assignee_id=world.users["engineer"])
    [row] = rows(db, ticket["id"], "ticket_assigned")
    assert jobs.deliver(row.key) == "sent"
    travel(row.fallback_at)
    assert jobs.check_fallback(row.key) == "no fallback needed"
    with db.sessions() as session:
        assert (
            session.scalar(
                select(Notification).where(Notification.key == f"{row.key}:sms-fallback")
            )
            is None
        )


def test_a_skipped_row_is_never_attempted(client, db, world, worker, provider, travel) -> None:  # type: ignore[no-untyped-def]
    travel(MONDAY_10)
    row = opened(client, world, db, reporter_phone="010-62345678")
    assert row.status == "skipped"
    assert jobs.deliver(row.key) == "not due, or done"
    assert provider.requests == []


def test_a_dead_workers_lease_is_handed_on_by_the_sweep(
    client, db, world, worker, provider, travel, redis_server
) -> None:  # type: ignore[no-untyped-def]
    from itsm.notify.services import deliveries

    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    with db.transaction() as session:  # a worker claims the row, then dies
        assert deliveries.claim(session, row.key, clock.now(), timedelta(seconds=120))
    assert jobs.deliver(row.key) == "not due, or done"  # held: nobody else sends
    travel(at(MONDAY_10) + timedelta(seconds=121))
    with db.sessions() as session:
        assert row.key in deliveries.unfinished(session, clock.now(), jobs.SWEEP_GRACE)
    assert jobs.sweep_unfinished() >= 1
    queued = Queue("notifications", connection=Redis.from_url(redis_server.url)).job_ids
    assert any(
        job_id.startswith("notify-ticket_opened-t" + str(row.ticket_id)) for job_id in queued
    )
    assert jobs.deliver(row.key) == "sent"
    assert one(db, row.key).attempts == 2 and provider.counts()["sends"] == {REPORTER: 1}


def sent_sms(
    client: FlaskClient, world: World, db: Database, travel: Any
) -> tuple[Notification, str]:
    """A ticket's SMS to its reporter, sent through the stub: the row and Twilio's SID."""
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    assert jobs.deliver(row.key) == "sent"
    return row, str(one(db, row.key).provider_id)


def _callback(client: FlaskClient, params: dict[str, str], signature: str | None = None) -> int:
    url = f"{PUBLIC_URL}/hooks/twilio/status"
    if signature is None:
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, params)
    response = client.post(
        "/hooks/twilio/status", data=params, headers={"X-Twilio-Signature": signature}
    )
    return response.status_code


def test_twilio_receipts_move_forward_never_back(
    client, db, world, worker, provider, hooks_app, travel
) -> None:  # type: ignore[no-untyped-def]
    row, sid = sent_sms(client, world, db, travel)
    hooks = hooks_app.test_client()
    for status in ("sent", "delivered", "sent", "queued", "failed"):
        assert _callback(hooks, {"MessageSid": sid, "MessageStatus": status}) == 204
    final = one(db, row.key)
    assert final.status == "delivered" and final.provider_status == "delivered"
    assert final.delivered_at is not None and final.failed_at is None


def test_an_undelivered_receipt_marks_the_sms_failed(
    client, db, world, worker, provider, hooks_app, travel
) -> None:  # type: ignore[no-untyped-def]
    row, sid = sent_sms(client, world, db, travel)
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _callback(hooks_app.test_client(), params) == 204
    failed = one(db, row.key)
    assert failed.status == "failed" and failed.error_code == "30003"


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "forged-signature",
        RequestValidator("another-token").compute_signature(
            f"{PUBLIC_URL}/hooks/twilio/status", {"MessageSid": "SMx", "MessageStatus": "delivered"}
        ),
    ],
)
def test_a_forged_receipt_is_refused_and_changes_nothing(
    client, db, world, worker, provider, hooks_app, travel, signature: str
) -> None:  # type: ignore[no-untyped-def]
    row, sid = sent_sms(client, world, db, travel)
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert _callback(hooks_app.test_client(), params, signature) == 403
    assert one(db, row.key).status == "sent"


def test_a_receipt_signed_for_another_address_is_refused(
    client, db, world, worker, provider, hooks_app, travel
) -> None:  # type: ignore[no-untyped-def]
    row, sid = sent_sms(client, world, db, travel)
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    elsewhere = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
        "https://evil.test/hooks/twilio/status", params
    )
    assert _callback(hooks_app.test_client(), params, elsewhere) == 403


def test_no_provider_configured_means_the_console(
    client, db, world, provider, travel, database_url, redis_server, tmp_path, caplog
) -> None:  # type: ignore[no-untyped-def]
    env = {
        "ITSM_DATABASE_URL": database_url,
        "ITSM_REDIS_URL": redis_server.url,
        "ITSM_INSTANCE_PATH": str(tmp_path),
    }
    travel(MONDAY_10)
    row = opened(client, world, db, priority="P3")
    with worker_runtime(env), caplog.at_level("INFO", logger="notifications.console"):
        assert jobs.deliver(row.key) == "sent"
    assert one(db, row.key).status == "delivered"
    assert row.context["number"] in caplog.text
    assert provider.requests == []
