"""Domain errors of the service; the API and pages translate them to HTTP in one place."""

from __future__ import annotations

from typing import Any


class ItsmError(Exception):
    """Base of every failure a caller can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ItsmError):
    status = 404
    code = "not_found"


class Forbidden(ItsmError):
    """The actor may see the record but not do this to it."""

    status = 403
    code = "forbidden"


class InvalidInput(ItsmError):
    status = 422
    code = "invalid_input"


class CallTimeOutOfRange(InvalidInput):
    """A call said to have started longer before its ticket was opened than calls may be
    backdated, or ahead of the clock; pages say so in their language from these facts."""

    def __init__(self, message: str, *, too_early: bool, max_backdate_hours: int) -> None:
        rule = (
            f"must be at most {max_backdate_hours} hours before the ticket was opened"
            if too_early
            else "must not be in the future"
        )
        super().__init__(message, errors={"reported_at": [rule]})
        self.too_early = too_early
        self.max_backdate_hours = max_backdate_hours


class Conflict(ItsmError):
    status = 409
    code = "conflict"


class TransitionRefused(Conflict):
    """A workflow trigger that is not allowed now; `details["allowed"]` lists what is."""

    code = "transition_refused"


class PreconditionRequired(ItsmError):
    status = 428
    code = "precondition_required"


class PreconditionFailed(ItsmError):
    status = 412
    code = "precondition_failed"


class IdempotencyKeyReused(ItsmError):
    status = 422
    code = "idempotency_key_reused"
