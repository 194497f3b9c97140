# Type stubs for the part of flask-smorest 0.47 that itsm uses: flask-smorest ships no type
# information (no py.typed), and its Blueprint is subclassed and its decorators wrap our views.
# The decorators change how a view is called (arguments injected, the return value serialized);
# as in flask's own typing of view decorators, they are typed as keeping the view's type.

from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar

from apispec import APISpec
from flask import Blueprint as FlaskBlueprint
from flask import Flask
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from webargs.flaskparser import abort as abort
from werkzeug.exceptions import HTTPException

_F = TypeVar("_F", bound=Callable[..., Any])
_Status = int | str | HTTPStatus
_SchemaArg = Schema | type[Schema]

class Page:
    collection: Sequence[Any]
    page_params: Any
    def __init__(self, collection: Sequence[Any], page_params: Any) -> None: ...
    @property
    def items(self) -> list[Any]: ...
    @property
    def item_count(self) -> int: ...

class Blueprint(FlaskBlueprint):
    ARGUMENTS_PARSER: ClassVar[FlaskParser]
    HTTP_METHODS: ClassVar[list[str]]
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]]
    DOCSTRING_INFO_DELIMITER: ClassVar[str]
    description: str
    def __init__(self, *args: Any, description: str = ..., **kwargs: Any) -> None: ...
    def route(
        self,
        rule: str,
        *,
        parameters: Iterable[str | dict[str, Any]] | None = None,
        tags: Iterable[str] | None = None,
        **options: Any,
    ) -> Callable[[_F], _F]: ...
    def arguments(
        self,
        schema: _SchemaArg,
        *,
        location: str = "json",
        content_type: str | None = None,
        required: bool = True,
        description: str | None = None,
        example: Any = None,
        examples: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Callable[[_F], _F]: ...
    def response(
        self,
        status_code: _Status,
        schema: _SchemaArg | str | dict[str, Any] | None = None,
        *,
        content_type: str | None = None,
        description: str | None = None,
        example: Any = None,
        examples: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Callable[[_F], _F]: ...
    def alt_response(
        self,
        status_code: _Status,
        response: str | None = None,
        *,
        schema: _SchemaArg | str | dict[str, Any] | None = None,
        content_type: str | None = None,
        description: str | None = None,
        example: Any = None,
        examples: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        success: bool = False,
    ) -> Callable[[_F], _F]: ...
    def paginate(
        self,
        pager: type[Page] | None = None,
        *,
        page: int | None = None,
        page_size: int | None = None,
        max_page_size: int | None = None,
    ) -> Callable[[_F], _F]: ...
    def etag(self, obj: Any) -> Any: ...
    def check_etag(self, etag_data: Any, etag_schema: _SchemaArg | None = None) -> None: ...
    def set_etag(self, etag_data: Any, etag_schema: _SchemaArg | None = None) -> None: ...
    @staticmethod
    def doc(**kwargs: Any) -> Callable[[_F], _F]: ...

class Api:
    ERROR_SCHEMA: ClassVar[type[Schema]]
    config_prefix: str
    spec: APISpec
    def __init__(
        self,
        app: Flask | None = None,
        *,
        spec_kwargs: dict[str, Any] | None = None,
        config_prefix: str = "",
    ) -> None: ...
    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None: ...
    def register_blueprint(
        self,
        blp: Blueprint,
        *,
        parameters: Iterable[str | dict[str, Any]] | None = None,
        **options: Any,
    ) -> None: ...
    def handle_http_exception(
        self, error: HTTPException
    ) -> tuple[dict[str, Any], int | None, dict[str, Any]]: ...
    def register_converter(self, converter: type[Any], func: Callable[..., Any]) -> None: ...
    def register_field(self, field: type[Any], *args: Any) -> None: ...

current_api: Api
