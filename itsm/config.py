"""Settings, read only from ITSM_* environment variables, in one object."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE_PATH = Path.cwd() / "instance"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ITSM_{name}", default)


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads; `from_env()` is the only place they come from."""

    instance_path: Path = DEFAULT_INSTANCE_PATH
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    timezone: str = "Asia/Shanghai"
    max_attachment_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"
    public_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    wechat_corp_id: str = ""
    wechat_agent_id: str = ""
    wechat_secret: str = ""
    wechat_api_base: str = "https://qyapi.weixin.qq.com"
    wechat_token: str = ""
    wechat_encoding_aes_key: str = ""
    notify_max_attempts: int = 5
    notify_retry_backoff: str = "30,120,600,1800"
    notify_lease_seconds: int = 120
    worker_stop_seconds: int = 5
    signin_max_failures: int = 5
    signin_window_seconds: int = 900
    session_idle_seconds: int = 12 * 3600
    session_max_seconds: int = 7 * 24 * 3600
    secure_cookies: str = ""
    """"true" or "false"; empty: secure when `public_url` is https."""
    trusted_proxies: int = 0
    """How many reverse proxies in front set X-Forwarded-For, -Proto and -Host."""
    max_backdate_hours: int = 72
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        instance_path = Path(_env("INSTANCE_PATH", str(DEFAULT_INSTANCE_PATH))).resolve()
        values: dict[str, Any] = {
            "instance_path": instance_path,
            "database_url": _env("DATABASE_URL", f"sqlite:///{instance_path / 'itsm.sqlite3'}"),
            "redis_url": _env("REDIS_URL", cls.redis_url),
            "secret_key": _env("SECRET_KEY", ""),
            "timezone": _env("TIMEZONE", cls.timezone),
            "max_attachment_bytes": _whole_number(
                "max_attachment_bytes", _env("MAX_ATTACHMENT_BYTES", str(cls.max_attachment_bytes))
            ),
            "log_level": _env("LOG_LEVEL", cls.log_level),
        }
        for f in fields(cls):
            if f.name not in values and f.name != "extra":
                raw = _env(f.name.upper(), str(f.default))
                values[f.name] = _whole_number(f.name, raw) if f.type in (int, "int") else raw
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known})
        values["extra"] = {k: v for k, v in overrides.items() if k not in known}
        if not values["secret_key"]:
            values["secret_key"] = _instance_secret(Path(values["instance_path"]))
        return cls(**values)

    def __post_init__(self) -> None:
        """Refuse, at start, settings a worker would only trip over later."""
        if self.notify_max_attempts < 1:
            raise ValueError("ITSM_NOTIFY_MAX_ATTEMPTS must be at least 1")
        if self.notify_lease_seconds < 1:
            raise ValueError("ITSM_NOTIFY_LEASE_SECONDS must be at least 1")
        if self.worker_stop_seconds < 1:
            raise ValueError("ITSM_WORKER_STOP_SECONDS must be at least 1")
        if self.session_idle_seconds < 60 or self.session_max_seconds < 60:
            raise ValueError(
                "ITSM_SESSION_IDLE_SECONDS and ITSM_SESSION_MAX_SECONDS must be 60 or more"
            )
        if self.secure_cookies.strip().lower() not in _SWITCH:
            raise ValueError(
                f"ITSM_SECURE_COOKIES must be true, false or empty, not {self.secure_cookies!r}"
            )
        if self.trusted_proxies < 0:
            raise ValueError("ITSM_TRUSTED_PROXIES must be 0 or more")
        if self.max_backdate_hours < 1:
            raise ValueError("ITSM_MAX_BACKDATE_HOURS must be at least 1")
        parts = [part.strip() for part in self.notify_retry_backoff.split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise ValueError(
                "ITSM_NOTIFY_RETRY_BACKOFF must be seconds separated by commas (e.g. 30,120,600), "
                f"not {self.notify_retry_backoff!r}"
            )

    @property
    def attachments_path(self) -> Path:
        return self.instance_path / "attachments"

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies are sent over HTTPS only: ITSM_SECURE_COOKIES, else the public URL's
        scheme."""
        switch = _SWITCH[self.secure_cookies.strip().lower()]
        return self.public_url.lower().startswith("https:") if switch is None else switch

    @property
    def max_backdate(self) -> timedelta:
        """How long before a ticket is opened its call may have started (admins: any time)."""
        return timedelta(hours=self.max_backdate_hours)

    @property
    def retry_backoff(self) -> tuple[int, ...]:
        """Seconds to wait before each retry of a notification (the last repeats)."""
        return tuple(int(part) for part in self.notify_retry_backoff.split(",") if part.strip())


_SWITCH = {"": None, "true": True, "1": True, "false": False, "0": False}


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"ITSM_{name.upper()} must be a whole number, not {raw!r}") from None


def _instance_secret(instance_path: Path) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts in a demo."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
