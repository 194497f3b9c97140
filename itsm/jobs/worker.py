"""`itsm worker`: RQ's SimpleWorker, stopped within a bound whatever it is doing.

RQ's warm shutdown waits for the job in flight however long it takes (a provider that does not
answer, a lock held elsewhere), joins its scheduler child without a timeout, and at tear-down
joins its pub/sub thread through redis-py's `stop()`, also without one: a thread that has
read the unsubscribe reply then waits up to RQ's 60 s for a new subscription (seen under load:
an idle worker took over 60 s to stop). A worker killed outright leaves its scheduler running.

Here a SIGTERM stops the worker within `stop_seconds` plus one: the job in flight has
`stop_seconds` to finish; then it is interrupted (RQ records it failed; its retry or the
sweeps hand it on: every job is idempotent); a second later the process exits whatever it is
blocked in. The pub/sub thread gets one second. The scheduler child is asked to stop, killed
if it has not within two seconds, and dies with the worker even when the worker is SIGKILLed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from contextlib import suppress
from types import FrameType
from typing import Any

from redis.exceptions import RedisError
from rq import SimpleWorker

log = logging.getLogger(__name__)

SCHEDULER_STOP_SECONDS = 2.0
"""How long the scheduler child has to release its locks before it is killed."""
LAST_RESORT_SECONDS = 1.0
"""After the job in flight is interrupted, how long the worker has to tear down cleanly."""

_PR_SET_PDEATHSIG = 1


class BoundedStopWorker(SimpleWorker):
    """A SimpleWorker whose stop after SIGTERM is bounded (see the module's docstring)."""

    def __init__(self, *args: Any, stop_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_seconds = stop_seconds
        self._watchdog: threading.Thread | None = None

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._stop_in_time, name="stop-watchdog", daemon=True
            )
            self._watchdog.start()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # rq 2.12 untyped

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
        thread.stop(timeout=0)
        with suppress(RedisError):
            self.pubsub.unsubscribe()
        thread.join(timeout=1)
        if not thread.is_alive():
            self.pubsub.close()

    def stop_scheduler(self) -> None:
        """Ask the scheduler child to stop; kill it if it has not within two seconds."""
        process = self.scheduler._process if self.scheduler else None
        if process is None or process.pid is None:
            return
        with suppress(OSError):
            os.kill(process.pid, signal.SIGTERM)
        process.join(SCHEDULER_STOP_SECONDS)
        if process.is_alive():
            self._kill_scheduler()
            process.join(SCHEDULER_STOP_SECONDS)

    def _kill_scheduler(self) -> None:
        process = self.scheduler._process if self.scheduler else None
        if process is not None and process.pid is not None:
            with suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)


def die_with_this_process() -> None:
    """Make every child forked from now on (RQ's scheduler) get SIGTERM when this process dies,
    however it dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def in_child() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(0)

    os.register_at_fork(after_in_child=in_child)
