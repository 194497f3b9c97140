"""WeChat Work: application messages (text, textcard, markdown) and group robots.

Application messages go through wechatpy 1.8's `wechatpy.enterprise.WeChatClient` (its message
API builds the payloads). Three of its habits are overridden rather than patched: the base
address is an instance `API_BASE_URL`; `fetch_access_token()` (which hard-codes the real token
address and sends no timeout) is ours; and `auto_retry` is off, because it refetches and resends
without limit, while we refetch once. The token lives in a `TokenStore`, so processes can share
it (the delivery side may back it with Redis). wechatpy 1.8 has no group robot API, so the
robot is a plain `requests` POST.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from notifications.message import (
    Channel,
    DeliveryError,
    FinalDeliveryError,
    Message,
    Receipt,
    RetryableDeliveryError,
)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / token, expired token
RETRYABLE_ERRORS = frozenset({-1, 45009, 45033, 45047})  # busy, rate limits
# Final ones include 81013 (all recipients invalid), 40031/60111/82001 (user unknown),
# 93000 (robot key invalid), 40008/44004 (bad message): anything not listed above.


class TokenStore(Protocol):
    """Where access tokens are kept between sends."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...


class MemoryTokenStore(TokenStore):
    """A thread-safe dictionary whose entries expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[1] <= self._clock():
                del self._items[key]
                return None
            return item[0]

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._items[key] = (value, self._clock() + ttl_seconds)


def token_ttl(expires_in: int) -> int:
    """Keep a token for its lifetime less a margin (5 minutes, or a fifth of short ones)."""
    return max(1, expires_in - min(300, expires_in // 5))


class _TokenRejected(Exception):
    def __init__(self, error: DeliveryError) -> None:
        super().__init__(str(error))
        self.error = error


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with our base address and our token source."""

    def __init__(
        self, owner: WeChatWorkApp, corp_id: str, secret: str, api_base: str, timeout: float
    ) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base + "/cgi-bin/"
        self._owner = owner
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    @property
    def access_token(self) -> str:
        return self._owner.access_token()

    def fetch_access_token(self) -> dict[str, Any]:
        return self._owner.fetch_access_token()


