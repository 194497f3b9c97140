"""Marshmallow fields that refuse what the database would choke on, with plain messages."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DIGITS = re.compile(r"-?[0-9]+")


class Text(fields.String):
    """A string of at most `max_length` characters, without control characters."""

    def __init__(self, max_length: int, *, min_length: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _CONTROL.search(text):
            raise ValidationError("must not contain control characters")
        if _SURROGATE.search(text):
            raise ValidationError("must be valid Unicode text, without lone surrogates")
        return text


class _Id(fields.Integer):
    def _validated(self, value: Any) -> int:
        # int() also reads "１２３", " 12", "+5" and "1_000": an id in text is ASCII digits
        # (a minus sign is left for the range check to refuse with its message).
        if isinstance(value, str) and not _DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return super()._validated(value)


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802 - a field type
    """A record id: a positive 32-bit integer; a JSON number, or ASCII digits with strict=False
    (for a query string or a page's form, where every value is text)."""
    return _Id(strict=strict, validate=validate.Range(1, MAX_ID), **kwargs)


def Enum(values: Any, **kwargs: Any) -> fields.String:  # noqa: N802 - reads as a field type
    choices = [str(v) for v in values]
    return fields.String(validate=validate.OneOf(choices), **kwargs)


class _Instant(fields.AwareDateTime):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            instant.astimezone(UTC)  # stored as UTC: 0001-01-01T00:00+01:00 has no UTC year
        except OverflowError:
            raise ValidationError("must be between years 1 and 9999 in UTC") from None
        return instant


def Instant(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802 - reads as a field type
    """An ISO 8601 instant with its UTC offset, e.g. 2025-10-01T10:00:00+08:00."""
    return _Instant(format="iso", **kwargs)
