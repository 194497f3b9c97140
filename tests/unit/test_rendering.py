"""Notification texts: every event in both languages on every channel, SMS within two segments
and carrying no more personal data than the ticket number, institution and a short title."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from notifications import EVENTS, render
from notifications.rendering import EVENT_KEYS, LANGUAGES, SMS_MAX_CHARS, template_name

URL = "https://itsm.example.test/tickets/42"


def context(**changes: Any) -> dict[str, Any]:
    """What notices.message_context gives a template, with a person's name and phone in it."""
    values: dict[str, Any] = {
        "ticket_id": 42,
        "number": "INC-2026-000042",
        "institution": "北京市朝阳区第三社区卫生服务中心",
        "title": "收费系统无法打印发票",
        "priority": "P2",
        "state": "assigned",
        "engineer": "张伟",
        "contract": "C1",
        "clock": "arrival",
        "due_at": "12-01 14:30",
        "url": URL,
    }
    values.update(changes)
    return values


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("event", EVENTS)
def test_every_event_renders_on_every_channel_in_both_languages(event: str, lang: str) -> None:
    for channel in ("sms", "wechat_app", "wechat_robot"):
        text = render(event, channel, context(), lang)
        assert "INC-2026-000042" in text.body
        assert "{{" not in text.body and "{%" not in text.body
        if channel != "sms":
            assert text.title and "INC-2026-000042" in text.title


def test_chinese_is_the_default_and_english_is_available() -> None:
    chinese = render("ticket_opened", "sms", context())
    english = render("ticket_opened", "sms", context(), "en")
    assert chinese.body.startswith("【运维服务】") and "工单" in chinese.body
    assert english.body.startswith("[IT Service]") and "工单" not in english.body


def test_a_clock_is_named_in_the_messages_language() -> None:
    assert "到场" in render("sla_breach", "sms", context()).body
    assert "arrival" in render("sla_breach", "sms", context(), "en").body


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("event", EVENTS)
def test_an_sms_never_carries_a_name_a_phone_or_a_link(event: str, lang: str) -> None:
    title = "打印机坏了，请回电13912345678或010-87654321"
    body = render(event, "sms", context(title=title), lang).body
    assert "张伟" not in body and "http" not in body
    assert "13912345678" not in body and "87654321" not in body
    assert "***" in body


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("event", EVENTS)
def test_a_long_title_and_institution_are_cut_to_fit_two_segments(event: str, lang: str) -> None:
    long = context(
        title="门诊医生工作站打开电子病历模块时反复弹出错误提示并且无法保存任何病历内容" * 3,
        institution="某某市某某区某某街道社区卫生服务中心第二分中心附属门诊部" * 2,
    )
    body = render(event, "sms", long, lang).body
    assert len(body) <= SMS_MAX_CHARS
    assert "INC-2026-000042" in body
    assert "门诊医生工作站" in body and "…" in body  # the start of the title is kept


def test_a_short_sms_is_left_whole() -> None:
    body = render("ticket_opened", "sms", context()).body
    assert "收费系统无法打印发票" in body and "北京市朝阳区第三社区卫生服务中心" in body
    assert "…" not in body


def test_the_robot_gets_markdown_and_a_person_gets_plain_text() -> None:
    robot = render("p1_opened", "wechat_robot", context()).body
    app = render("p1_opened", "wechat_app", context()).body
    assert "**" in robot and f"]({URL})" in robot
    assert "**" not in app and "](" not in app


def test_a_wechat_card_names_the_engineer_it_is_about() -> None:
    assert "张伟" in render("ticket_assigned", "wechat_app", context()).body
    assert "张伟" in render("ticket_assigned", "wechat_app", context(), "en").body


def test_each_events_templates_use_only_its_declared_keys() -> None:
    for event in EVENTS:
        given = {key: context()[key] for key in EVENT_KEYS[event]}
        for lang in LANGUAGES:
            for channel in ("sms", "wechat_app", "wechat_robot"):
                render(event, channel, given, lang)  # StrictUndefined raises on anything else


def test_a_missing_key_fails_loudly() -> None:
    values = context()
    del values["number"]
    with pytest.raises(jinja2.UndefinedError):
        render("ticket_opened", "wechat_app", values)


@pytest.mark.parametrize(
    ("event", "channel", "lang"),
    [
        ("ticket_closed", "sms", "zh_CN"),
        ("ticket_opened", "fax", "zh_CN"),
        ("p1_opened", "sms", "fr"),
    ],
)
def test_an_unknown_event_channel_or_language_is_refused(
    event: str, channel: str, lang: str
) -> None:
    with pytest.raises(ValueError):
        template_name(event, channel, lang)
