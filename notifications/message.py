"""What a channel sends, what it answers, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    """One notification to one recipient on one channel."""

    channel: str  # "sms" | "wechat_app" | "wechat_robot" | "console"
    recipient: str  # phone, WeChat Work userid, robot webhook key, or anything (console)
    body: str  # rendered text or markdown
    format: str = "text"  # "text" | "textcard" | "markdown"
    title: str = ""  # textcard title
    url: str = ""  # textcard link
    status_callback: str = ""  # sms: Twilio StatusCallback URL ("" = none)


@dataclass(frozen=True)
class Receipt:
    """The provider's acceptance of a message."""

    provider_id: str  # Twilio Message SID, WeChat msgid, "" when the provider gives none
    status: str  # the provider's initial status: "queued", "sent", "delivered"...


class DeliveryError(Exception):
    """A provider refused or could not take a message; `code` and `detail` are the provider's."""

    retryable: bool = False

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class RetryableDeliveryError(DeliveryError):
    """Worth trying again later: timeouts, connection errors, 5xx, rate limits, stale token."""

    retryable = True


class FinalDeliveryError(DeliveryError):
    """Trying again will not help: invalid number, unknown user, bad request, auth refused."""

    retryable = False


class Channel(Protocol):
    """An adapter to one provider."""

    name: str

    def send(self, message: Message) -> Receipt: ...
