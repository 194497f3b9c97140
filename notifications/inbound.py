"""Inbound provider calls: Twilio status callbacks and WeChat Work callback messages."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.parsers.expat import ExpatError

from twilio.request_validator import RequestValidator
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException


class InvalidSignature(Exception):
    """A callback whose signature or encryption does not check out."""


# What wechatpy and the XML parsers raise on a forged, truncated or garbled callback.
_UNREADABLE = (
    WeChatException,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    struct.error,
    ExpatError,
    ElementTree.ParseError,
)


def twilio_signature_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str
) -> bool:
    """Whether `signature` (X-Twilio-Signature) signs this URL and form.

    `url` must be the public URL Twilio called (https behind a proxy), query string included.
    """
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


@dataclass(frozen=True)
class InboundMessage:
    """A message a WeChat Work user sent to the application."""

    msg_id: str
    from_user: str
    msg_type: str
    content: str
    created_at: datetime  # UTC aware
    agent_id: str


class WeChatCallback:
    """Verifies and decrypts WeChat Work callbacks (安全模式) with wechatpy's crypto."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plain echostr to answer the URL verification GET with."""
        try:
            return str(self._crypto.check_signature(msg_signature, timestamp, nonce, echostr))
        except _UNREADABLE as error:
            raise InvalidSignature(str(error)) from error

    def decrypt(
        self, body_xml: bytes | str, msg_signature: str, timestamp: str, nonce: str
    ) -> InboundMessage:
        """The message in an encrypted callback POST body."""
        try:
            plain = self._crypto.decrypt_message(body_xml, msg_signature, timestamp, nonce)
            root = ElementTree.fromstring(plain)
        except _UNREADABLE as error:
            raise InvalidSignature(str(error) or type(error).__name__) from error

        def field(name: str) -> str:
            return (root.findtext(name) or "").strip()

        created = field("CreateTime")
        return InboundMessage(
            msg_id=field("MsgId"),
            from_user=field("FromUserName"),
            msg_type=field("MsgType"),
            content=field("Content"),
            created_at=datetime.fromtimestamp(int(created) if created.isdigit() else 0, UTC),
            agent_id=field("AgentID"),
        )

    def encrypt(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        """The encrypted, signed envelope for `reply_xml`."""
        return str(self._crypto.encrypt_message(reply_xml, nonce, timestamp))
