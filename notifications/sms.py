"""SMS through Twilio's official client, pointed at any base address.

twilio 9 has no base-URL setting (`edge`/`region` only rewrite `*.twilio.com`), so a
`TwilioHttpClient` subclass rewrites the scheme and host of every request: tests, proxies and
private gateways work without patching the library.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.message import (
    Channel,
    DeliveryError,
    FinalDeliveryError,
    Message,
    Receipt,
    RetryableDeliveryError,
)

TWILIO_HOST_SUFFIX = "twilio.com"
# Twilio error codes that are worth a later retry although the HTTP status is 4xx.
RETRYABLE_CODES = frozenset({20429, 21611, 30001})
_CHINESE_MOBILE = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+\d{6,15}")


def normalise_phone(number: str) -> str:
    """E.164 for a phone given as E.164, 0086/86-prefixed or a bare Chinese mobile number."""
    digits = re.sub(r"[\s\-()]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if _CHINESE_MOBILE.fullmatch(digits):
        digits = "+86" + digits
    elif digits.startswith("86") and _CHINESE_MOBILE.fullmatch(digits[2:]):
        digits = "+" + digits
    if not _E164.fullmatch(digits):
        raise FinalDeliveryError("invalid_number", f"not a phone number: {number!r}")
    return digits


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request for `*.twilio.com` to `api_base` instead."""

    def __init__(self, api_base: str, timeout: float, pool_size: int = 32) -> None:
        super().__init__(timeout=timeout)
        base = urlsplit(api_base.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"api_base must be an http(s) URL: {api_base!r}")
        self._base = base
        # The library mounts a sized pool for https only; plain http (tests, gateways) too.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # requests reads the proxy and CA-bundle variables on every request (two scans of the
        # whole environment); they are this process's, so read them once, as requests would.
        self.session.proxies = requests.utils.get_environ_proxies(api_base)
        self.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self.session.trust_env = False  # every request carries its account's auth: no .netrc

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != TWILIO_HOST_SUFFIX and not host.endswith("." + TWILIO_HOST_SUFFIX):
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.rebase(url), *args, **kwargs)


class TwilioSms(Channel):
    """Programmable Messaging: from a number or through a messaging service."""

    name = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str = "",
        messaging_service_sid: str = "",
        api_base: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        if not from_ and not messaging_service_sid:
            raise ValueError("TwilioSms needs from_ or messaging_service_sid")
        self.from_ = from_
        self.messaging_service_sid = messaging_service_sid
        self._http = _RebasedHttpClient(api_base, timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)

    def send(self, message: Message) -> Receipt:
        to = normalise_phone(message.recipient)
        options: dict[str, str] = {"to": to, "body": message.body}
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        if self.from_:
            options["from_"] = self.from_
        if message.status_callback:
            options["status_callback"] = message.status_callback
        try:
            sent = self._client.messages.create(**options)
        except TwilioRestException as error:
            raise _rest_error(error) from error
        except requests.Timeout as error:
            raise RetryableDeliveryError("timeout", str(error)) from error
        except requests.RequestException as error:
            raise RetryableDeliveryError("connection_error", str(error)) from error
        except TwilioException as error:  # e.g. an answer that is not JSON
            raise RetryableDeliveryError("provider_error", str(error)) from error
        return Receipt(provider_id=str(sent.sid or ""), status=str(sent.status or ""))

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.session.close()


def _rest_error(error: TwilioRestException) -> DeliveryError:
    status = int(error.status)
    code = str(error.code) if error.code is not None else f"http_{status}"
    detail = str(error.msg or "")
    if status == 429 or status >= 500 or (error.code in RETRYABLE_CODES):
        return RetryableDeliveryError(code, detail)
    return FinalDeliveryError(code, detail)
