"""Notification texts from Jinja2 templates, one per event, channel family and language.

templates/notifications/<event>.<sms|wechat>.<zh_CN|en>.txt. A template may `{% set card_title %}`
(exported as the textcard title) and branch on `markdown` (the group robot). SMS templates
see only the fields an SMS may carry (no names, no URL), and the title is shortened with "…"
until the whole text fits two SMS segments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

import templates

EVENTS = (
    "ticket_opened",
    "ticket_assigned",
    "ticket_dispatched",
    "p1_opened",
    "sla_warning",
    "sla_breach",
    "ticket_resolved",
    "inspection_assigned",
    "inspection_due_soon",
    "inspection_missed",
    "inspection_returned",
)
_BASE_KEYS = frozenset({"number", "institution", "title", "priority", "url"})
_INSPECTION_KEYS = frozenset({"number", "institution", "title", "due_at", "url"})
# The context keys each event's templates use (SMS templates use a subset: see SMS_KEYS).
EVENT_KEYS: dict[str, frozenset[str]] = {
    "ticket_opened": _BASE_KEYS,
    "ticket_assigned": _BASE_KEYS | {"engineer"},
    "ticket_dispatched": _BASE_KEYS | {"engineer"},
    "p1_opened": _BASE_KEYS,
    "sla_warning": _BASE_KEYS | {"clock", "due_at"},
    "sla_breach": _BASE_KEYS | {"clock", "due_at"},
    "ticket_resolved": _BASE_KEYS,
    "inspection_assigned": _INSPECTION_KEYS | {"engineer"},
    "inspection_due_soon": _INSPECTION_KEYS,
    "inspection_missed": _INSPECTION_KEYS,
    "inspection_returned": _INSPECTION_KEYS,
}
LANGUAGES = ("zh_CN", "en")
SMS_MAX_CHARS = 140  # two 70-character (UCS-2) segments
ELLIPSIS = "…"
# The only context keys an SMS template is given: no person's name, no phone, no link.
SMS_KEYS = frozenset({"number", "institution", "title", "priority", "state", "clock", "due_at"})
CLOCK_LABELS = {
    "zh_CN": {"response": "响应", "arrival": "到场", "restore": "恢复", "resolution": "解决"},
    "en": {
        "response": "response",
        "arrival": "arrival",
        "restore": "restore",
        "resolution": "resolution",
    },
}
_CHANNEL_FAMILIES = {
    "sms": "sms",
    "wechat": "wechat",
    "wechat_app": "wechat",
    "wechat_robot": "wechat",
    "console": "wechat",
}
# Phone numbers a reporter may have typed into a title: mobiles, landlines, 400/800 numbers.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?"
    r"(?:1[3-9]\d{9}|0\d{2,3}[\s-]?\d{7,8}|[48]00[\s-]?\d{3}[\s-]?\d{4})(?!\d)"
)
_MIN_INSTITUTION = 6


@dataclass(frozen=True)
class RenderedText:
    body: str
    title: str  # the textcard title ("" when the template sets none)


@cache
def _environment() -> jinja2.Environment:
    folder = Path(templates.__file__).parent / "notifications"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def template_name(event: str, channel: str, lang: str) -> str:
    """The file that renders this event on this channel in this language."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    try:
        family = _CHANNEL_FAMILIES[channel]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}") from None
    return f"{event}.{family}.{lang}.txt"


def render(
    event: str, channel: str, context: Mapping[str, Any], lang: str = "zh_CN"
) -> RenderedText:
    """The text of `event` for `channel`; a missing context key raises jinja2.UndefinedError."""
    name = template_name(event, channel, lang)
    template = _environment().get_template(name)
    values: dict[str, Any] = dict(context)
    if "clock" in values:
        values["clock_label"] = CLOCK_LABELS[lang].get(str(values["clock"]), values["clock"])
    if _CHANNEL_FAMILIES[channel] == "sms":
        return _render_sms(template, values)
    values["markdown"] = channel == "wechat_robot"
    return _render(template, values)


def _render(template: jinja2.Template, values: Mapping[str, Any]) -> RenderedText:
    module = template.make_module(dict(values))
    title = str(getattr(module, "card_title", "")).strip()
    return RenderedText(body=str(module).strip(), title=title)


def _render_sms(template: jinja2.Template, values: dict[str, Any]) -> RenderedText:
    allowed = {key: value for key, value in values.items() if key in SMS_KEYS | {"clock_label"}}
    allowed["markdown"] = False
    if "title" in allowed:
        allowed["title"] = " ".join(_PHONE.sub("***", str(allowed["title"])).split())
    if "institution" in allowed:
        allowed["institution"] = " ".join(str(allowed["institution"]).split())
    text = _render(template, allowed)
    for field, floor in (("title", 0), ("institution", _MIN_INSTITUTION)):
        if field in allowed:
            text = _shorten(template, allowed, field, floor, text)
    if len(text.body) > SMS_MAX_CHARS:
        raise ValueError(f"SMS text longer than {SMS_MAX_CHARS} characters: {text.body!r}")
    return text


def _shorten(
    template: jinja2.Template, values: dict[str, Any], field: str, floor: int, text: RenderedText
) -> RenderedText:
    """Cut `values[field]` (down to `floor` characters plus "…") until the SMS fits."""
    original = str(values[field])
    keep = len(original)
    while len(text.body) > SMS_MAX_CHARS and keep > floor:
        excess = len(text.body) - SMS_MAX_CHARS
        keep = max(floor, keep - excess - (1 if keep == len(original) else 0))
        values[field] = original[:keep] + ELLIPSIS
        text = _render(template, values)
    return text
