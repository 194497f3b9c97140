"""Page forms and queries read through the API's marshmallow fields (`itsm/api/fields.py`), so
a page refuses what the API refuses; the refusal is said in the page's language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, pre_load

from itsm.api.fields import Text
from itsm.errors import InvalidInput


class FormSchema(Schema):
    """The values of an HTML form or query string, read by the API's field types.

    A browser sends every field as text and an empty one as "": an empty (or blank) value is
    "not given", text is stripped, and whatever else the form carries (its CSRF and one-time
    tokens, a button's name) is left to its owner. A field's `metadata["label"]` names it in
    the refusal.
    """

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _given(self, data: Mapping[str, Any], **_kwargs: Any) -> dict[str, Any]:
        given = {}
        for name, field in self.fields.items():
            key = field.data_key or name
            if key not in data:
                continue
            value = data[key]  # a MultiDict's first value
            if isinstance(value, str) and isinstance(field, Text):
                value = value.strip()
            if value != "":
                given[key] = value
        return given


class FormRefused(InvalidInput):
    """A form or query the schema refused; the message says what is wrong with each field (in
    `problems`, one sentence a field) in the page's language."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()), errors=problems)


def read(schema: Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values as the schema loads them; FormRefused if any field is wrong."""
    try:
        loaded: dict[str, Any] = schema.load(values)
    except ValidationError as error:
        messages = cast(dict[str, Any], error.messages)  # a schema's: per field
        raise FormRefused(
            {name: refusal(schema, name, messages[name]) for name in sorted(messages)}
        ) from None
    return loaded


def refusal(schema: Schema, name: str, messages: Any) -> str:
    """One field's fault as a sentence in the page's language: "<label>: <what to do>.", or
    the field's own message (written for the page, already translated) as it is."""
    first = str(messages[0] if isinstance(messages, list) and messages else messages)
    words = problem(first)
    if words is None:
        return first
    field = schema.fields.get(name)
    label = str(field.metadata.get("label", name)) if field else name
    return str(_("%(field)s: %(problem)s.", field=label, problem=words))


_PROBLEMS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"must not contain control characters"), _l("remove the control characters")),
    (re.compile(r"must be valid Unicode text.*"), _l("this is not valid text")),
    (
        re.compile(r"Length must be between 0 and (?P<max>\d+)\."),
        _l("write at most %(max)s characters"),
    ),
    (
        re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
        _l("write %(min)s to %(max)s characters"),
    ),
    (
        re.compile(r"Longer than maximum length (?P<max>\d+)\."),
        _l("write at most %(max)s characters"),
    ),
    (
        re.compile(r"Shorter than minimum length (?P<min>\d+)\."),
        _l("write at least %(min)s characters"),
    ),
    (re.compile(r"Missing data for required field\.|Field may not be null\."), _l("fill this in")),
    (
        re.compile(r"Not a valid (integer|number)\.|Number too large\.|Special numeric values.*"),
        _l("this is not a number"),
    ),
    (
        re.compile(
            r"Must be greater than or equal to (?P<min>\S+)"
            r" and less than or equal to (?P<max>\S+)\."
        ),
        _l("give a number from %(min)s to %(max)s"),
    ),
    (re.compile(r"Must be one of: .*"), _l("choose one of the list")),
    (
        re.compile(r"Not a valid (aware |naive )?datetime\.|must be between years 1 and 9999.*"),
        _l("give a date and time"),
    ),
    (re.compile(r"Not a valid boolean\."), _l("tick it or leave it empty")),
]


def problem(message: str) -> str | None:
    """What to do about a fault marshmallow or our fields found, in the page's language (None
    for a message of another kind)."""
    for pattern, words in _PROBLEMS:
        found = pattern.fullmatch(message)
        if found:
            return str(words) % found.groupdict() if found.groupdict() else str(words)
    return None
