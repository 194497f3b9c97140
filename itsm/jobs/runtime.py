"""What a worker process needs to run jobs: settings, one database, one Redis, the channels;
each built once per process."""

from __future__ import annotations

from functools import cache

from redis import Redis
from sqlalchemy import Engine

from itsm import outbox
from itsm.config import Settings
from itsm.db import Database, make_engine, ping_when_idle
from itsm.jobs import inline_enqueuer, rq_enqueuer
from notifications import Channel, ConsoleChannel, TwilioSms, WeChatRobot, WeChatWorkApp


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def redis() -> Redis:
    return Redis.from_url(settings().redis_url)


@cache
def database() -> Database:
    db = Database(settings().database_url)
    url = settings().redis_url
    outbox.install(db.sessions, rq_enqueuer(redis()) if url else inline_enqueuer())
    return db


IDLE_BEFORE_PING_SECONDS = 2.0


@cache
def single_statements() -> Engine:
    """An engine for steps that are one statement each (a delivery's claim and its record).

    On PostgreSQL it has a small pool of its own, in autocommit, so each step is one round
    trip instead of BEGIN, the statement and COMMIT, and it pings only a connection that sat
    idle (a busy worker would otherwise ping before every message). SQLite keeps the
    database's engine and its transactions (BEGIN IMMEDIATE)."""
    engine = database().engine
    if engine.dialect.name != "postgresql":
        return engine
    own = make_engine(
        settings().database_url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_size=1,
        max_overflow=2,
    )
    return ping_when_idle(own, IDLE_BEFORE_PING_SECONDS)


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


@cache
def channels() -> dict[str, Channel]:
    """The adapters for each channel; a provider that is not configured logs to the console."""
    s = settings()
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
            tokens=RedisTokenStore(redis()),
        )
        robot = WeChatRobot(api_base=s.wechat_api_base)
    return {"sms": sms, "wechat_app": app, "wechat_robot": robot}
