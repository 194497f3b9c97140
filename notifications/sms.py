"""SMS through Twilio's official client, pointed at any base address.

twilio 9 has no base-URL setting (`edge`/`region` only rewrite `*.twilio.com`), so our own
`HttpClient` (twilio's interface for transports) rewrites the scheme and host of every request:
tests, proxies and private gateways work without patching the library. It speaks HTTP through
a urllib3 connection pool, as twilio's default `TwilioHttpClient` does underneath requests; but
requests' sessions, hooks, cookie jars and per-request look-ups of the environment cost as much
CPU per message again as the rest of a send.
"""

from __future__ import annotations

import json
import logging
import os
import re
from base64 import b64encode
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_environ_proxies, select_proxy
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3 import exceptions as http_errors

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


class _RebasedHttpClient(HttpClient):  # type: ignore[misc]
    """Sends every request for `*.twilio.com` to `api_base` instead, over one pool of
    keep-alive connections; through the proxy and with the CA bundle that requests would take
    from the environment (read once: a process's environment does not change)."""

    def __init__(self, api_base: str, timeout: float, pool_size: int = 32) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout)
        base = urlsplit(api_base.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"api_base must be an http(s) URL: {api_base!r}")
        self._base = base
        options: dict[str, Any] = {
            "maxsize": pool_size,
            "retries": False,  # the delivery decides about retries, as with requests: none here
            "ca_certs": os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or DEFAULT_CA_BUNDLE_PATH,
        }
        proxy = select_proxy(api_base, get_environ_proxies(api_base))
        self._pool: urllib3.PoolManager
        if proxy:
            auth = urlsplit(proxy)
            if auth.username:
                credentials = f"{auth.username}:{auth.password or ''}"
                options["proxy_headers"] = urllib3.make_headers(proxy_basic_auth=credentials)
            self._pool = urllib3.ProxyManager(proxy, **options)
        else:
            self._pool = urllib3.PoolManager(**options)

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != TWILIO_HOST_SUFFIX and not host.endswith("." + TWILIO_HOST_SUFFIX):
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """One HTTP exchange, as twilio's `TwilioHttpClient.request` makes it."""
        target = self.rebase(url)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, doseq=True)
        fields = dict(headers or {})
        if auth is not None:
            token = b64encode(f"{auth[0]}:{auth[1]}".encode("latin1")).decode()
            fields["Authorization"] = f"Basic {token}"
        body: str | None = None
        if fields.get("Content-Type") in ("application/json", "application/scim+json"):
            body = json.dumps(data)
        elif data:
            body = urlencode(data, doseq=True)
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info("%s Request: %s", method, target)
        answer = self._pool.request(
            method.upper(),
            target,
            body=body,
            headers=fields,
            timeout=self.timeout if timeout is None else timeout,
            redirect=allow_redirects,
        )
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info("Response Status Code: %s", answer.status)
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)

    def close(self) -> None:
        self._pool.clear()


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
        except http_errors.TimeoutError as error:
            # urllib3 counts a refused connection among its timeouts: it is not one.
            refused = isinstance(error, http_errors.NewConnectionError)
            code = "connection_error" if refused else "timeout"
            raise RetryableDeliveryError(code, str(error)) from error
        except http_errors.HTTPError as error:  # refused, reset, a broken answer
            raise RetryableDeliveryError("connection_error", str(error)) from error
        except TwilioException as error:  # e.g. an answer that is not JSON
            raise RetryableDeliveryError("provider_error", str(error)) from error
        return Receipt(provider_id=str(sent.sid or ""), status=str(sent.status or ""))

    def close(self) -> None:
        """Release the pooled connections."""
        self._http.close()


def _rest_error(error: TwilioRestException) -> DeliveryError:
    status = int(error.status)
    code = str(error.code) if error.code is not None else f"http_{status}"
    detail = str(error.msg or "")
    if status == 429 or status >= 500 or (error.code in RETRYABLE_CODES):
        return RetryableDeliveryError(code, detail)
    return FinalDeliveryError(code, detail)
