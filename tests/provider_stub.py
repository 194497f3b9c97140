"""A local HTTP server that plays Twilio and WeChat Work, for tests and benchmarks.

In process::

    stub = ProviderStub().start()
    stub.script("rate_limit", recipient="+8613800000000", times=2)
    ...  # point the adapters at stub.url
    stub.requests, stub.sends, stub.stop()

As a process (crash tests, benchmarks): ``python -m tests.provider_stub --port 8765``; then
``GET /_stub/sends`` (JSON counts), ``GET /_stub/requests``, ``POST /_stub/script`` (JSON with
the arguments of `script`), ``POST /_stub/reset``.

Scripted answers (each rule matches an endpoint, optionally a recipient or a token, for its
next `times` answers; the first matching rule wins, global or not):

- ``rate_limit``: Twilio 429/20429; WeChat errcode 45009.
- ``server_error``: HTTP 503 (the gettoken endpoint too with ``endpoint="wechat_token"``).
- ``expired_token``: WeChat errcode 42001 (only for `token` when given).
- ``invalid_recipient``: Twilio 400/21211; WeChat app 81013; robot 93000.
- ``invaliduser``: WeChat app errcode 0 with the recipient in ``invaliduser``.
- ``delay``: wait `seconds`, then answer normally (to provoke client timeouts).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "stub-auth-token"
WECHAT_CORP_ID = "ww0000000000000001"
WECHAT_SECRET = "stub-corp-secret"

ACTIONS = frozenset(
    {"rate_limit", "server_error", "expired_token", "invalid_recipient", "invaliduser", "delay"}
)
ENDPOINTS = frozenset({"twilio", "wechat_app", "wechat_robot", "wechat_token"})
SEND_ENDPOINTS = frozenset({"twilio", "wechat_app", "wechat_robot"})
_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json")
_E164 = re.compile(r"\+\d{8,15}")
_GSM = re.compile(r"[A-Za-z0-9 @£$¥\n\r_!\"#%&'()*+,\-./:;<=>?¡¿ÄÖÑÜ§äöñüà]*")


@dataclass
class Rule:
    action: str
    times: int = 1
    recipient: str | None = None
    token: str | None = None
    endpoint: str | None = None  # None: every send endpoint (not gettoken)
    seconds: float = 0.0

    def matches(self, endpoint: str, recipient: str, token: str) -> bool:
        if self.endpoint is None:
            if endpoint not in SEND_ENDPOINTS:
                return False
        elif self.endpoint != endpoint:
            return False
        if self.recipient is not None and self.recipient != recipient:
            return False
        return self.token is None or self.token == token


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | str


class ProviderStub:
    """The provider's state: credentials, tokens, scripted rules, records and counters."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        twilio_accounts: dict[str, str] | None = None,
        wechat_corps: dict[str, str] | None = None,
        token_expires_in: int = 7200,
        record: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.twilio_accounts = twilio_accounts or {TWILIO_ACCOUNT_SID: TWILIO_AUTH_TOKEN}
        self.wechat_corps = wechat_corps or {WECHAT_CORP_ID: WECHAT_SECRET}
        self.token_expires_in = token_expires_in
        self.record = record
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._requests: list[dict[str, Any]] = []
        self._tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.sends: Counter[str] = Counter()  # accepted messages per recipient
        self.attempts: Counter[str] = Counter()  # send requests per recipient
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> ProviderStub:
        server = _Server((self.host, self.port), _Handler)
        server.stub = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ProviderStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- scripting and inspection -----------------------------------------------------------
    def script(
        self,
        action: str,
        *,
        times: int = 1,
        recipient: str | None = None,
        token: str | None = None,
        endpoint: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Answer the next `times` matching requests with `action` (see the module doc)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {sorted(ACTIONS)}")
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(ENDPOINTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        rule = Rule(action, times, recipient, token, endpoint, float(seconds))
        with self._lock:
            self._rules.append(rule)

    def expire_token(self, token: str) -> None:
        """From now on `token` is answered with 42001 (it expired on the provider's side)."""
        with self._lock:
            self._tokens[token] = 0.0

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far (copies), oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["endpoint"] == endpoint]

    def counts(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sends": dict(self.sends),
                "attempts": dict(self.attempts),
                "total_sends": sum(self.sends.values()),
                "total_requests": sum(self.attempts.values()),
            }

    def reset(self) -> None:
        """Forget requests, counters, rules and issued tokens."""
        with self._lock:
            self._rules.clear()
            self._requests.clear()
            self._tokens.clear()
            self.sends.clear()
            self.attempts.clear()

    # -- the provider's logic (called from handler threads) ----------------------------------
    def _take_rule(self, endpoint: str, recipient: str, token: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(endpoint, recipient, token):
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return Rule(
                        rule.action, 1, rule.recipient, rule.token, rule.endpoint, rule.seconds
                    )
        return None

    def _note(self, entry: dict[str, Any], recipient: str | None, accepted: bool) -> None:
        with self._lock:
            if self.record:
                self._requests.append(entry)
            if recipient is not None:
                self.attempts[recipient] += 1
                if accepted:
                    self.sends[recipient] += 1

    def _issue_token(self) -> str:
        token = "stub-" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_expires_in
        return token

    def _token_state(self, token: str) -> str:
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "invalid"
        return "valid" if expiry > time.monotonic() else "expired"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    stub: ProviderStub

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is not an error worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Buffer each answer and send it whole when the request is done (http.server flushes
    # then): one write instead of one for the headers and another for the body.
    wbufsize = 64 * 1024
    server: _Server
    server_version = "ProviderStub/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Quiet: the stub records requests instead."""

    # -- plumbing ---------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, answer: Answer) -> None:
        if isinstance(answer.body, str):
            data = answer.body.encode()
            content_type = "text/plain; charset=utf-8"
        else:
            data = json.dumps(answer.body, ensure_ascii=False).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        stub = self.server.stub
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw = self._body()
        path = parts.path
        if path.startswith("/_stub/"):
            self._answer(self._control(method, path, raw))
            return
        match = _MESSAGES_PATH.fullmatch(path)
        if method == "POST" and match:
            form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            entry = self._entry("twilio", method, path, query, form)
            answer, recipient, accepted = self._twilio(match["sid"], form, stub)
        elif method == "GET" and path == "/cgi-bin/gettoken":
            entry = self._entry("wechat_token", method, path, query, None)
            answer, recipient, accepted = self._gettoken(query, stub)
        elif method == "POST" and path == "/cgi-bin/message/send":
            payload = _json(raw)
            entry = self._entry("wechat_app", method, path, query, payload)
            answer, recipient, accepted = self._wechat_send(query, payload, stub)
        elif method == "POST" and path == "/cgi-bin/webhook/send":
            payload = _json(raw)
            entry = self._entry("wechat_robot", method, path, query, payload)
            answer, recipient, accepted = self._robot_send(query, payload, stub)
        else:
            self._answer(Answer(404, {"errcode": 404, "errmsg": f"no route {method} {path}"}))
            return
        entry["status"] = answer.status
        entry["answer"] = answer.body
        stub._note(entry, recipient, accepted)
        self._answer(answer)

    def _entry(
        self, endpoint: str, method: str, path: str, query: dict[str, str], body: Any
    ) -> dict[str, Any]:
        return {
            "endpoint": endpoint,
            "method": method,
            "path": path,
            "query": query,
            "body": body,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "at": time.time(),
        }

    def _control(self, method: str, path: str, raw: bytes) -> Answer:
        stub = self.server.stub
        if method == "GET" and path == "/_stub/sends":
            return Answer(200, stub.counts())
        if method == "GET" and path == "/_stub/requests":
            return Answer(200, {"requests": stub.requests})
        if method == "POST" and path == "/_stub/reset":
            stub.reset()
            return Answer(200, {"ok": True})
        if method == "POST" and path == "/_stub/script":
            args = _json(raw)
            if not isinstance(args, dict) or "action" not in args:
                return Answer(400, {"error": "a JSON object with an action"})
            try:
                stub.script(args.pop("action"), **args)
            except (TypeError, ValueError) as error:
                return Answer(400, {"error": str(error)})
            return Answer(200, {"ok": True})
        return Answer(404, {"error": f"no route {method} {path}"})

    def _scripted(self, endpoint: str, recipient: str, token: str) -> Rule | None:
        rule = self.server.stub._take_rule(endpoint, recipient, token)
        if rule is not None and rule.action == "delay":
            time.sleep(rule.seconds)
            return None
        return rule

    # -- Twilio -----------------------------------------------------------------------------
    def _twilio(
        self, sid: str, form: dict[str, str], stub: ProviderStub
    ) -> tuple[Answer, str | None, bool]:
        expected = stub.twilio_accounts.get(sid)
        if expected is None or self._basic_auth() != (sid, expected):
            return _twilio_error(401, 20003, "Authenticate"), None, False
        to = form.get("To", "")
        rule = self._scripted("twilio", to, "")
        if rule is not None and rule.action == "rate_limit":
            return _twilio_error(429, 20429, "Too Many Requests"), to, False
        if rule is not None and rule.action == "server_error":
            return Answer(503, "Service Unavailable"), to, False
        if rule is not None and rule.action == "invalid_recipient":
            return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"), to, False
        if not to:
            return _twilio_error(400, 21604, "A 'To' phone number is required."), None, False
        if not _E164.fullmatch(to):
            return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"), to, False
        if not form.get("Body"):
            return _twilio_error(400, 21602, "Message body is required."), to, False
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return (
                _twilio_error(
                    400,
                    21603,
                    "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
                ),
                to,
                False,
            )
        return Answer(201, _twilio_message(sid, form)), to, True

    def _basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    # -- WeChat Work ------------------------------------------------------------------------
    def _gettoken(
        self, query: dict[str, str], stub: ProviderStub
    ) -> tuple[Answer, str | None, bool]:
        rule = self._scripted("wechat_token", "", "")
        if rule is not None and rule.action == "server_error":
            return Answer(503, "Service Unavailable"), None, False
        if rule is not None and rule.action == "rate_limit":
            return Answer(200, _errcode(45009, "api freq out of limit")), None, False
        corp = query.get("corpid", "")
        if corp not in stub.wechat_corps:
            return Answer(200, _errcode(40013, "invalid corpid")), None, False
        if query.get("corpsecret") != stub.wechat_corps[corp]:
            return Answer(200, _errcode(40001, "invalid credential")), None, False
        body = {
            "errcode": 0,
            "errmsg": "ok",
            "access_token": stub._issue_token(),
            "expires_in": stub.token_expires_in,
        }
        return Answer(200, body), None, False

    def _wechat_send(
        self, query: dict[str, str], payload: Any, stub: ProviderStub
    ) -> tuple[Answer, str | None, bool]:
        token = query.get("access_token", "")
        touser = str(payload.get("touser", "")) if isinstance(payload, dict) else ""
        rule = self._scripted("wechat_app", touser, token)
        if rule is not None:
            scripted = _wechat_scripted(rule, touser, invalid_code=81013)
            if scripted is not None:
                return scripted, touser, False
            return Answer(200, _wechat_ok(invaliduser=touser)), touser, False
        state = stub._token_state(token)
        if state == "invalid":
            return Answer(200, _errcode(40014, "invalid access_token")), touser, False
        if state == "expired":
            return Answer(200, _errcode(42001, "access_token expired")), touser, False
        problem = _check_app_message(payload)
        if problem is not None:
            return Answer(200, _errcode(*problem)), touser or None, False
        return Answer(200, _wechat_ok(invaliduser="")), touser, True

    def _robot_send(
        self, query: dict[str, str], payload: Any, stub: ProviderStub
    ) -> tuple[Answer, str | None, bool]:
        key = query.get("key", "")
        rule = self._scripted("wechat_robot", key, "")
        if rule is not None:
            scripted = _wechat_scripted(rule, key, invalid_code=93000)
            if scripted is not None:
                return scripted, key, False
        if not key:
            return Answer(200, _errcode(93000, "invalid webhook url")), None, False
        if not isinstance(payload, dict) or payload.get("msgtype") not in ("text", "markdown"):
            return Answer(200, _errcode(40008, "invalid message type")), key, False
        content = str((payload.get(payload["msgtype"]) or {}).get("content", ""))
        if not content:
            return Answer(200, _errcode(44004, "empty content")), key, False
        if len(content.encode()) > 4096:
            return (
                Answer(200, _errcode(40058, "markdown.content exceed max length 4096")),
                key,
                False,
            )
        return Answer(200, {"errcode": 0, "errmsg": "ok"}), key, True


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _errcode(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": f"{message}, hint: [{int(time.time())}_stub]"}


def _wechat_ok(invaliduser: str) -> dict[str, Any]:
    return {
        "errcode": 0,
        "errmsg": "ok",
        "invaliduser": invaliduser,
        "invalidparty": "",
        "invalidtag": "",
        "unlicenseduser": "",
        "msgid": secrets.token_urlsafe(24),
        "response_code": secrets.token_hex(16),
    }


def _wechat_scripted(rule: Rule, recipient: str, invalid_code: int) -> Answer | None:
    if rule.action == "rate_limit":
        return Answer(200, _errcode(45009, "api freq out of limit"))
    if rule.action == "server_error":
        return Answer(502, "Bad Gateway")
    if rule.action == "expired_token":
        return Answer(200, _errcode(42001, "access_token expired"))
    if rule.action == "invalid_recipient":
        message = "invalid webhook url"
        if invalid_code == 81013:
            message = "user & party & tag all invalid"
        return Answer(200, _errcode(invalid_code, f"{message}: {recipient}"))
    return None  # "invaliduser": the caller answers errcode 0 with invaliduser set


def _check_app_message(payload: Any) -> tuple[int, str] | None:
    if not isinstance(payload, dict):
        return 40008, "invalid message type"
    if not payload.get("touser"):
        return 40031, "invalid user list"
    if not payload.get("agentid"):
        return 40056, "invalid agentid"
    kind = payload.get("msgtype")
    if kind not in ("text", "textcard", "markdown"):
        return 40008, "invalid message type"
    content = payload.get(kind)
    if not isinstance(content, dict):
        return 40008, "invalid message type"
    if kind == "textcard":
        if not content.get("title") or not content.get("description") or not content.get("url"):
            return 41016, "missing title, description or url"
    elif not content.get("content"):
        return 44004, "empty content"
    return None


def _twilio_error(status: int, code: int, message: str) -> Answer:
    return Answer(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def _segments(body: str) -> int:
    if _GSM.fullmatch(body):
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    return 1 if len(body) <= 70 else -(-len(body) // 67)


def _twilio_message(account_sid: str, form: dict[str, str]) -> dict[str, Any]:
    sid = "SM" + secrets.token_hex(16)
    now = formatdate(usegmt=True)
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From") or None,
        "messaging_service_sid": form.get("MessagingServiceSid") or None,
        "num_media": "0",
        "num_segments": str(_segments(form.get("Body", ""))),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted"
        if form.get("MessagingServiceSid") and not form.get("From")
        else "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form.get("To"),
        "uri": f"{uri}.json",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Twilio + WeChat Work stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token-expires-in", type=int, default=7200)
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="count sends but keep no request log (long benchmarks)",
    )
    args = parser.parse_args(argv)
    stub = ProviderStub(
        args.host, args.port, token_expires_in=args.token_expires_in, record=not args.no_record
    ).start()
    print(
        f"provider stub on {stub.url} (twilio {TWILIO_ACCOUNT_SID}/{TWILIO_AUTH_TOKEN}, "
        f"wechat {WECHAT_CORP_ID}/{WECHAT_SECRET})",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()


if __name__ == "__main__":
    main()