class WeChatWorkApp(Channel):
    """Application messages to one WeChat Work user (touser = message.recipient)."""

    name = "wechat_app"

    def __init__(
        self,
        corp_id: str,
        agent_id: int | str,
        secret: str,
        api_base: str = DEFAULT_API_BASE,
        tokens: TokenStore | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = int(agent_id)
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.tokens: TokenStore = tokens if tokens is not None else MemoryTokenStore()
        secret_hash = hashlib.sha256(secret.encode()).hexdigest()[:16]
        self.token_key = f"wechat_work:{corp_id}:{secret_hash}"
        self._secret = secret
        self._fetch_lock = threading.Lock()
        self._client = _Client(self, corp_id, secret, self.api_base, timeout)

    def send(self, message: Message) -> Receipt:
        if message.format not in ("text", "textcard", "markdown"):
            raise FinalDeliveryError("bad_message", f"unknown format {message.format!r}")
        if message.format == "textcard" and not message.url:
            raise FinalDeliveryError("bad_message", "a textcard needs a url")
        token = self.access_token()  # after the checks: a bad message fails as itself
        try:
            result = self._send_once(message)
        except _TokenRejected:
            self.refresh_token(stale=token)
            try:
                result = self._send_once(message)
            except _TokenRejected as again:
                error = again.error
                raise RetryableDeliveryError(error.code, error.detail) from again
        invalid = str(result.get("invaliduser") or "")
        if invalid:
            raise FinalDeliveryError("invaliduser", f"unknown or invisible user: {invalid}")
        return Receipt(provider_id=str(result.get("msgid") or ""), status="sent")

    def _send_once(self, message: Message) -> dict[str, Any]:
        api = self._client.message
        user = message.recipient
        try:
            if message.format == "text":
                result = api.send_text(self.agent_id, user, message.body)
            elif message.format == "textcard":
                title = message.title or message.body[:30]
                result = api.send_text_card(self.agent_id, user, title, message.body, message.url)
            else:
                result = api.send_markdown(self.agent_id, user, message.body)
        except WeChatClientException as error:
            typed = _client_error(error)
            if error.errcode is not None and int(error.errcode) in TOKEN_ERRORS:
                raise _TokenRejected(typed) from error
            raise typed from error
        except requests.RequestException as error:
            raise _network_error(error) from error
        if not isinstance(result, dict):
            raise RetryableDeliveryError("bad_answer", "the answer is not JSON")
        return result

    def access_token(self) -> str:
        """The cached token, fetched when there is none."""
        token = self.tokens.get(self.token_key)
        if token:
            return token
        with self._fetch_lock:
            token = self.tokens.get(self.token_key)
            if token:
                return token
            return str(self.fetch_access_token()["access_token"])

    def refresh_token(self, stale: str) -> str:
        """A new token in place of `stale`, unless another thread already replaced it."""
        with self._fetch_lock:
            token = self.tokens.get(self.token_key)
            if token and token != stale:
                return token
            return str(self.fetch_access_token()["access_token"])

    def fetch_access_token(self) -> dict[str, Any]:
        """GET /cgi-bin/gettoken and store the token for its lifetime less a margin."""
        try:
            response = self._client._http.get(
                f"{self.api_base}/cgi-bin/gettoken",
                params={"corpid": self.corp_id, "corpsecret": self._secret},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise _network_error(error) from error
        result = _json_answer(response)
        errcode = int(result.get("errcode", 0))
        if errcode != 0:
            detail = str(result.get("errmsg", ""))
            if errcode in RETRYABLE_ERRORS:
                raise RetryableDeliveryError(str(errcode), detail)
            raise FinalDeliveryError(str(errcode), f"gettoken refused: {detail}")
        token = str(result.get("access_token") or "")
        if not token:
            raise RetryableDeliveryError("bad_answer", "gettoken answered without a token")
        self.tokens.set(self.token_key, token, token_ttl(int(result.get("expires_in", 7200))))
        return result

    def close(self) -> None:
        """Release the pooled connections."""
        self._client._http.close()


class WeChatRobot(Channel):
    """A group robot: POST {api_base}/cgi-bin/webhook/send?key=<message.recipient>."""

    name = "wechat_robot"

    def __init__(self, api_base: str = DEFAULT_API_BASE, timeout: float = 10.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    def send(self, message: Message) -> Receipt:
        if message.format == "markdown":
            payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": message.body}}
        elif message.format == "text":
            payload = {"msgtype": "text", "text": {"content": message.body}}
        else:
            raise FinalDeliveryError(
                "bad_message", f"a robot sends text or markdown, not {message.format!r}"
            )
        try:
            response = self._http.post(
                f"{self.api_base}/cgi-bin/webhook/send",
                params={"key": message.recipient},
                json=payload,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise _network_error(error) from error
        result = _json_answer(response)
        errcode = int(result.get("errcode", 0))
        if errcode != 0:
            raise _errcode_error(errcode, str(result.get("errmsg", "")))
        return Receipt(provider_id=str(result.get("msgid") or ""), status="sent")

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.close()


def _json_answer(response: requests.Response) -> dict[str, Any]:
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableDeliveryError(f"http_{response.status_code}", response.text[:200])
    if response.status_code >= 400:
        raise FinalDeliveryError(f"http_{response.status_code}", response.text[:200])
    try:
        result = response.json()
    except ValueError as error:
        raise RetryableDeliveryError("bad_answer", "the answer is not JSON") from error
    if not isinstance(result, dict):
        raise RetryableDeliveryError("bad_answer", "the answer is not a JSON object")
    return result


def _errcode_error(errcode: int, detail: str) -> DeliveryError:
    if errcode in RETRYABLE_ERRORS or errcode in TOKEN_ERRORS:
        return RetryableDeliveryError(str(errcode), detail)
    return FinalDeliveryError(str(errcode), detail)


def _client_error(error: WeChatClientException) -> DeliveryError:
    if error.errcode is None:  # an HTTP error status
        response = error.response
        status = int(response.status_code) if response is not None else 0
        text = response.text[:200] if response is not None else ""
        if status == 429 or status >= 500 or status == 0:
            return RetryableDeliveryError(f"http_{status}", text)
        return FinalDeliveryError(f"http_{status}", text)
    return _errcode_error(int(error.errcode), str(error.errmsg))


# A URL's query in an error's text: it holds the corp secret (gettoken), the access token
# (send) or the robot key (webhook), and the text is stored, logged and shown in the log.
_QUERY = re.compile(r"\?\S*")


def _network_error(error: requests.RequestException) -> RetryableDeliveryError:
    code = "timeout" if isinstance(error, requests.Timeout) else "connection_error"
    return RetryableDeliveryError(code, _QUERY.sub("?…", str(error)))
