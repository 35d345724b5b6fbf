"""One catalog entry: what an operation is (name, HTTP route, body kind: plain data) and who
implements it (a service function, named as ``"module:function"`` and imported on first use).

The HTTP transport reads only the data, so building the catalog imports no service module;
the REST app and the in-process transport bind the handler, whose signature gives the
request model and the argument handling.
"""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from shipyard._bounds import bounded, check_nested_ints, holds_model
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.security import OperationInfo, RequestContext

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation:
    """One control-plane operation and where it lives on the REST API."""

    name: str
    method: str
    path: str
    implementation: str | Callable[..., Any]
    """The service function, or where it lives: ``"shipyard.datasets:list_datasets"``."""
    status_code: int = 200
    raw_body: str | None = None
    """The parameter the request body is given to as raw bytes (an upload), if any."""
    summary: str = field(default="", compare=False)
    media_type: str = "application/octet-stream"
    """The content type of a result given as bytes."""
    streams_table: bool = False
    """Whether the result is a table streamed in record batches (Arrow IPC over HTTP)."""

    @cached_property
    def handler(self) -> Callable[..., Any]:
        """The service function, imported on first use; its result must match the catalog."""
        if callable(self.implementation):
            handler = self.implementation
        else:
            module, _, attribute = self.implementation.partition(":")
            handler = getattr(importlib.import_module(module), attribute)
        if _returns_table(handler) != self.streams_table:
            raise TypeError(f"{self.name}: streams_table does not match the handler's result")
        return handler

    @property
    def info(self) -> OperationInfo:
        from shipyard.security import OperationInfo

        info = getattr(self.handler, "__shipyard_operation__", None)
        if not isinstance(info, OperationInfo):
            raise TypeError(f"{self.name}: handler is not an @operation service function")
        return info

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @cached_property
    def params(self) -> dict[str, tuple[Any, Any]]:
        """Parameter name -> (annotation, default) of the handler, without the context."""
        hints = get_type_hints(self.handler)
        signature = inspect.signature(self.handler)
        return {
            name: (hints[name], ... if p.default is inspect.Parameter.empty else p.default)
            for name, p in signature.parameters.items()
            if name != "ctx"
        }

    @cached_property
    def request_params(self) -> dict[str, tuple[Any, Any]]:
        """``params`` as validated: ints bounded (to int64, or int32 for versions and report
        ids), floats finite, strings storable."""
        return {name: (bounded(a, name), default) for name, (a, default) in self.params.items()}

    @cached_property
    def request_model(self) -> type[BaseModel]:
        """A model of every parameter: one validation for both transports."""
        fields: dict[str, Any] = dict(self.request_params.items())
        config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
        return create_model(_camel(self.name) + "Request", __config__=config, **fields)

    @cached_property
    def list_params(self) -> frozenset[str]:
        """Parameters that take a list: repeated in a query string (``?columns=a&columns=b``)."""
        return frozenset(n for n, (a, _) in self.params.items() if _takes_list(a))

    @property
    def body_params(self) -> tuple[str, ...]:
        if self.method in ("GET", "DELETE") or self.raw_body:
            return ()
        skip = set(self.path_params) | {self.raw_body}
        return tuple(p for p in self.params if p not in skip)

    @property
    def query_params(self) -> tuple[str, ...]:
        skip = set(self.path_params) | {self.raw_body} | set(self.body_params)
        return tuple(p for p in self.params if p not in skip)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce arguments; the first problem names its field."""
        try:
            model = self.request_model.model_validate(arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(
                first["msg"].removeprefix("Value error, "),
                field=".".join(str(p) for p in first["loc"]) or None,
            ) from None
        valid = {name: getattr(model, name) for name in self.params}
        for name in self._model_params:
            check_nested_ints(valid[name], name)
        return valid

    @cached_property
    def _model_params(self) -> tuple[str, ...]:
        return tuple(n for n, (a, _) in self.params.items() if holds_model(a))

    def invoke(self, ctx: RequestContext, arguments: dict[str, Any]) -> Any:
        """Validate, then call the service function (which authorizes before it acts).

        Malformed arguments are reported only to a principal that may attempt the action.
        """
        try:
            valid = self.validate(arguments)
        except InvalidInput:
            ctx.authorize_attempt(self.info.action)
            raise
        return self.handler(ctx, **valid)


def _returns_table(handler: Callable[..., Any]) -> bool:
    import pyarrow as pa  # the server side only: the handler's module has loaded it already

    return get_type_hints(handler).get("return") is pa.RecordBatchReader


def _takes_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(typing.get_origin(a) is list for a in typing.get_args(annotation))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", name))
