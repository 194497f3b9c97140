"""The SMS adapter through the real twilio client and its own HTTP transport, against the
local stub: what reaches the provider, and how each kind of failure is typed."""

from __future__ import annotations

import pytest

from notifications import FinalDeliveryError, Message, RetryableDeliveryError, TwilioSms
from tests.provider_stub import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ProviderStub
from tests.redis_server import free_port

TO = "+8613912345678"
TEXT = "【运维】工单 INC-2026-000001 已受理：收费系统无法打印发票"


def sms(api_base: str, token: str = TWILIO_AUTH_TOKEN, timeout: float = 5.0) -> TwilioSms:
    return TwilioSms(
        TWILIO_ACCOUNT_SID, token, from_="+15005550006", api_base=api_base, timeout=timeout
    )


def test_a_message_reaches_the_provider_with_its_fields_and_comes_back_with_a_sid(
    provider: ProviderStub,
) -> None:
    callback = "https://itsm.example.test/hooks/twilio/status"
    channel = sms(provider.url)
    receipt = channel.send(Message("sms", "13912345678", TEXT, status_callback=callback))
    [request] = provider.requests_to("twilio")
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json"
    assert request["body"] == {
        "To": TO,
        "From": "+15005550006",
        "Body": TEXT,
        "StatusCallback": callback,
    }
    assert request["headers"]["user-agent"].startswith("twilio-python/")
    assert receipt.provider_id.startswith("SM") and receipt.status == "queued"
    channel.send(Message("sms", TO, TEXT))  # the pooled connection is used again
    assert provider.counts()["sends"] == {TO: 2}
    channel.close()


def test_a_messaging_service_sends_without_a_from_number(provider: ProviderStub) -> None:
    service = "MG0123456789abcdef0123456789abcdef"
    channel = TwilioSms(
        TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, messaging_service_sid=service, api_base=provider.url
    )
    receipt = channel.send(Message("sms", TO, TEXT))
    [request] = provider.requests_to("twilio")
    assert request["body"] == {"To": TO, "MessagingServiceSid": service, "Body": TEXT}
    assert receipt.provider_id.startswith("SM")
    channel.close()


def test_neither_a_from_number_nor_a_messaging_service_is_refused() -> None:
    with pytest.raises(ValueError, match="from_ or messaging_service_sid"):
        TwilioSms(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)


@pytest.mark.parametrize(
    ("action", "error", "code"),
    [
        ("rate_limit", RetryableDeliveryError, "20429"),
        ("server_error", RetryableDeliveryError, "503"),
        ("invalid_recipient", FinalDeliveryError, "21211"),
    ],
)
def test_provider_refusals_are_typed(
    provider: ProviderStub, action: str, error: type[Exception], code: str
) -> None:
    provider.script(action, recipient=TO)
    with pytest.raises(error) as refused:
        sms(provider.url).send(Message("sms", TO, TEXT))
    assert refused.value.code == code  # type: ignore[attr-defined]


def test_a_wrong_auth_token_is_final(provider: ProviderStub) -> None:
    with pytest.raises(FinalDeliveryError) as refused:
        sms(provider.url, token="wrong").send(Message("sms", TO, TEXT))
    assert refused.value.code == "20003"


def test_a_provider_too_slow_to_answer_is_a_timeout(provider: ProviderStub) -> None:
    provider.script("delay", seconds=1.0)
    with pytest.raises(RetryableDeliveryError) as slow:
        sms(provider.url, timeout=0.2).send(Message("sms", TO, TEXT))
    assert slow.value.code == "timeout"


def test_nobody_listening_is_a_connection_error() -> None:
    with pytest.raises(RetryableDeliveryError) as refused:
        sms(f"http://127.0.0.1:{free_port()}").send(Message("sms", TO, TEXT))
    assert refused.value.code == "connection_error"


def test_the_proxy_of_the_environment_is_used(
    provider: ProviderStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", provider.url)  # the stub answers absolute-form requests too
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    receipt = sms("http://sms-gateway.invalid").send(Message("sms", TO, TEXT))
    assert receipt.provider_id.startswith("SM")
    assert provider.counts()["sends"] == {TO: 1}
