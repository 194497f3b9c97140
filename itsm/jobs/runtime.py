"""What a worker process needs to run jobs: settings, one database, one Redis; built once."""

from __future__ import annotations

from functools import cache

from redis import Redis

from itsm import outbox
from itsm.config import Settings
from itsm.db import Database
from itsm.jobs import rq_enqueuer


@cache
def redis() -> Redis:
    return Redis.from_url(Settings.from_env().redis_url)


@cache
def database() -> Database:
    db = Database(Settings.from_env().database_url)
    outbox.install(db.sessions, rq_enqueuer(redis()))
    return db
