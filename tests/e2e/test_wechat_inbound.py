"""WeChat Work as an inbound channel: the signed handshake, encrypted messages, replays."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itsm import clock
from itsm.app import create_app
from itsm.db import Database
from itsm.notify.models import InboundMessage
from itsm.notify.services import wechat_inbound
from itsm.tickets.models import Comment, Ticket
from notifications import WeChatCallback
from tests.factories import World
from tests.integration.notify_env import WECHAT_AES_KEY, WECHAT_TOKEN
from tests.provider_stub import WECHAT_CORP_ID

CRYPTO = WeChatCallback(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_CORP_ID)


@pytest.fixture(scope="module")
def hooks(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(
        instance_path=tmp_path_factory.mktemp("wechat"),
        database_url=database_url,
        redis_url="",
        wechat_token=WECHAT_TOKEN,
        wechat_encoding_aes_key=WECHAT_AES_KEY,
        wechat_corp_id=WECHAT_CORP_ID,
    )
    yield app
    app.extensions["itsm.db"].dispose()


def envelope(from_user: str, content: str, msg_id: str) -> tuple[str, dict[str, str]]:
    plain = (
        f"<xml><ToUserName><![CDATA[{WECHAT_CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
        f"<AgentID>1000002</AgentID></xml>"
    )
    nonce, timestamp = "nonce123", str(int(time.time()))
    body = CRYPTO.encrypt(plain, nonce, timestamp)
    signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", body)
    assert signature is not None
    args = {"msg_signature": signature.group(1), "timestamp": timestamp, "nonce": nonce}
    return body, args


def post(client: FlaskClient, body: str, args: dict[str, str]) -> int:
    return client.post("/hooks/wechat", query_string=args, data=body.encode()).status_code


def process(db: Database, msg_id: str) -> list[str]:
    """What the job does for each recorded copy of this message (there is one)."""
    with db.transaction() as session:
        ids = session.scalars(
            select(InboundMessage.id).where(InboundMessage.provider_msg_id == msg_id)
        )
        return [wechat_inbound.process(session, i, clock.now()) for i in list(ids)]


def requester_wechat(world: World) -> str:
    return f"requester-{world.contract_code}"


def test_the_url_handshake_answers_the_echo_only_when_signed(hooks) -> None:  # type: ignore[no-untyped-def]
    body, args = envelope("x", "x", "1")
    encrypted = re.search(r"<Encrypt><!\[CDATA\[(.+?)\]\]>", body).group(1)  # type: ignore[union-attr]
    answer = hooks.test_client().get("/hooks/wechat", query_string={**args, "echostr": encrypted})
    assert answer.status_code == 200 and "<xml>" in answer.get_data(as_text=True)
    forged = {**args, "msg_signature": "0" * 40, "echostr": encrypted}
    assert hooks.test_client().get("/hooks/wechat", query_string=forged).status_code == 403
    assert hooks.test_client().get("/hooks/wechat").status_code == 400


def test_a_requesters_message_becomes_a_ticket_once(hooks, db, world) -> None:  # type: ignore[no-untyped-def]
    body, args = envelope(requester_wechat(world), "门诊收费系统打不开\n所有窗口都报错", "7001")
    client = hooks.test_client()
    assert post(client, body, args) == 200
    assert post(client, body, args) == 200  # WeChat re-delivers when it thinks we were slow
    assert process(db, "7001") == ["ticket_created"]
    with db.sessions() as session:
        [ticket] = session.scalars(
            select(Ticket).where(Ticket.institution_id == world.institution_id)
        ).all()
        assert ticket.channel == "wechat" and ticket.title == "门诊收费系统打不开"
        assert "所有窗口都报错" in ticket.description
        assert ticket.created_by_id == world.users["requester"]


def test_concurrent_redeliveries_make_one_record(hooks, db, world) -> None:  # type: ignore[no-untyped-def]
    body, args = envelope(requester_wechat(world), "打印机卡纸", "7002")
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(post(hooks.test_client(), body, args)))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 6
    with db.sessions() as session:
        count = select(func.count()).where(InboundMessage.provider_msg_id == "7002")
        assert session.scalar(count) == 1


def test_a_message_naming_an_open_ticket_is_a_comment_on_it(hooks, db, client, world) -> None:  # type: ignore[no-untyped-def]
    ticket = world.open_ticket(client)
    body, args = envelope(requester_wechat(world), f"{ticket['number']} 还是不行，请尽快", "7003")
    assert post(hooks.test_client(), body, args) == 200
    assert process(db, "7003") == ["commented"]
    with db.sessions() as session:
        [comment] = session.scalars(select(Comment).where(Comment.ticket_id == ticket["id"]))
        assert "还是不行" in comment.body


def test_a_number_written_between_chinese_words_is_found(hooks, db, client, world) -> None:  # type: ignore[no-untyped-def]
    ticket = world.open_ticket(client)
    text = f"工单{ticket['number']}还是不行"
    body, args = envelope(requester_wechat(world), text, "7006")
    assert post(hooks.test_client(), body, args) == 200
    assert process(db, "7006") == ["commented"]


def test_an_unknown_sender_makes_nothing(hooks, db) -> None:  # type: ignore[no-untyped-def]
    body, args = envelope("stranger", "你好", "7004")
    assert post(hooks.test_client(), body, args) == 200
    with db.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Ticket))
    assert process(db, "7004") == ["unknown_sender"]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_forged_message_is_refused_and_recorded_nowhere(hooks, db, world) -> None:  # type: ignore[no-untyped-def]
    body, args = envelope(requester_wechat(world), "伪造", "7005")
    forged = {**args, "msg_signature": "f" * 40}
    assert post(hooks.test_client(), body, forged) == 403
    other = WeChatCallback(WECHAT_TOKEN, "B" * 43, WECHAT_CORP_ID)
    wrong_key = other.encrypt("<xml><MsgId>7005</MsgId></xml>", "n", args["timestamp"])
    assert post(hooks.test_client(), wrong_key, args) == 403
    with db.sessions() as session:
        count = select(func.count()).where(InboundMessage.provider_msg_id == "7005")
        assert session.scalar(count) == 0
