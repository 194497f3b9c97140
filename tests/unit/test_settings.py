"""ITSM_* settings: a value a worker would only trip over later is refused at start, naming
the setting and what it should be."""

from __future__ import annotations

import pytest

from itsm.config import Settings


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("NOTIFY_MAX_ATTEMPTS", "three", "ITSM_NOTIFY_MAX_ATTEMPTS must be a whole number"),
        ("NOTIFY_MAX_ATTEMPTS", "0", "ITSM_NOTIFY_MAX_ATTEMPTS must be at least 1"),
        ("NOTIFY_LEASE_SECONDS", "0", "ITSM_NOTIFY_LEASE_SECONDS must be at least 1"),
        ("WORKER_STOP_SECONDS", "0", "ITSM_WORKER_STOP_SECONDS must be at least 1"),
        ("WORKER_STOP_SECONDS", "soon", "ITSM_WORKER_STOP_SECONDS must be a whole number"),
        ("NOTIFY_RETRY_BACKOFF", "30,2m", "ITSM_NOTIFY_RETRY_BACKOFF must be seconds"),
        ("NOTIFY_RETRY_BACKOFF", "-5", "ITSM_NOTIFY_RETRY_BACKOFF must be seconds"),
        ("MAX_ATTACHMENT_BYTES", "10MB", "ITSM_MAX_ATTACHMENT_BYTES must be a whole number"),
        ("SECURE_COOKIES", "maybe", "ITSM_SECURE_COOKIES must be true, false or empty"),
        ("SESSION_IDLE_SECONDS", "0", "ITSM_SESSION_IDLE_SECONDS and .* must be 60 or more"),
        ("SESSION_MAX_SECONDS", "12h", "ITSM_SESSION_MAX_SECONDS must be a whole number"),
        ("TRUSTED_PROXIES", "-1", "ITSM_TRUSTED_PROXIES must be 0 or more"),
        ("MAX_BACKDATE_HOURS", "0", "ITSM_MAX_BACKDATE_HOURS must be at least 1"),
        ("MAX_BACKDATE_HOURS", "3d", "ITSM_MAX_BACKDATE_HOURS must be a whole number"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path, name: str, value: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ITSM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(f"ITSM_{name}", value)
    with pytest.raises(ValueError, match=says):
        Settings.from_env()


def test_the_retry_back_off_is_read_as_seconds(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ITSM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ITSM_NOTIFY_RETRY_BACKOFF", " 30, 120 ,600,")
    monkeypatch.setenv("ITSM_NOTIFY_MAX_ATTEMPTS", "4")
    settings = Settings.from_env()
    assert settings.retry_backoff == (30, 120, 600) and settings.notify_max_attempts == 4


def test_a_call_may_be_backdated_72_hours_unless_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ITSM_INSTANCE_PATH", str(tmp_path))
    assert Settings.from_env().max_backdate_hours == 72
    monkeypatch.setenv("ITSM_MAX_BACKDATE_HOURS", "24")
    assert Settings.from_env().max_backdate_hours == 24
