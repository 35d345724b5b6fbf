"""The request bodies ``/invocations`` understands: MLflow's JSON formats and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from shipyard.errors import InvalidInput
from shipyard.serving._features import FeatureBuilder, Features

JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_SPLIT_KEYS = frozenset({"columns", "data", "index"})


class UnsupportedMediaType(InvalidInput):
    """The request body is in a media type the route does not read."""


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, turning a syntax error into InvalidInput."""
    if not body:
        raise InvalidInput("the request body is empty", field="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}", field="body") from None


def may_hold_booleans(body: bytes) -> bool:
    """Whether a JSON body may hold ``true``/``false``, which the numeric fast path would coerce."""
    return b"true" in body or b"false" in body


def parse_invocation(body: bytes, content_type: str, features: FeatureBuilder) -> Features:
    """Read an ``/invocations`` body into model input, checked against the signature."""
    if content_type and content_type != "application/json":
        media = content_type.partition(";")[0].strip().lower()
        if media == "text/csv":
            return _parse_csv(body, features)
        if media != "application/json" and not media.endswith("+json"):
            raise UnsupportedMediaType(
                f"unsupported content type {media!r}; send application/json or text/csv",
                field="content-type",
            )
    payload = parse_json(body)
    if type(payload) is not dict or len(payload) != 1:
        raise _format_error(payload)
    ((key, value),) = payload.items()
    checked = may_hold_booleans(body)
    if key == "dataframe_split":
        return _parse_split(value, features, checked)
    if key == "dataframe_records":
        return features.from_records(value, where=key, checked=checked)
    if key == "instances" or key == "inputs":
        if key == "inputs" and isinstance(value, dict):
            return features.from_columns(value, where=key, checked=checked)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return features.from_records(value, where=key, checked=checked)
        return features.from_rows(value, None, where=key, checked=checked)
    raise _format_error(payload)


def _format_error(payload: object) -> InvalidInput:
    expected = ", ".join(JSON_FORMATS)
    if not isinstance(payload, dict):
        return InvalidInput(f"expected a JSON object with one of: {expected}", field="body")
    found = [key for key in JSON_FORMATS if key in payload]
    if len(found) != 1:
        got = f"; got {', '.join(found)}" if found else ""
        return InvalidInput(f"expected exactly one of: {expected}{got}", field="body")
    extra = next(key for key in payload if key != found[0])
    return InvalidInput(f"unexpected key beside {found[0]!r}", field=extra)


def _parse_split(value: object, features: FeatureBuilder, checked: bool) -> Features:
    where = "dataframe_split"
    if not isinstance(value, dict):
        raise InvalidInput('expected an object with "columns" and "data"', field=where)
    if len(value) != 2 or "data" not in value or "columns" not in value:
        unknown = next((key for key in value if key not in _SPLIT_KEYS), None)
        if unknown is not None:
            raise InvalidInput(f"unexpected key in {where}", field=f"{where}.{unknown}")
        if "data" not in value:
            raise InvalidInput("missing", field=f"{where}.data")
    return features.from_rows(
        value["data"], value.get("columns"), where=f"{where}.data", checked=checked
    )


def _parse_csv(body: bytes, features: FeatureBuilder) -> Features:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("CSV body is not UTF-8 text", field="body") from None
    try:
        table = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as exc:
        raise InvalidInput(f"malformed CSV: {exc}", field="body") from None
    if len(table) < 2:
        raise InvalidInput("CSV needs a header row and at least one data row", field="body")
    header = [name.strip() for name in table[0]]
    for i, row in enumerate(table[1:], start=2):
        if len(row) != len(header):
            raise InvalidInput(f"has {len(row)} cells, header has {len(header)}", field=f"line {i}")
    columns = dict(zip(header, zip(*table[1:], strict=True), strict=True))
    if len(columns) != len(header):
        duplicate = next(name for name in header if header.count(name) > 1)
        raise InvalidInput("column given more than once", field=duplicate)
    return features.from_text_columns(columns, where="body")
