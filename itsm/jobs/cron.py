"""`itsm cron`: RQ's cron scheduler, which outlives a Redis outage.

RQ's `CronScheduler.start` lets a `redis.exceptions.ConnectionError` end the process: then
nothing sweeps and nothing redispatches, and breaches that fall due are never raised. Here an
outage is logged once when it starts and once when it ends; meanwhile the scheduler retries
with back-off (1 s doubling to `MAX_RETRY_SECONDS`) and runs in this process, each at its
interval, the periodic jobs that need only the database (the SLA sweep: it marks breaches and
writes their notifications to the outbox, which RQ gets when it returns). Jobs that could not
be enqueued stay due, so the outbox redispatch and the lost-message hand-on run as soon as
Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from itsm.area import Periodic

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 10.0
"""The longest wait between two tries to reach Redis: it is back within this of returning."""


class OutageProofCron(CronScheduler):
    """A CronScheduler that outlives Redis outages (see the module's docstring)."""

    def __init__(
        self,
        connection: Redis,
        jobs: Sequence[Periodic],
        function_at: Callable[[str], Callable[..., Any]],
        intervals: dict[str, int] | None = None,
    ) -> None:
        super().__init__(connection=connection)
        intervals = intervals or {}
        self._local: list[tuple[Periodic, Callable[..., Any], float]] = []
        """The jobs run here while Redis is away, with the interval of each."""
        for job in jobs:
            seconds = intervals.get(job.id, job.seconds)
            function = function_at(job.function)
            self.register(function, job.queue, interval=seconds, name=job.id)
            if not job.needs_redis:
                self._local.append((job, function, float(seconds)))
        self._local_runs: dict[str, float] = {}
        self.outage_since: float | None = None
        self._retry = 1.0
        self._next_try = 0.0

    def start(self) -> None:
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()  # type: ignore[no-untyped-call]  # rq 2.12 untyped
        born = False
        try:
            while True:
                if self.outage_since is None or time.monotonic() >= self._next_try:
                    try:
                        if not born:
                            self.register_birth()
                            born = True
                        if self.enqueue_jobs():
                            self.save()
                        self.heartbeat()
                    except (RedisConnectionError, RedisTimeoutError) as error:
                        self._in_outage(error)
                    else:
                        self._outage_over()
                        time.sleep(self.calculate_sleep_interval())
                        continue
                self._run_local_jobs()
                time.sleep(max(0.0, min(self._next_try, self._next_local_run()) - time.monotonic()))
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with suppress(RedisError):
                self.register_death()

    def _in_outage(self, error: RedisError) -> None:
        now = time.monotonic()
        if self.outage_since is None:
            self.outage_since = now
            self._retry = 1.0
            log.error(
                "cron: Redis is unreachable (%s); retrying with back-off, and running %s here "
                "until it is back",
                error,
                ", ".join(job.id for job, _, _ in self._local) or "nothing",
            )
        else:
            self._retry = min(self._retry * 2, MAX_RETRY_SECONDS)
        self._next_try = now + self._retry

    def _run_local_jobs(self) -> None:
        for job, function, seconds in self._local:
            if time.monotonic() - self._local_runs.get(job.id, float("-inf")) < seconds:
                continue
            self._local_runs[job.id] = time.monotonic()
            try:
                function()
            except Exception:  # noqa: BLE001 - the next run tries again; cron goes on
                log.exception("cron: %s failed while Redis was away", job.id)

    def _next_local_run(self) -> float:
        return min(
            (self._local_runs.get(job.id, 0.0) + seconds for job, _, seconds in self._local),
            default=self._next_try,
        )

    def _outage_over(self) -> None:
        if self.outage_since is not None:
            log.warning(
                "cron: Redis is back after %.0f s; its jobs are enqueued again",
                time.monotonic() - self.outage_since,
            )
            self.outage_since = None
            self._local_runs.clear()
