"""The one composition root: what a process of the service is built from.

`Runtime` builds, once per process and only when first asked, the settings' database, Redis,
the outbox hand-over and the notification channels. The web app (`create_app`), `itsm worker`,
`itsm cron` and the other commands each make one, for their `role`:

- `web`: Redis with a 1 s connect and 2 s read timeout and no retries (a request must not wait
  on a Redis that hangs, and one retried EXEC could push a job twice); no Redis configured:
  outbox rows wait for `itsm cron`'s redispatch.
- `worker`: Redis as redis-py makes it; no Redis configured: jobs run on timer threads of the
  process (`itsm demo`).
- `command`: the database alone; outbox rows wait for the redispatch.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from itsm import areas, outbox
from itsm.config import Settings
from itsm.db import Database, make_engine, ping_when_idle
from itsm.jobs import inline_enqueuer, rq_enqueuer
from notifications import Channel, ConsoleChannel, TwilioSms, WeChatRobot, WeChatWorkApp

Role = Literal["web", "worker", "command"]
IDLE_BEFORE_PING_SECONDS = 2.0


class Runtime:
    """Settings and what is built from them, each once, for one process."""

    def __init__(
        self, settings: Settings, role: Role, enqueue: outbox.Enqueue | None = None
    ) -> None:
        areas.import_models()  # every mapper's relationships resolve, whatever ran first
        areas.import_registrations()  # every kind's deadlines fire, in any process
        self.settings = settings
        self.role = role
        self._enqueue = enqueue

    @cached_property
    def redis(self) -> Redis:
        if self.role == "web":
            return Redis.from_url(
                self.settings.redis_url,
                socket_connect_timeout=1,
                socket_timeout=2,
                retry=Retry(NoBackoff(), 0),
            )
        return Redis.from_url(self.settings.redis_url)

    @cached_property
    def database(self) -> Database:
        self.settings.instance_path.mkdir(parents=True, exist_ok=True)
        database = Database(self.settings.database_url)
        enqueue = self._enqueue
        if enqueue is None and self.role != "command":
            if self.settings.redis_url:
                enqueue = rq_enqueuer(self.redis)
            elif self.role == "worker":
                enqueue = inline_enqueuer()
        if enqueue is not None:
            outbox.install(database.sessions, enqueue)
        return database

    @cached_property
    def single_statements(self) -> Engine:
        """An engine for steps that are one statement each (a delivery's claim and its record).

        On PostgreSQL it has a small pool of its own, in autocommit, so each step is one round
        trip instead of BEGIN, the statement and COMMIT, and it pings only a connection that
        sat idle (a busy worker would otherwise ping before every message). SQLite keeps the
        database's engine and its transactions (BEGIN IMMEDIATE)."""
        engine = self.database.engine
        if engine.dialect.name != "postgresql":
            return engine
        own = make_engine(
            self.settings.database_url,
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            pool_size=1,
            max_overflow=2,
        )
        return ping_when_idle(own, IDLE_BEFORE_PING_SECONDS)

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """The adapters for each channel; a provider not configured logs to the console."""
        s = self.settings
        console = ConsoleChannel()
        sms: Channel = console
        if s.twilio_account_sid:
            sms = TwilioSms(
                s.twilio_account_sid,
                s.twilio_auth_token,
                from_=s.twilio_from,
                messaging_service_sid=s.twilio_messaging_service_sid,
                api_base=s.twilio_api_base,
            )
        app: Channel = console
        robot: Channel = console
        if s.wechat_corp_id:
            app = WeChatWorkApp(
                s.wechat_corp_id,
                s.wechat_agent_id,
                s.wechat_secret,
                api_base=s.wechat_api_base,
                tokens=RedisTokenStore(self.redis),
            )
            robot = WeChatRobot(api_base=s.wechat_api_base)
        return {"sms": sms, "wechat_app": app, "wechat_robot": robot}

    def dispose(self) -> None:
        """Close what was built (connection pools); the next use builds it anew."""
        built = vars(self)
        if "single_statements" in built and built["single_statements"] is not self.database.engine:
            built["single_statements"].dispose()
        if "database" in built:
            built["database"].dispose()
        for name in ("redis", "database", "single_statements", "channels"):
            built.pop(name, None)


class RedisTokenStore:
    """WeChat access tokens shared by every worker, so they fetch one per expiry, not each."""

    def __init__(self, connection: Redis, prefix: str = "itsm:wechat-token:") -> None:
        self.connection = connection
        self.prefix = prefix

    def get(self, key: str) -> str | None:
        value = self.connection.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.connection.set(self.prefix + key, value, ex=max(1, ttl_seconds))
