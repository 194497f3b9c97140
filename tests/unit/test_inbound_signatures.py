"""Inbound provider calls checked in `notifications/inbound.py`: WeChat Work callbacks are read
only when signed and encrypted for our corp, Twilio callbacks only with a signature over the URL
Twilio called and the form it sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from twilio.request_validator import RequestValidator
from wechatpy.enterprise.crypto import WeChatCrypto

from notifications import InvalidSignature, WeChatCallback, twilio_signature_valid

TOKEN = "callbacktoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP = "wwcorp000000000001"
CALLBACK = WeChatCallback(TOKEN, AES_KEY, CORP)
PLAIN = (
    f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName>"
    "<FromUserName><![CDATA[li.na]]></FromUserName><CreateTime>1764561600</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ 住院部打印机卡纸 ]]></Content>"
    "<MsgId>7000000000000000001</MsgId><AgentID>1000002</AgentID></xml>"
)


def sealed(plain: str = PLAIN, crypto: WeChatCrypto | None = None) -> tuple[str, str]:
    """The POST body WeChat would send, and its msg_signature."""
    body = (crypto or WeChatCrypto(TOKEN, AES_KEY, CORP)).encrypt_message(plain, "n1", "1700")
    found = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", body)
    assert found is not None
    return body, found.group(1)


def test_a_signed_message_is_decrypted_into_its_fields() -> None:
    body, signature = sealed()
    message = CALLBACK.decrypt(body, signature, "1700", "n1")
    assert message.msg_id == "7000000000000000001"
    assert message.from_user == "li.na" and message.msg_type == "text"
    assert message.content == "住院部打印机卡纸"
    assert message.created_at == datetime(2025, 12, 1, 4, 0, tzinfo=UTC)
    assert message.agent_id == "1000002"


@pytest.mark.parametrize("part", ["signature", "timestamp", "nonce"])
def test_a_message_whose_signature_does_not_match_is_refused(part: str) -> None:
    body, signature = sealed()
    args = {"signature": signature, "timestamp": "1700", "nonce": "n1"}
    args[part] = "0" * len(args[part])
    with pytest.raises(InvalidSignature):
        CALLBACK.decrypt(body, args["signature"], args["timestamp"], args["nonce"])


def test_a_message_encrypted_for_another_corp_is_refused() -> None:
    body, signature = sealed(crypto=WeChatCrypto(TOKEN, AES_KEY, "wwsomeoneelse00001"))
    with pytest.raises(InvalidSignature):
        CALLBACK.decrypt(body, signature, "1700", "n1")


def test_a_message_under_another_key_is_refused() -> None:
    other_key = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
    body, signature = sealed(crypto=WeChatCrypto(TOKEN, other_key, CORP))
    with pytest.raises(InvalidSignature):
        CALLBACK.decrypt(body, signature, "1700", "n1")


@pytest.mark.parametrize("body", ["", "not xml", "<xml><Encrypt>AAAA</Encrypt></xml>"])
def test_a_garbled_body_is_refused_not_an_error(body: str) -> None:
    with pytest.raises(InvalidSignature):
        CALLBACK.decrypt(body, "0" * 40, "1700", "n1")


def test_the_url_handshake_echoes_only_a_signed_echostr() -> None:
    # WeChat signs the echostr as it signs a message's Encrypt field.
    envelope, signature = sealed("echo-4711")
    echostr = re.search(r"<Encrypt><!\[CDATA\[(.+?)\]\]>", envelope)
    assert echostr is not None
    assert CALLBACK.verify_url(signature, "1700", "n1", echostr.group(1)) == "echo-4711"
    with pytest.raises(InvalidSignature):
        CALLBACK.verify_url("0" * 40, "1700", "n1", echostr.group(1))


TWILIO_TOKEN = "twilio-auth-token"
STATUS_URL = "https://itsm.example.test/hooks/twilio/status"
FORM = {"MessageSid": "SM0123", "MessageStatus": "delivered", "To": "+8613912345678"}


def test_a_twilio_callback_signed_over_its_url_and_form_is_accepted() -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(STATUS_URL, FORM)
    assert twilio_signature_valid(TWILIO_TOKEN, STATUS_URL, FORM, signature)


@pytest.mark.parametrize(
    ("token", "url", "form"),
    [
        ("another-token", STATUS_URL, FORM),
        (TWILIO_TOKEN, "http://itsm.example.test/hooks/twilio/status", FORM),
        (TWILIO_TOKEN, STATUS_URL, {**FORM, "MessageStatus": "failed"}),
    ],
    ids=["other-token", "other-address", "altered-form"],
)
def test_a_twilio_callback_signed_otherwise_is_refused(
    token: str, url: str, form: dict[str, str]
) -> None:
    signature = RequestValidator(token).compute_signature(url, form)
    assert not twilio_signature_valid(TWILIO_TOKEN, STATUS_URL, FORM, signature)


def test_a_twilio_callback_without_a_signature_is_refused() -> None:
    assert not twilio_signature_valid(TWILIO_TOKEN, STATUS_URL, FORM, "")
