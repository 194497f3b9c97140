"""RQ job functions: thin, take ids, open a session, call a service. Queues are named here."""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Retry

from itsm.models.outbox import OutboxMessage

QUEUES = ("sla", "notifications", "default")
JOB_TIMEOUT = 60
RETRY = Retry(max=3, interval=[5, 30, 120])

KIND_TO_JOB = {"sla_timer": ("sla", "itsm.jobs.sla.fire_timer")}


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, default_timeout=JOB_TIMEOUT)


def rq_enqueuer(connection: Redis):  # type: ignore[no-untyped-def]
    """An outbox `enqueue` that schedules each row's job on its queue, with the row key as id."""

    def enqueue(row: OutboxMessage) -> None:
        queue_name, func = KIND_TO_JOB[row.kind]
        q = queue(queue_name, connection)
        job_id = row.key.replace(":", "-")
        kwargs = {"job_id": job_id, "retry": RETRY, "result_ttl": 3600, "failure_ttl": 86400}
        run_at = row.run_at
        if run_at is not None and run_at > datetime.now(UTC):
            q.enqueue_at(run_at, func, **row.payload, **kwargs)
        else:
            q.enqueue(func, **row.payload, **kwargs)

    return enqueue
