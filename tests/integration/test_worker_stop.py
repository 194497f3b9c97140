"""`itsm worker` stops within its bound after SIGTERM whatever it is doing, and its scheduler
child never outlives it (RQ's warm shutdown waits for the job in flight without limit)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from tests.processes import stop
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")
STOP_SECONDS = 2


StartWorker = Callable[..., subprocess.Popen[bytes]]
ROOT = Path(__file__).resolve().parents[2]
LOADED_MACHINE_SECONDS = 10
"""What a loaded machine may add to a stop's bound (the point is seconds against minutes)."""


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


@pytest.fixture
def start_worker(own_redis: RedisServer, tmp_path: Path, worker_log: Path) -> Iterator[StartWorker]:
    started: list[subprocess.Popen[bytes]] = []

    def start(stop_seconds: int = STOP_SECONDS) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # the jobs of tests/integration/blocking_jobs.py
            "ITSM_DATABASE_URL": f"sqlite:///{tmp_path / 'itsm.sqlite3'}",
            "ITSM_REDIS_URL": own_redis.url,
            "ITSM_INSTANCE_PATH": str(tmp_path / "instance"),
            "ITSM_WORKER_STOP_SECONDS": str(stop_seconds),
        }
        with open(worker_log, "ab") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "itsm.cli", "worker", "--queues", "default"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return started[-1]

    try:
        yield start
    finally:
        for process in started:
            stop(process)


def wait_until(condition: Callable[[], bool], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds  # generous: a loaded machine starts slowly
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def scheduler_locks(redis: Redis) -> list[bytes]:
    return list(redis.scan_iter("rq:scheduler-lock:*"))


def scheduler_running(redis: Redis, worker: subprocess.Popen[bytes]) -> bool:
    """The scheduler child has its locks and is at work (its signal handlers installed, its
    birth registered); killed before that, it dies without releasing its locks, which then
    expire after 61 s."""
    born = list(redis.scan_iter("rq:scheduler:*"))
    return bool(scheduler_locks(redis)) and bool(born) and bool(children(worker.pid))


def seconds_to_stop(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    process.terminate()
    process.wait(timeout=60)
    return time.monotonic() - started


def test_an_idle_worker_stops_warm_and_its_scheduler_releases_its_locks(
    own_redis: RedisServer, start_worker: StartWorker
) -> None:
    redis = Redis.from_url(own_redis.url)
    worker = start_worker(stop_seconds=60)  # never interrupted: its tear-down runs whole
    wait_until(lambda: scheduler_running(redis, worker))
    scheduler = children(worker.pid)[0]
    seconds_to_stop(worker)
    assert worker.returncode == 0  # a warm stop (the watchdog's cold stop exits with 1)
    assert not alive(scheduler)
    assert scheduler_locks(redis) == []  # the next worker's scheduler need not wait a minute


def test_a_worker_busy_with_a_long_job_stops_within_its_bound(
    own_redis: RedisServer, start_worker: StartWorker, worker_log: Path
) -> None:
    redis = Redis.from_url(own_redis.url)
    job = Queue("default", connection=redis).enqueue("time.sleep", 300, job_timeout=600)
    worker = start_worker()
    wait_until(lambda: Job.fetch(job.id, connection=redis).get_status() == JobStatus.STARTED)
    scheduler = children(worker.pid)[0]
    # The job would hold RQ's warm shutdown for five minutes; the bound is 2 s plus 1.
    assert seconds_to_stop(worker) < STOP_SECONDS + 1 + LOADED_MACHINE_SECONDS
    assert "still busy 2 s after the stop request; interrupting its job" in worker_log.read_text()
    assert not alive(scheduler)
    # Interrupted, not lost in "started": RQ recorded it failed (its retry or a sweep hands
    # such a job on).
    assert Job.fetch(job.id, connection=redis).get_status() == JobStatus.FAILED


def test_a_killed_worker_takes_its_scheduler_with_it(
    own_redis: RedisServer, start_worker: StartWorker
) -> None:
    redis = Redis.from_url(own_redis.url)
    worker = start_worker()
    wait_until(lambda: scheduler_running(redis, worker))
    scheduler = children(worker.pid)[0]
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    wait_until(lambda: not alive(scheduler), seconds=20)
    wait_until(lambda: scheduler_locks(redis) == [], seconds=20)  # it stopped, not killed


def test_a_worker_blocked_outside_python_still_stops_within_its_bound(
    own_redis: RedisServer, start_worker: StartWorker, worker_log: Path, tmp_path: Path
) -> None:
    """A job waiting in SQLite's C busy loop runs no Python instruction, so no signal handler
    can interrupt it: a second after the cold stop the worker exits regardless."""
    redis = Redis.from_url(own_redis.url)
    locked = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(locked, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the job's BEGIN IMMEDIATE waits on this
        job = Queue("default", connection=redis).enqueue(
            "tests.integration.blocking_jobs.wait_on_a_locked_sqlite", str(locked), job_timeout=600
        )
        worker = start_worker()
        wait_until(lambda: Job.fetch(job.id, connection=redis).get_status() == JobStatus.STARTED)
        scheduler = children(worker.pid)[0]
        assert seconds_to_stop(worker) < STOP_SECONDS + 1 + LOADED_MACHINE_SECONDS
    finally:
        holder.close()
    assert worker.returncode == 1
    assert "blocked outside Python; exiting without tear-down" in worker_log.read_text()
    wait_until(lambda: not alive(scheduler), seconds=20)
