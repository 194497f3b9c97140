"""`itsm worker`: RQ's SimpleWorker, stopped within a bound whatever it is doing.

RQ's warm shutdown waits for the job in flight however long it takes (a provider that does not
answer, a lock held elsewhere), joins its scheduler child without a timeout, and at tear-down
joins its pub/sub thread through redis-py's `stop()`, also without one: a thread that has
read the unsubscribe reply then waits up to RQ's 60 s for a new subscription (seen under load:
an idle worker took over 60 s to stop). A worker killed outright leaves its scheduler running.

Here a SIGTERM stops the worker within `stop_seconds` plus one, counted from the signal's
arrival (a watchdog thread hears it through the interpreter's wakeup fd, even while the main
thread is held in C and cannot run the Python handler): the job in flight has
`stop_seconds` to finish; then it is interrupted (RQ records it failed; its retry or the
sweeps hand it on: every job is idempotent); a second later the process exits whatever it is
blocked in. The pub/sub thread gets one second. The scheduler child is asked to stop, killed
if it has not within two seconds, and dies with the worker even when the worker is SIGKILLed.

RQ's worker quits when Redis goes away while it runs a job or between two; its scheduler
child dies of the outage, and RQ looks for it only every ten minutes. Here the worker waits
for Redis instead (logged once, tried with back-off up to `MAX_RECONNECT_SECONDS`), an idle
worker wakes every `DEQUEUE_SECONDS`, and whenever it finds its scheduler gone it takes the
locks back and starts another (every `SCHEDULER_CHECK_SECONDS` until it has them). A job cut
off by the outage is made good by the sweeps, as after a flush: every job is idempotent.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
import threading
import time
from contextlib import suppress
from types import FrameType
from typing import Any

from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.job import Job

log = logging.getLogger(__name__)

SCHEDULER_STOP_SECONDS = 2.0
"""How long the scheduler child has to release its locks before it is killed."""
LAST_RESORT_SECONDS = 1.0
"""After the job in flight is interrupted, how long the worker has to tear down cleanly."""
DEQUEUE_SECONDS = 30
"""How long an idle worker waits for a job before it looks at its scheduler again."""
MAX_RECONNECT_SECONDS = 10.0
SCHEDULER_CHECK_SECONDS = 15.0

_PR_SET_PDEATHSIG = 1
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class BoundedStopWorker(SimpleWorker):
    """A SimpleWorker whose stop after SIGTERM is bounded (see the module's docstring)."""

    max_connection_wait_time = MAX_RECONNECT_SECONDS

    def __init__(self, *args: Any, stop_seconds: float, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", DEQUEUE_SECONDS + 15)  # RQ waits for jobs 15 s less
        super().__init__(*args, **kwargs)
        self.stop_seconds = stop_seconds
        self._keeps_scheduler = False
        self._next_scheduler_check = 0.0

    def _start_scheduler(self, burst: bool = False, *args: Any, **kwargs: Any) -> None:
        self._keeps_scheduler = not burst  # a burst worker's scheduler runs once, in-process
        super()._start_scheduler(burst, *args, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """RQ's heartbeat (each wake of an idle worker, each job), then the scheduler's check."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline)
            return
        try:
            super().heartbeat(timeout)
        except REDIS_DOWN as error:
            self._wait_for_redis(error)
        self._keep_scheduler()

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as error:  # RQ's bookkeeping of the job, or the job's own call
            self._wait_for_redis(error)

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except REDIS_DOWN as error:
            self._wait_for_redis(error)

    def _wait_for_redis(self, error: RedisError) -> None:
        """Wait until Redis answers again (or a stop is asked for), telling the log once."""
        self.log.error("Worker %s: Redis is unreachable (%s); waiting for it", self.name, error)
        wait = 1.0
        while not self._stop_requested:
            time.sleep(wait)
            try:
                self.connection.ping()
            except REDIS_DOWN:
                wait = min(wait * 2, MAX_RECONNECT_SECONDS)
                continue
            self.log.warning("Worker %s: Redis is back", self.name)
            return

    def teardown(self) -> None:
        """RQ's, which stops the scheduler first; a Redis still away only leaves the worker's
        registration to expire by itself."""
        try:
            super().teardown()  # type: ignore[no-untyped-call]  # rq 2.12
        except REDIS_DOWN as error:
            self.log.warning("Worker %s: Redis unreachable at stop (%s)", self.name, error)
            self.unsubscribe()

    def _keep_scheduler(self) -> None:
        """Start another scheduler child if this worker's has died (a Redis outage ends it)."""
        scheduler = self.scheduler
        if scheduler is None or not self._keeps_scheduler or self._stop_requested:
            return
        if scheduler._process is not None and scheduler._process.is_alive():
            return
        if time.monotonic() < self._next_scheduler_check:
            return
        self._next_scheduler_check = time.monotonic() + SCHEDULER_CHECK_SECONDS
        if scheduler.acquire_locks(auto_start=True):  # type: ignore[no-untyped-call]  # rq 2.12
            self.log.warning("Worker %s: its scheduler had stopped; started again", self.name)

    def _install_signal_handlers(self) -> None:
        """RQ's handlers, and a watchdog told of each signal by the interpreter's wakeup fd.

        A Python signal handler runs only when the main thread runs Python: a job waiting in C
        would delay the stop request itself. The wakeup fd is written by the C-level handler at
        once, so the watchdog starts counting when the signal comes, whatever the job does."""
        super()._install_signal_handlers()  # type: ignore[no-untyped-call]  # rq 2.12 untyped
        told, tell = socket.socketpair()
        tell.setblocking(False)
        signal.set_wakeup_fd(tell.fileno(), warn_on_full_buffer=False)
        self._wakeup = (told, tell)  # kept open for the process's life
        threading.Thread(
            target=self._watch, args=(told,), name="stop-watchdog", daemon=True
        ).start()

    def _watch(self, told: socket.socket) -> None:
        stops = {signal.SIGTERM, signal.SIGINT}
        while not stops & set(told.recv(64)):
            pass
        self._stop_in_time()

    def _stop_in_time(self) -> None:
        time.sleep(self.stop_seconds)
        log.warning(
            "worker %s: still busy %.0f s after the stop request; interrupting its job",
            self.name,
            self.stop_seconds,
        )
        # RQ's cold stop: SystemExit in the main thread at its next Python instruction.
        self._shutdown_requested_date = None  # so RQ does not take it for a duplicate signal
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(LAST_RESORT_SECONDS)
        log.error("worker %s: blocked outside Python; exiting without tear-down", self.name)
        self._kill_scheduler()
        sys.stdout.flush()
        os._exit(1)

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._shutdown_requested_date is None:  # the watchdog's, not a duplicate
            self.log.warning("Worker %s: cold shut down", self.name)
            raise SystemExit(1)
        super().request_force_stop(signum, frame)

    def unsubscribe(self) -> None:
        """RQ's, with a bounded wait: the thread's loop is told to end before the unsubscribe,
        whose reply then wakes it; a thread still waiting after a second is left (a daemon)."""
        thread = self.pubsub_thread
        if thread is None or self.pubsub is None:
            return
        self.log.info("Worker %s: unsubscribing from its channel", self.name)
        thread.stop(timeout=0)
        with suppress(RedisError):
            self.pubsub.unsubscribe()
        thread.join(timeout=1)
        if not thread.is_alive():
            self.pubsub.close()

    def stop_scheduler(self) -> None:
        """Ask the scheduler child to stop; kill it if it has not within two seconds."""
        self._signal_scheduler(signal.SIGTERM)
        process = self.scheduler._process if self.scheduler else None
        if process is None or process.pid is None:
            return
        process.join(SCHEDULER_STOP_SECONDS)
        if process.is_alive():
            self._kill_scheduler()
            process.join(SCHEDULER_STOP_SECONDS)

    def _kill_scheduler(self) -> None:
        self._signal_scheduler(signal.SIGKILL)

    def _signal_scheduler(self, signum: int) -> None:
        """Signal the scheduler child while it runs (a reaped child's pid may be another's)."""
        process = self.scheduler._process if self.scheduler else None
        if process is not None and process.pid is not None and process.exitcode is None:
            with suppress(OSError):
                os.kill(process.pid, signum)


def die_with_this_process() -> None:
    """Make every child this process forks from now on (RQ's scheduler) get SIGTERM when it
    dies, however it dies (Linux; elsewhere a no-op). Grandchildren are left alone: the hooks
    are inherited, so each checks that the fork was this process's own."""
    if not sys.platform.startswith("linux"):
        return
    worker = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)
    forker = [0]

    def before() -> None:
        forker[0] = os.getpid()

    def in_child() -> None:
        if forker[0] != worker:
            return
        signal.set_wakeup_fd(-1)  # the worker's watchdog listens there, not the child's
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != worker:  # the worker died before prctl took effect
            os._exit(0)

    os.register_at_fork(before=before, after_in_child=in_child)
