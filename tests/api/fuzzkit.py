"""Strategies for the fuzz suite: arguments from an operation's parameter types, hostile
JSON values, and data-plane requests."""

from __future__ import annotations

import math
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shipyard.operations import Operation


def budget(examples: int) -> settings:
    """A fixed, reproducible budget: the same examples on every run, no example database."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )


HOSTILE_TEXT = st.sampled_from(
    ["", ".", "..", "a/./b", "/etc", "a\n", "a\x00b", "\ud800", "é" * 300, "x" * 10_000, "1e23"]
)
NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30]),
    st.floats(),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12), HOSTILE_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def for_type(annotation: Any, names: list[str]) -> st.SearchStrategy[Any]:
    """Values for a parameter of ``annotation``: mostly well-typed (unbounded), sometimes not."""
    return (
        st.one_of(_typed(annotation, names), JSON_VALUES)
        if annotation is not bool
        else _typed(annotation, names)
    )


def _typed(annotation: Any, names: list[str]) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return JSON_VALUES
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.one_of(st.integers(-3, 3), NUMBERS.filter(lambda v: isinstance(v, int)))
    if annotation is float:
        return NUMBERS
    if annotation is str:
        return st.one_of(st.sampled_from(names), st.text(max_size=20), HOSTILE_TEXT)
    if annotation in (bytes, Path):
        return st.binary(max_size=64)
    if annotation is datetime:
        return st.datetimes() | st.text(max_size=30)
    if origin is typing.Literal:
        return st.sampled_from(args) | st.text(max_size=8)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_typed(a, names) for a in args])
    if origin in (list, tuple, set, frozenset):
        return st.lists(_typed(args[0], names), max_size=3)
    if origin is dict:
        return st.dictionaries(_typed(args[0], names), _typed(args[1], names), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {
            name: for_type(info.annotation, names) for name, info in annotation.model_fields.items()
        }
        return st.fixed_dictionaries({}, optional=fields)
    return JSON_VALUES


def arguments(op: Operation, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Argument dicts for ``op``: every required parameter, any of the optional ones."""
    required = {n: for_type(a, names) for n, (a, d) in op.params.items() if d is ...}
    optional = {n: for_type(a, names) for n, (a, d) in op.params.items() if d is not ...}
    return st.fixed_dictionaries(required, optional=optional)


def _json_bytes(value: Any) -> bytes:
    """JSON as careless clients write it: NaN and Infinity included."""
    import json

    return json.dumps(value, allow_nan=True).encode()


ROW = st.lists(SCALARS, max_size=35)
INVOCATION_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"instances": st.lists(ROW | JSON_VALUES, max_size=3)}),
    st.fixed_dictionaries({"inputs": st.lists(ROW, max_size=3) | JSON_VALUES}),
    st.fixed_dictionaries(
        {
            "dataframe_split": st.fixed_dictionaries(
                {"columns": st.lists(st.text(max_size=12), max_size=35), "data": st.lists(ROW)}
            )
        }
    ),
    st.fixed_dictionaries(
        {"dataframe_records": st.lists(st.dictionaries(st.text(max_size=12), SCALARS))}
    ),
    st.fixed_dictionaries({"instances": st.lists(ROW, max_size=2), "params": JSON_VALUES}),
)
V2_TENSOR = st.fixed_dictionaries(
    {
        "name": st.text(max_size=12),
        "shape": st.lists(st.integers() | st.sampled_from([-1, 0, 2**40]), max_size=3),
        "datatype": st.sampled_from(["FP32", "FP64", "INT64", "BOOL", "BYTES"])
        | st.text(max_size=6),
        "data": JSON_VALUES,
    },
    optional={"parameters": JSON_VALUES},
)
V2_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"inputs": st.lists(V2_TENSOR, max_size=3)},
        optional={"outputs": JSON_VALUES, "id": JSON_VALUES, "parameters": JSON_VALUES},
    ),
)
FEEDBACK_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {
            "records": st.lists(
                st.fixed_dictionaries(
                    {}, optional={"request_id": st.text(max_size=40), "label": SCALARS}
                ),
                max_size=3,
            )
        }
    ),
)


def near_valid_bodies(columns: list[str]) -> st.SearchStrategy[tuple[Any, Any]]:
    """(invocation body, V2 body) of the right shape for a model taking ``columns``, with
    hostile values: NaN, infinities, huge numbers, strings and nulls among the numbers."""
    width = len(columns)
    value = st.one_of(st.floats(), NUMBERS, st.none(), st.text(max_size=4), st.booleans())
    finite = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
    row = st.lists(finite, min_size=width, max_size=width)
    hostile_row = st.lists(value, min_size=width, max_size=width)
    rows = st.lists(row, min_size=1, max_size=3) | st.lists(hostile_row, min_size=1, max_size=2)
    invocation = st.one_of(
        rows.map(lambda r: {"instances": r}),
        rows.map(lambda r: {"inputs": r}),
        rows.map(lambda r: {"dataframe_split": {"columns": columns, "data": r}}),
        rows.map(lambda r: {"dataframe_records": [dict(zip(columns, x, strict=True)) for x in r]}),
    )
    tensor = rows.map(
        lambda r: {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [len(r), width],
                    "datatype": "FP64",
                    "data": [x for line in r for x in line],
                }
            ]
        }
    )
    per_column = hostile_row.map(
        lambda r: {
            "inputs": [
                {"name": c, "shape": [1], "datatype": "FP64", "data": [x]}
                for c, x in zip(columns, r, strict=True)
            ]
        }
    )
    return st.tuples(invocation, tensor | per_column)


def data_plane_requests(
    endpoint: str, columns: list[str]
) -> st.SearchStrategy[tuple[str, str, bytes, str]]:
    """(method, path, body, content type) for the serving app's routes."""
    near = near_valid_bodies(columns)
    segment = st.sampled_from([endpoint, "1", "nope", "%00", "..", "x" * 300]) | st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%"),
        min_size=1,
        max_size=12,
    )
    encoded = st.one_of(
        near.map(lambda bodies: _json_bytes(bodies[0])),
        INVOCATION_BODIES.map(_json_bytes),
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
    )
    content_type = st.sampled_from(
        ["application/json", "text/csv", "application/octet-stream", "", "application/json; x"]
    )
    invocations = st.tuples(st.just("POST"), st.just("/invocations"), encoded, content_type)
    infer_path = st.one_of(
        st.just(f"/v2/models/{endpoint}/infer"),
        segment.map(lambda s: f"/v2/models/{s}/infer"),
        segment.map(lambda s: f"/v2/models/{endpoint}/versions/{s}/infer"),
    )
    v2_bodies = near.map(lambda bodies: bodies[1]) | V2_BODIES
    infer = st.tuples(st.just("POST"), infer_path, v2_bodies.map(_json_bytes), content_type)
    feedback = st.tuples(
        st.just("POST"), st.just("/feedback"), FEEDBACK_BODIES.map(_json_bytes), content_type
    )
    reads = st.tuples(
        st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
        st.one_of(
            segment.map(lambda s: f"/v2/models/{s}"),
            segment.map(lambda s: f"/v2/models/{endpoint}/versions/{s}/ready"),
            st.sampled_from(["/metrics", "/ping", "/v2/health/ready", "/invocations", "/feedback"]),
        ),
        st.just(b""),
        st.just(""),
    )
    # deferred: a failure report names this strategy, not its whole (large) definition
    return st.deferred(lambda: st.one_of(invocations, infer, feedback, reads))
