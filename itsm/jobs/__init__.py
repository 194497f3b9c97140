"""RQ job functions: thin, take ids, open a session, call a service. Queues are named here."""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from itsm import areas
from itsm.outbox import Enqueue, Message, Queued

QUEUES = ("sla", "notifications", "default", "reports")
"""In the order a worker takes them: reports (seconds of PDF each) last."""
JOB_TIMEOUT = 60
RESULT_TTL = 3600
"""A done job's hash stays this long; the redispatch, which runs far more often, takes its
presence as proof that the job was handed over (rq_queued). Were `itsm cron` stopped for
longer, its first run would enqueue some done jobs again: every job here is idempotent."""
FAILURE_TTL = 86400
RETRY = Retry(max=3, interval=[5, 30, 120])

KIND_TO_JOB: dict[str, tuple[str, str, Retry | None]] = {
    kind: (job.queue, job.function, RETRY if job.retried else None)
    for kind, job in areas.job_kinds().items()
}
"""The queue, function and retry of each outbox kind, as the areas declare them."""

PERIODIC = areas.periodic()
"""The periodic work, as data with stable ids: the outbox redispatch and each area's (the SLA
sweep, which also fires deadline triggers; the hand-on of messages whose worker died)."""


def function_at(path: str) -> Callable[..., Any]:
    """The function a dotted path names (`package.module.function`)."""
    module, _, name = path.rpartition(".")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, default_timeout=JOB_TIMEOUT)


def job_id_of(key: str) -> str:
    """RQ's job id for an outbox key: readable, only the characters RQ allows, still unique."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    if readable == key.replace(":", "-") and len(readable) <= 120:
        return readable
    return f"{readable[:100]}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def rq_enqueuer(connection: Redis) -> Enqueue:
    """An outbox `enqueue` that puts a batch of rows' jobs on their queues in one MULTI … EXEC
    (one round trip): each at once, or scheduled at its `run_at`, with the row's key as the
    job id."""
    queues: dict[str, Queue] = {}

    def enqueue(messages: Sequence[Message]) -> None:
        now = datetime.now(UTC)
        with connection.pipeline() as pipe:
            pipe.multi()  # one MULTI … EXEC for the batch (RQ asks for it before its commands)
            for message in messages:
                queue_name, func, retry = KIND_TO_JOB[message.kind]
                if queue_name not in queues:
                    queues[queue_name] = queue(queue_name, connection)
                q = queues[queue_name]
                job = q.create_job(
                    func,
                    kwargs=message.payload,
                    job_id=job_id_of(message.key),
                    retry=retry,
                    result_ttl=RESULT_TTL,
                    failure_ttl=FAILURE_TTL,
                )
                if message.run_at is not None and message.run_at > now:
                    _schedule(q, job, message.run_at, pipe)
                else:
                    q.enqueue_job(job, pipeline=pipe)
            pipe.execute()

    return enqueue


def _schedule(q: Queue, job: Job, at: datetime, pipe: Pipeline) -> None:
    """`Queue.schedule_job` within the pipeline: rq 2.12's `ScheduledJobRegistry.schedule`
    ignores the pipeline it is given and adds the id at once, before the job's hash exists,
    and a scheduler that polls then drops the id and leaves the job to nobody."""
    pipe.sadd(q.redis_queues_keys, q.key)
    job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
    job.save(pipeline=pipe)
    # rq 2.12 leaves ScheduledJobRegistry.__init__ unannotated (*args, **kwargs).
    registry = ScheduledJobRegistry(queue=q)  # type: ignore[no-untyped-call]
    pipe.zadd(registry.key, {job.id: int(at.timestamp())})


def rq_queued(connection: Redis) -> Queued:
    """An outbox `queued`: the keys whose jobs Redis holds (waiting, scheduled, or finished
    within RESULT_TTL), by one EXISTS per key in one round trip."""

    def queued(keys: Sequence[str]) -> set[str]:
        with connection.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(Job.key_for(job_id_of(key)))
            found = pipe.execute()
        return {key for key, exists in zip(keys, found, strict=True) if exists}

    return queued


def enqueue_delivery(connection: Redis, key: str, suffix: str) -> None:
    """A delivery job outside the outbox (the sweep's hand-on of a lost one)."""
    _, func, _ = KIND_TO_JOB["notification"]
    queue("notifications", connection).enqueue(
        func,
        key=key,
        job_id=job_id_of(f"notify:{key}:{suffix}"),
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
    )


def inline_enqueuer() -> Enqueue:
    """An outbox `enqueue` for a single process with no Redis (`itsm demo`): each row's job
    runs on a timer thread at its instant. Nothing survives a restart: production uses RQ."""

    def enqueue(messages: Sequence[Message]) -> None:
        for message in messages:
            job = function_at(KIND_TO_JOB[message.kind][1])
            delay = 0.0
            if message.run_at is not None:
                delay = max(0.0, (message.run_at - datetime.now(UTC)).total_seconds())
            timer = threading.Timer(delay, job, kwargs=dict(message.payload))
            timer.daemon = True
            timer.start()

    return enqueue
