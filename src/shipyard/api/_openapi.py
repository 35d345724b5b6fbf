"""The OpenAPI description of the catalog's routes, from the types the operations use.

Parameters and request bodies come from each operation's validated parameter types,
result bodies from its handler's return annotation, and every route lists the 4xx
codes it may answer with the one error document, so a client (or a fuzzer) can check
each response against the document.
"""

from __future__ import annotations

from typing import Any, get_type_hints

import pyarrow as pa
from pydantic import TypeAdapter

from shipyard.api._stream import ARROW_STREAM
from shipyard.operations import Operation

ERROR = "Error"
TEMPLATE = "#/components/schemas/{model}"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every failed request: the error's type, what went wrong, and the field.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message", "field"],
            "properties": {
                "type": {"type": "string", "description": "InvalidInput, NotFound, ..."},
                "message": {"type": "string"},
                "field": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "description": "the offending input, when one is to blame",
                },
            },
        }
    },
}

ERROR_STATUSES: dict[int, str] = {
    400: "Invalid input (InvalidInput); `field` names it",
    401: "No key, or the key is not recognised (Unauthenticated)",
    403: "The key's policies do not allow it (AccessDenied)",
    404: "A named resource does not exist (NotFound)",
    409: "It clashes with existing state (Conflict)",
    422: "An artifact would need untrusted code to load (UnsafeArtifact)",
}
BODY_ERROR_STATUSES: dict[int, str] = {413: "The body is over the limit (PayloadTooLarge)"}

_Key = tuple[str, str | None]
# Results sent as they are, not as JSON: bytes, and tables streamed as Arrow IPC.
RAW_RESULTS: dict[Any, str] = {
    bytes: "application/octet-stream",
    pa.RecordBatchReader: ARROW_STREAM,
}


def result_type(op: Operation) -> Any:
    """What the operation's handler returns (its return annotation)."""
    return get_type_hints(op.handler).get("return", Any)


class OperationSchemas:
    """JSON schemas of every operation's parameters and result, generated in one pass so a
    model used in both directions gets one component name per distinct shape."""

    def __init__(self, operations: tuple[Operation, ...]) -> None:
        inputs: list[tuple[_Key, Any, TypeAdapter[Any]]] = []
        for op in operations:
            for name, (annotation, _) in op.request_params.items():
                if name != op.raw_body:
                    inputs.append(((op.name, name), "validation", TypeAdapter(annotation)))
            returns = result_type(op)
            if returns not in RAW_RESULTS:
                inputs.append(((op.name, None), "serialization", TypeAdapter(returns)))
        keyed, defs = TypeAdapter.json_schemas(inputs, ref_template=TEMPLATE)
        self._schemas: dict[_Key, dict[str, Any]] = {key: s for (key, _), s in keyed.items()}
        self.components: dict[str, Any] = {**defs.get("$defs", {}), ERROR: ERROR_SCHEMA}

    def openapi_extra(self, op: Operation) -> dict[str, Any]:
        """The operation's parameters and request body."""

        def schema(name: str) -> dict[str, Any]:
            return self._schemas[(op.name, name)]

        parameters = [
            {"name": n, "in": "path", "required": True, "schema": schema(n)} for n in op.path_params
        ] + [
            {
                "name": n,
                "in": "query",
                "required": op.params[n][1] is ...,
                "schema": schema(n),
            }
            for n in op.query_params
        ]
        extra: dict[str, Any] = {"parameters": parameters}
        if op.raw_body:
            extra["requestBody"] = {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        elif op.body_params:
            properties = {n: schema(n) for n in op.body_params}
            required = [n for n in op.body_params if op.params[n][1] is ...]
            extra["requestBody"] = {
                "required": bool(required),
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": properties,
                            "required": required,
                            "additionalProperties": False,
                        }
                    }
                },
            }
        return extra

    def responses(self, op: Operation) -> dict[int | str, dict[str, Any]]:
        """The success body (the handler's result) and every error status with its body."""
        returns = result_type(op)
        if returns in RAW_RESULTS:
            content = {RAW_RESULTS[returns]: {"schema": {"type": "string"}}}
        else:
            content = {"application/json": {"schema": self._schemas[(op.name, None)]}}
        error = {"application/json": {"schema": {"$ref": TEMPLATE.format(model=ERROR)}}}
        statuses = dict(ERROR_STATUSES)
        if op.raw_body or op.body_params:
            statuses |= BODY_ERROR_STATUSES
        responses: dict[int | str, dict[str, Any]] = {
            op.status_code: {"description": "Success", "content": content}
        }
        for status, description in sorted(statuses.items()):
            responses[status] = {"description": description, "content": error}
        return responses
