"""RQ job functions: thin, take ids, open a session, call a service. Queues are named here."""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Retry

from itsm.models.outbox import OutboxMessage

QUEUES = ("sla", "notifications", "default")
JOB_TIMEOUT = 60
RETRY = Retry(max=3, interval=[5, 30, 120])

KIND_TO_JOB: dict[str, tuple[str, str, Retry | None]] = {
    "sla_timer": ("sla", "itsm.jobs.sla.fire_timer", RETRY),
    # A notification counts its own attempts and backs off by its own rules (deliveries.py).
    "notification": ("notifications", "itsm.jobs.notifications.deliver", None),
    "notification_fallback": ("notifications", "itsm.jobs.notifications.check_fallback", RETRY),
    "wechat_inbound": ("default", "itsm.jobs.notifications.process_wechat", RETRY),
}


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, default_timeout=JOB_TIMEOUT)


def _job_id(key: str) -> str:
    """RQ's job id for an outbox key: readable, only the characters RQ allows, still unique."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    if readable == key.replace(":", "-") and len(readable) <= 120:
        return readable
    return f"{readable[:100]}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def rq_enqueuer(connection: Redis):  # type: ignore[no-untyped-def]
    """An outbox `enqueue` that schedules each row's job on its queue, with the row key as id."""

    def enqueue(row: OutboxMessage) -> None:
        queue_name, func, retry = KIND_TO_JOB[row.kind]
        q = queue(queue_name, connection)
        kwargs = {
            "job_id": _job_id(row.key),
            "retry": retry,
            "result_ttl": 3600,
            "failure_ttl": 86400,
        }
        run_at = row.run_at
        if run_at is not None and run_at > datetime.now(UTC):
            q.enqueue_at(run_at, func, **row.payload, **kwargs)
        else:
            q.enqueue(func, **row.payload, **kwargs)

    return enqueue


def enqueue_delivery(connection: Redis, key: str, suffix: str) -> None:
    """A delivery job outside the outbox (the sweep's hand-on of a lost one)."""
    _, func, _ = KIND_TO_JOB["notification"]
    queue("notifications", connection).enqueue(
        func, key=key, job_id=_job_id(f"notify:{key}:{suffix}"), result_ttl=3600
    )


def inline_enqueuer():  # type: ignore[no-untyped-def]
    """An outbox `enqueue` for a single process with no Redis (`itsm demo`): each row's job
    runs on a timer thread at its instant. Nothing survives a restart: production uses RQ."""

    def enqueue(row: OutboxMessage) -> None:
        _, func, _ = KIND_TO_JOB[row.kind]
        module, name = func.rsplit(".", 1)
        job = getattr(importlib.import_module(module), name)
        delay = 0.0
        if row.run_at is not None:
            delay = max(0.0, (row.run_at - datetime.now(UTC)).total_seconds())
        timer = threading.Timer(delay, job, kwargs=dict(row.payload))
        timer.daemon = True
        timer.start()

    return enqueue
