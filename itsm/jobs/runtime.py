"""A worker process's runtime (itsm/runtime.py, role `worker`), built once, for job functions
that take ids and nothing else."""

from __future__ import annotations

from functools import cache

from redis import Redis
from sqlalchemy import Engine

from itsm import caches
from itsm.config import Settings
from itsm.db import Database
from itsm.runtime import Runtime
from notifications import Channel


@cache
def current() -> Runtime:
    return Runtime(Settings.from_env(), "worker")


def reset() -> None:
    """Forget this process's runtime (tests that change ITSM_* settings between jobs)."""
    if current.cache_info().currsize:
        current().dispose()
    current.cache_clear()


caches.register("worker-runtime", "a worker's settings, database, Redis and channels", reset)


def settings() -> Settings:
    return current().settings


def redis() -> Redis:
    return current().redis


def database() -> Database:
    return current().database


def single_statements() -> Engine:
    return current().single_statements


def channels() -> dict[str, Channel]:
    return current().channels
