"""Provider callbacks: Twilio's delivery receipts and WeChat Work's messages in.

Neither carries our API token; each is trusted only by its provider's signature. Both answer
at once: anything slow happens in a job after the answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from itsm import clock
from itsm.config import Settings
from itsm.notify.services import deliveries, wechat_inbound
from notifications import InvalidSignature, WeChatCallback, twilio_signature_valid

blp = Blueprint("hooks", __name__, url_prefix="/hooks")


def _settings() -> Settings:
    return current_app.config["ITSM_SETTINGS"]  # type: ignore[no-any-return]


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _session() -> Session:
    return current_app.extensions["itsm.db"].sessions()  # type: ignore[no-any-return]


def _signed_url() -> str:
    """The address Twilio signed: the public one when we sit behind a proxy."""
    public = _settings().public_url.rstrip("/")
    if not public:
        return request.url
    query = request.query_string.decode()
    return f"{public}{request.path}" + (f"?{query}" if query else "")


@blp.post("/twilio/status")
def twilio_status() -> Response:
    """A Twilio status callback: moves the SMS's record forward (never back)."""
    settings = _settings()
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict()
    if not settings.twilio_auth_token or not twilio_signature_valid(
        settings.twilio_auth_token, _signed_url(), params, signature
    ):
        return _text("forbidden: the X-Twilio-Signature does not match this request", 403)
    sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    if not sid or not status:
        return _text("MessageSid and MessageStatus are required", 400)
    with _session() as session, session.begin():
        deliveries.apply_sms_status(
            session, sid[:64], status[:32], params.get("ErrorCode", ""), clock.now()
        )
    return _text("", 204)


def _callback() -> WeChatCallback | None:
    s = _settings()
    if not (s.wechat_token and s.wechat_encoding_aes_key and s.wechat_corp_id):
        return None
    return WeChatCallback(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_corp_id)


def _signature_args() -> tuple[str, str, str] | None:
    args = request.args
    values = (args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    return values if all(values) else None


@blp.route("/wechat", methods=["GET", "POST"])
def wechat() -> Any:
    """WeChat Work's callback: the URL handshake (GET) and encrypted messages (POST)."""
    callback = _callback()
    if callback is None:
        return _text("the WeChat Work callback is not configured on this server", 404)
    signed = _signature_args()
    if signed is None:
        return _text("msg_signature, timestamp and nonce are required", 400)
    try:
        if request.method == "GET":
            echo = request.args.get("echostr", "")
            if not echo:
                return _text("echostr is required", 400)
            return _text(callback.verify_url(signed[0], signed[1], signed[2], echo))
        message = callback.decrypt(request.get_data(), *signed)
    except InvalidSignature:
        return _text("forbidden: the message signature does not match", 403)
    with _session() as session, session.begin():
        wechat_inbound.receive(session, message, clock.now())
    return _text("")  # an empty answer: WeChat sends no reply to the user and does not retry
