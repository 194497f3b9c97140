"""The API object, its parser and blueprints, its error format; `init_api` wires them with
authentication (api/auth.py) and the request's session (itsm/request_scope.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
from flask import Flask, request
from flask_smorest import Api as SmorestApi
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from itsm.errors import ItsmError, PreconditionRequired
from itsm.request_scope import close_session, current_actor, db_session

__all__ = ["Blueprint", "current_actor", "db_session", "required_if_match"]

API_PREFIX = "/api/v1"
PUBLIC_PATHS = {f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"}


class ErrorSchema(Schema):
    status = fields.Integer(metadata={"description": "HTTP status"})
    code = fields.String(metadata={"description": "Machine-readable error code"})
    message = fields.String(metadata={"description": "What went wrong and what to do"})
    errors = fields.Dict(metadata={"description": "Field errors"})
    allowed = fields.List(fields.String(), metadata={"description": "Triggers allowed now"})
    state = fields.String(metadata={"description": "The ticket's state, with a refused trigger"})
    refused_fields = fields.List(
        fields.String(), data_key="fields", metadata={"description": "Fields you may not change"}
    )


def error_body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "code": code, "message": message, **extra}


def _validation_message(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        lines: list[str] = []
        for key, value in errors.items():
            name = key if key not in ("json", "query", "headers", "form", "files") else ""
            lines += _validation_message(value, f"{prefix}.{name}".strip(".") if name else prefix)
        return lines
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{prefix}: {' '.join(errors)}" if prefix else " ".join(errors)]
    if isinstance(errors, list):
        return [line for e in errors for line in _validation_message(e, prefix)]
    return [f"{prefix}: {errors}"]


class Parser(FlaskParser):
    """webargs' parser, with plainer answers for a body that is not JSON: 415 for another
    content type (instead of "missing field"s), 400 saying where the JSON breaks, and 400, not
    500, for JSON that parses only to blow up (nested thousands deep: RecursionError; an integer
    of more than 4300 digits: ValueError)."""

    def _raw_load_json(self, req: Any) -> Any:
        if req.content_length and not is_json_request(req):
            message = (
                f"send the body as JSON, with Content-Type: application/json (not {req.mimetype})"
            )
            abort(415, message=message)
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs answers these itself
        except RecursionError:
            self._handle_invalid_json_error(json.JSONDecodeError("nested too deeply", "?", 0), req)
        except ValueError:  # int() of too many digits
            error = json.JSONDecodeError("a number has more than 4300 digits", "?", 0)
            self._handle_invalid_json_error(error, req)

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        abort(400, exc=error, messages={"json": [f"the body is not valid JSON: {error}"]})


F = TypeVar("F", bound=Callable[..., Any])


def required_if_match(what: str) -> str:
    """The request's If-Match header; 428 without one."""
    header = request.headers.get("If-Match", "")
    if not header:
        raise PreconditionRequired(
            f"send If-Match with the ETag from your last GET of {what}, "
            "so that nobody's change is lost"
        )
    return header


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def needs_if_match(self, what: str, any_version: bool = False) -> Callable[[F], F]:
        """Document a change that names, in If-Match, the version of `what` it was based on
        (`any_version`: `*` replaces whatever is there)."""
        described = f"The ETag of your last GET of {what}"
        header = {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string"},
            "description": described + (" (`*`: whatever it is now)" if any_version else ""),
        }

        def decorate(func: F) -> F:
            func = self.alt_response(
                412,
                schema=ErrorSchema,
                description=f"{what} changed since; the ETag header names the current version",
            )(func)
            func = self.alt_response(428, schema=ErrorSchema, description="If-Match is missing")(
                func
            )
            return self.doc(parameters=[header])(func)

        return decorate


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not request.path.startswith(("/api/", "/hooks/")):
            return error
        data = getattr(error, "data", None) or {}
        code = (error.name or "error").lower().replace(" ", "_")
        extra: dict[str, Any] = {}
        message = data.get("message") or error.description or error.name
        if "messages" in data or "errors" in data:
            errors = data.get("errors") or data.get("messages")
            extra["errors"] = errors
            code = "invalid_input"
            message = "invalid request: " + "; ".join(_validation_message(errors))
        status = error.code or 500
        return error_body(status, code, message, **extra), status, data.get("headers", {})


def handle_itsm_error(error: ItsmError) -> Any:
    details = dict(error.details)
    headers = {}
    if "current_etag" in details:
        headers["ETag"] = details.pop("current_etag")
    return error_body(error.status, error.code, error.message, **details), error.status, headers


def handle_stale(_error: StaleDataError) -> Any:
    message = "the record changed while you were changing it; reload it and try again"
    return error_body(412, "precondition_failed", message), 412


def handle_integrity(_error: IntegrityError) -> Any:
    message = "the change conflicts with existing data (a duplicate or a missing reference)"
    return error_body(409, "conflict", message), 409


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="itsm",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
            "info": {"description": "Tickets and SLA workflows for healthcare-IT contracts."},
        },
    )
    from itsm.api.auth import authenticate

    api = Api(app)
    app.register_error_handler(ItsmError, handle_itsm_error)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(IntegrityError, handle_integrity)
    app.before_request(authenticate)
    app.teardown_appcontext(close_session)
    from itsm import areas
    from itsm.api import docs

    for area in areas.AREAS:
        for reference in area.api:
            api.register_blueprint(areas.attribute(reference), url_prefix=API_PREFIX)
    app.register_blueprint(docs.blp)
    return api
