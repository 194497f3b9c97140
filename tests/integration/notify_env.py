"""A worker's environment for notification tests: providers played by the local stub."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from itsm.jobs import runtime
from tests.provider_stub import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    WECHAT_CORP_ID,
    WECHAT_SECRET,
    ProviderStub,
)

PUBLIC_URL = "https://itsm.example.test"
WECHAT_TOKEN = "callbacktoken"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def provider_env(
    database_url: str, redis_url: str, stub: ProviderStub, instance: Path, **more: str
) -> dict[str, str]:
    """ITSM_* settings that point every provider at the stub."""
    return {
        "ITSM_DATABASE_URL": database_url,
        "ITSM_REDIS_URL": redis_url,
        "ITSM_INSTANCE_PATH": str(instance),
        "ITSM_PUBLIC_URL": PUBLIC_URL,
        "ITSM_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "ITSM_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "ITSM_TWILIO_FROM": "+15005550006",
        "ITSM_TWILIO_API_BASE": stub.url,
        "ITSM_WECHAT_CORP_ID": WECHAT_CORP_ID,
        "ITSM_WECHAT_AGENT_ID": "1000002",
        "ITSM_WECHAT_SECRET": WECHAT_SECRET,
        "ITSM_WECHAT_API_BASE": stub.url,
        "ITSM_WECHAT_TOKEN": WECHAT_TOKEN,
        "ITSM_WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY,
        **{f"ITSM_{k.upper()}": v for k, v in more.items()},
    }


@contextmanager
def worker_runtime(env: dict[str, str]) -> Iterator[None]:
    """Run job functions in this process as a worker with `env` would."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    runtime.reset()
    try:
        yield
    finally:
        runtime.reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
