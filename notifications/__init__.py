"""Notification channels (Twilio SMS, WeChat Work application and robot, console) and texts.

Pure: no Flask, SQLAlchemy or Redis; nothing from itsm.
"""

from notifications.console import ConsoleChannel
from notifications.inbound import (
    InboundMessage,
    InvalidSignature,
    WeChatCallback,
    twilio_signature_valid,
)
from notifications.message import (
    Channel,
    DeliveryError,
    FinalDeliveryError,
    Message,
    Receipt,
    RetryableDeliveryError,
)
from notifications.rendering import EVENTS, RenderedText, render
from notifications.sms import TwilioSms
from notifications.wechat import MemoryTokenStore, TokenStore, WeChatRobot, WeChatWorkApp

__all__ = [
    "EVENTS",
    "Channel",
    "ConsoleChannel",
    "DeliveryError",
    "FinalDeliveryError",
    "InboundMessage",
    "InvalidSignature",
    "MemoryTokenStore",
    "Message",
    "Receipt",
    "RenderedText",
    "RetryableDeliveryError",
    "TokenStore",
    "TwilioSms",
    "WeChatCallback",
    "WeChatRobot",
    "WeChatWorkApp",
    "render",
    "twilio_signature_valid",
]
