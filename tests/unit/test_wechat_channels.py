"""The WeChat Work adapters through the real wechatpy client (application messages) and a real
requests session (group robots), against the local stub: what reaches the provider, how the
access token is fetched, kept and refetched, and how each kind of failure is typed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from notifications import (
    FinalDeliveryError,
    MemoryTokenStore,
    Message,
    RetryableDeliveryError,
    WeChatRobot,
    WeChatWorkApp,
)
from notifications.wechat import token_ttl
from tests.provider_stub import WECHAT_CORP_ID, WECHAT_SECRET, ProviderStub
from tests.redis_server import free_port

AGENT_ID = 1000002
USER = "zhangsan"
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
TEXT = "【运维】工单 INC-2026-000001 已受理：收费系统无法打印发票"
MARKDOWN = '### 工单 INC-2026-000001\n> 状态：<font color="info">已受理</font>'
CARD_URL = "https://itsm.example.test/tickets/INC-2026-000001"

AppFactory = Callable[..., WeChatWorkApp]


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wechat_app(provider: ProviderStub) -> Iterator[AppFactory]:
    """Build application channels on the stub (closed after the test)."""
    made: list[WeChatWorkApp] = []

    def build(
        api_base: str | None = None,
        secret: str = WECHAT_SECRET,
        tokens: MemoryTokenStore | None = None,
        timeout: float = 5.0,
    ) -> WeChatWorkApp:
        channel = WeChatWorkApp(
            WECHAT_CORP_ID,
            AGENT_ID,
            secret,
            api_base=api_base or provider.url,
            tokens=tokens,
            timeout=timeout,
        )
        made.append(channel)
        return channel

    yield build
    for channel in made:
        channel.close()


@pytest.fixture
def robot(provider: ProviderStub) -> Iterator[WeChatRobot]:
    channel = WeChatRobot(api_base=provider.url, timeout=5.0)
    yield channel
    channel.close()


def app_message(body: str = TEXT, **fields: str) -> Message:
    return Message("wechat_app", USER, body, **fields)


def gettokens(provider: ProviderStub) -> int:
    return len(provider.requests_to("wechat_token"))


# -- application messages: what reaches the provider ------------------------------------------


def test_a_text_message_reaches_the_provider_and_comes_back_with_a_msgid(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    receipt = wechat_app().send(app_message())
    [token_request] = provider.requests_to("wechat_token")
    assert token_request["query"] == {"corpid": WECHAT_CORP_ID, "corpsecret": WECHAT_SECRET}
    [request] = provider.requests_to("wechat_app")
    assert request["path"] == "/cgi-bin/message/send"
    assert request["query"]["access_token"] == token_request["answer"]["access_token"]
    body = request["body"]
    assert (body["agentid"], body["touser"], body["msgtype"]) == (AGENT_ID, USER, "text")
    assert body["text"] == {"content": TEXT}
    assert receipt.provider_id == request["answer"]["msgid"] and receipt.provider_id
    assert receipt.status == "sent"
    assert provider.counts()["sends"] == {USER: 1}


def test_a_textcard_carries_its_title_description_and_url(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    message = app_message(format="textcard", title="工单已受理", url=CARD_URL)
    receipt = wechat_app().send(message)
    [request] = provider.requests_to("wechat_app")
    body = request["body"]
    assert (body["agentid"], body["touser"], body["msgtype"]) == (AGENT_ID, USER, "textcard")
    card = body["textcard"]
    assert (card["title"], card["description"], card["url"]) == ("工单已受理", TEXT, CARD_URL)
    assert receipt.provider_id == request["answer"]["msgid"] and receipt.status == "sent"
    assert provider.counts()["sends"] == {USER: 1}


def test_a_textcard_without_a_url_is_a_bad_message_that_is_never_sent(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    with pytest.raises(FinalDeliveryError) as refused:
        wechat_app().send(app_message(format="textcard", title="工单已受理"))
    assert refused.value.code == "bad_message"
    assert provider.requests_to("wechat_app") == []


@pytest.mark.parametrize(
    "message",
    [app_message(format="textcard", title="工单已受理"), app_message(format="image")],
    ids=["textcard-without-url", "unknown-format"],
)
def test_a_bad_message_is_final_before_any_token_is_asked_for(
    provider: ProviderStub, wechat_app: AppFactory, message: Message
) -> None:
    provider.script("server_error", endpoint="wechat_token")  # would be retryable
    with pytest.raises(FinalDeliveryError) as refused:
        wechat_app().send(message)
    assert refused.value.code == "bad_message"
    assert provider.requests == []


def test_a_markdown_message_reaches_the_provider_as_markdown(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    receipt = wechat_app().send(app_message(MARKDOWN, format="markdown"))
    [request] = provider.requests_to("wechat_app")
    body = request["body"]
    assert (body["agentid"], body["touser"], body["msgtype"]) == (AGENT_ID, USER, "markdown")
    assert body["markdown"] == {"content": MARKDOWN}
    assert receipt.provider_id == request["answer"]["msgid"] and receipt.status == "sent"


# -- the access token ---------------------------------------------------------------------------


def test_the_token_is_fetched_once_and_reused_across_sends(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    channel = wechat_app()
    for _ in range(3):
        channel.send(app_message())
    assert gettokens(provider) == 1
    assert len({r["query"]["access_token"] for r in provider.requests_to("wechat_app")}) == 1
    assert provider.counts()["sends"] == {USER: 3}


def test_two_channels_sharing_a_token_store_fetch_once(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    tokens = MemoryTokenStore()
    wechat_app(tokens=tokens).send(app_message())
    wechat_app(tokens=tokens).send(app_message())
    assert gettokens(provider) == 1
    assert provider.counts()["sends"] == {USER: 2}


def test_concurrent_first_sends_on_one_channel_fetch_one_token(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    channel = wechat_app()
    start = threading.Barrier(8)

    def send() -> str:
        start.wait()
        return channel.send(app_message()).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: send(), range(8)))
    assert statuses == ["sent"] * 8
    assert gettokens(provider) == 1
    assert provider.counts()["sends"] == {USER: 8}


def test_channels_with_their_own_stores_fetch_each_their_own_token(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    wechat_app().send(app_message())
    wechat_app().send(app_message())
    assert gettokens(provider) == 2


def test_a_stored_token_is_refetched_when_its_margin_has_run_out(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    clock = FakeClock()
    channel = wechat_app(tokens=MemoryTokenStore(clock=clock))
    channel.send(app_message())
    clock.now += 6899  # the stub's tokens live 7200 s; we keep them 6900 s
    channel.send(app_message())
    assert gettokens(provider) == 1
    clock.now += 1
    channel.send(app_message())
    assert gettokens(provider) == 2
    first, second = (r["answer"]["access_token"] for r in provider.requests_to("wechat_token"))
    assert provider.requests_to("wechat_app")[-1]["query"]["access_token"] == second != first


def test_a_memory_store_entry_expires_at_its_ttl() -> None:
    clock = FakeClock()
    store = MemoryTokenStore(clock=clock)
    assert store.get("k") is None
    store.set("k", "token-1", 10)
    clock.now += 9.5
    assert store.get("k") == "token-1"
    clock.now += 0.5
    assert store.get("k") is None
    store.set("k", "token-2", 10)  # a new entry starts a new lifetime
    assert store.get("k") == "token-2"


@pytest.mark.parametrize(
    ("expires_in", "kept"),
    [(7200, 6900), (1500, 1200), (1000, 800), (100, 80), (5, 4), (4, 4), (1, 1), (0, 1)],
)
def test_token_ttl_keeps_a_margin_of_five_minutes_or_a_fifth_and_never_below_one(
    expires_in: int, kept: int
) -> None:
    assert token_ttl(expires_in) == kept


# -- an expired or rejected token ---------------------------------------------------------------


def test_a_token_expired_at_the_provider_is_refetched_once_and_the_message_sent(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    channel = wechat_app()
    channel.send(app_message())
    [first] = (r["answer"]["access_token"] for r in provider.requests_to("wechat_token"))
    provider.expire_token(first)
    receipt = channel.send(app_message())
    assert receipt.status == "sent" and receipt.provider_id
    assert gettokens(provider) == 2
    sent = provider.requests_to("wechat_app")
    assert [r["answer"]["errcode"] for r in sent] == [0, 42001, 0]
    assert sent[1]["query"]["access_token"] == first != sent[2]["query"]["access_token"]
    assert provider.counts()["sends"] == {USER: 2}


def test_a_scripted_expired_token_is_refetched_once_and_the_message_sent(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("expired_token", recipient=USER)
    receipt = wechat_app().send(app_message())
    assert receipt.status == "sent"
    assert gettokens(provider) == 2
    assert provider.counts() == {
        "sends": {USER: 1},
        "attempts": {USER: 2},
        "total_sends": 1,
        "total_requests": 2,
    }


def test_a_new_token_rejected_again_is_retryable_without_a_third_fetch(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("expired_token", times=5)
    with pytest.raises(RetryableDeliveryError) as refused:
        wechat_app().send(app_message())
    assert refused.value.code == "42001"
    assert gettokens(provider) == 2
    assert len(provider.requests_to("wechat_app")) == 2
    assert provider.counts()["total_sends"] == 0


# -- provider refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "code"), [("rate_limit", "45009"), ("server_error", "http_502")]
)
def test_a_rate_limit_or_server_error_on_send_is_retryable_with_the_code_kept(
    provider: ProviderStub, wechat_app: AppFactory, action: str, code: str
) -> None:
    provider.script(action, recipient=USER)
    with pytest.raises(RetryableDeliveryError) as refused:
        wechat_app().send(app_message())
    assert refused.value.code == code
    assert gettokens(provider) == 1  # not taken for a token problem
    assert provider.counts()["attempts"] == {USER: 1}


def test_a_server_error_at_gettoken_is_retryable_and_nothing_is_sent(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("server_error", endpoint="wechat_token")
    channel = wechat_app()
    with pytest.raises(RetryableDeliveryError) as refused:
        channel.send(app_message())
    assert refused.value.code == "http_503"
    assert provider.requests_to("wechat_app") == []
    channel.send(app_message())  # the next try fetches a token and goes through
    assert gettokens(provider) == 2
    assert provider.counts()["sends"] == {USER: 1}


def test_a_rate_limit_at_gettoken_is_retryable(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("rate_limit", endpoint="wechat_token")
    with pytest.raises(RetryableDeliveryError) as refused:
        wechat_app().send(app_message())
    assert refused.value.code == "45009"


def test_a_wrong_secret_is_final(provider: ProviderStub, wechat_app: AppFactory) -> None:
    with pytest.raises(FinalDeliveryError) as refused:
        wechat_app(secret="wrong-secret").send(app_message())
    assert refused.value.code == "40001"
    assert gettokens(provider) == 1
    assert provider.requests_to("wechat_app") == []


def test_an_unknown_user_reported_in_invaliduser_is_final(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("invaliduser", recipient=USER)
    with pytest.raises(FinalDeliveryError) as refused:
        wechat_app().send(app_message())
    assert refused.value.code == "invaliduser"
    assert USER in refused.value.detail
    [request] = provider.requests_to("wechat_app")
    assert request["answer"]["errcode"] == 0 and request["answer"]["invaliduser"] == USER


def test_recipients_all_invalid_is_final_with_the_code_kept(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("invalid_recipient", recipient=USER)
    with pytest.raises(FinalDeliveryError) as refused:
        wechat_app().send(app_message())
    assert refused.value.code == "81013"
    assert len(provider.requests_to("wechat_app")) == 1


def test_a_provider_too_slow_to_answer_is_a_timeout(
    provider: ProviderStub, wechat_app: AppFactory
) -> None:
    provider.script("delay", seconds=1.0)
    with pytest.raises(RetryableDeliveryError) as slow:
        wechat_app(timeout=0.2).send(app_message())
    assert slow.value.code == "timeout"


def test_nobody_listening_is_a_connection_error(wechat_app: AppFactory) -> None:
    with pytest.raises(RetryableDeliveryError) as refused:
        wechat_app(api_base=f"http://127.0.0.1:{free_port()}").send(app_message())
    assert refused.value.code == "connection_error"
    # The error names the gettoken URL; its query holds the corp secret, which the text
    # (stored, logged, shown in the delivery log) must not.
    assert WECHAT_SECRET not in str(refused.value) and "gettoken?…" in refused.value.detail


def test_a_send_that_cannot_connect_keeps_the_access_token_out_of_its_error(
    wechat_app: AppFactory,
) -> None:
    tokens = MemoryTokenStore()
    channel = wechat_app(api_base=f"http://127.0.0.1:{free_port()}", tokens=tokens)
    tokens.set(channel.token_key, "cached-token-0123456789", 3600)
    with pytest.raises(RetryableDeliveryError) as refused:
        channel.send(app_message())
    assert refused.value.code == "connection_error"
    assert "cached-token-0123456789" not in str(refused.value)
    assert "message/send?…" in refused.value.detail


# -- the group robot ----------------------------------------------------------------------------


@pytest.mark.parametrize(("format_", "body"), [("markdown", MARKDOWN), ("text", TEXT)])
def test_the_robot_posts_its_message_to_the_webhook_of_its_key(
    provider: ProviderStub, robot: WeChatRobot, format_: str, body: str
) -> None:
    receipt = robot.send(Message("wechat_robot", ROBOT_KEY, body, format=format_))
    [request] = provider.requests_to("wechat_robot")
    assert (request["method"], request["path"]) == ("POST", "/cgi-bin/webhook/send")
    assert request["query"] == {"key": ROBOT_KEY}
    assert request["body"] == {"msgtype": format_, format_: {"content": body}}
    assert receipt.status == "sent"
    assert provider.counts()["sends"] == {ROBOT_KEY: 1}
    assert provider.requests_to("wechat_token") == []  # a robot needs no token


def test_an_invalid_robot_key_is_final(provider: ProviderStub, robot: WeChatRobot) -> None:
    provider.script("invalid_recipient", recipient=ROBOT_KEY)
    with pytest.raises(FinalDeliveryError) as refused:
        robot.send(Message("wechat_robot", ROBOT_KEY, TEXT))
    assert refused.value.code == "93000"


def test_an_empty_robot_key_is_final(provider: ProviderStub, robot: WeChatRobot) -> None:
    with pytest.raises(FinalDeliveryError) as refused:
        robot.send(Message("wechat_robot", "", TEXT))
    assert refused.value.code == "93000"


def test_a_robot_rate_limit_is_retryable(provider: ProviderStub, robot: WeChatRobot) -> None:
    provider.script("rate_limit", recipient=ROBOT_KEY)
    with pytest.raises(RetryableDeliveryError) as refused:
        robot.send(Message("wechat_robot", ROBOT_KEY, MARKDOWN, format="markdown"))
    assert refused.value.code == "45009"


def test_a_robot_server_error_is_retryable(provider: ProviderStub, robot: WeChatRobot) -> None:
    provider.script("server_error", recipient=ROBOT_KEY)
    with pytest.raises(RetryableDeliveryError) as refused:
        robot.send(Message("wechat_robot", ROBOT_KEY, TEXT))
    assert refused.value.code == "http_502"


def test_a_robot_refuses_a_textcard_before_any_request(
    provider: ProviderStub, robot: WeChatRobot
) -> None:
    with pytest.raises(FinalDeliveryError) as refused:
        robot.send(Message("wechat_robot", ROBOT_KEY, TEXT, format="textcard", url=CARD_URL))
    assert refused.value.code == "bad_message"
    assert provider.requests == []


def test_a_robot_too_slow_to_answer_is_a_timeout(provider: ProviderStub) -> None:
    provider.script("delay", seconds=1.0, endpoint="wechat_robot")
    slow_robot = WeChatRobot(api_base=provider.url, timeout=0.2)
    with pytest.raises(RetryableDeliveryError) as slow:
        slow_robot.send(Message("wechat_robot", ROBOT_KEY, TEXT))
    slow_robot.close()
    assert slow.value.code == "timeout"


@pytest.mark.parametrize("key", [ROBOT_KEY, "a key/with?odd=chars"])
def test_a_robot_with_nobody_listening_is_a_connection_error(key: str) -> None:
    lonely = WeChatRobot(api_base=f"http://127.0.0.1:{free_port()}", timeout=5.0)
    try:
        with pytest.raises(RetryableDeliveryError) as refused:
            lonely.send(Message("wechat_robot", key, TEXT))
    finally:
        lonely.close()
    assert refused.value.code == "connection_error"
    # The error names the URL; the key in it (encoded or not) would let anyone reading the
    # log post to the group.
    assert "webhook/send?…" in refused.value.detail
    assert "key" not in refused.value.detail.split("webhook/send", 1)[1].split(" ", 1)[0]
