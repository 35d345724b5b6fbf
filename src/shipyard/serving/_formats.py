"""The request bodies ``/invocations`` understands: MLflow's JSON formats and CSV.

As in MLflow's scoring protocol, a JSON body may carry ``params`` beside its input
(``{"dataframe_split": ..., "params": {"num_iteration": 10}}``): an object of
scalars or lists of scalars, handed to the model where its flavor applies them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from shipyard.errors import InvalidInput, UnsupportedMediaType
from shipyard.serving._enrich import RequestColumns
from shipyard.serving._features import FeatureBuilder, Features

JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS = "params"
_SPLIT_KEYS = frozenset({"columns", "data", "index"})
_SCALARS = (str, int, float, bool)

Params = dict[str, Any]


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


def _is_csv(content_type: str) -> bool:
    """Whether a body is CSV (else JSON); UnsupportedMediaType for any other media type."""
    if not content_type or content_type == "application/json":
        return False
    media = content_type.partition(";")[0].strip().lower()
    if media == "text/csv":
        return True
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"unsupported content type {media!r}; send application/json or text/csv",
            field="content-type",
        )
    return False


def parse_invocation(body: bytes, content_type: str, features: FeatureBuilder) -> Features:
    """Read an ``/invocations`` body into model input, checked against the signature."""
    return read_invocation(body, content_type, features)[0]


def read_invocation(
    body: bytes, content_type: str, features: FeatureBuilder
) -> tuple[Features, Params | None]:
    """An ``/invocations`` body as model input and its ``params`` (None when it has none)."""
    if _is_csv(content_type):
        return _parse_csv(body, features), None
    payload = parse_json(body)
    params = None
    if type(payload) is not dict or len(payload) != 1:
        payload, params = _split_params(payload)
    return _parse_payload(payload, body, features), params


def _parse_payload(payload: dict[str, Any], body: bytes, features: FeatureBuilder) -> Features:
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


def _split_params(payload: object) -> tuple[dict[str, Any], Params]:
    """The input part of a body with ``params`` beside it, and the checked params."""
    if not isinstance(payload, dict) or PARAMS not in payload or len(payload) != 2:
        raise _format_error(payload)
    params = payload[PARAMS]
    if not isinstance(params, dict):
        raise InvalidInput("expected an object of parameter names and values", field=PARAMS)
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        if not name or not all(isinstance(v, _SCALARS) for v in values):
            raise InvalidInput(
                "expected a string, number, boolean or a list of those", field=f"{PARAMS}.{name}"
            )
    return {k: v for k, v in payload.items() if k != PARAMS}, params


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
    header, cells = _csv_table(body)
    columns = dict(zip(header, zip(*cells, strict=True), strict=True))
    return features.from_text_columns(columns, where="body")


_NAMED = (
    "an endpoint with online features needs named columns: send dataframe_split with "
    '"columns", dataframe_records, a list of objects, or "inputs" as an object of columns'
)


def invocation_columns(body: bytes, content_type: str) -> tuple[RequestColumns, Params | None]:
    """Read an ``/invocations`` body as named columns, for an endpoint that adds features,
    and its ``params`` (None when it has none).

    Values are not checked here: key columns go to the online store, the others to
    the model's input checks once the store's columns are in.
    """
    if _is_csv(content_type):
        header, cells = _csv_table(body)
        columns = {
            name: list(values)
            for name, values in zip(header, zip(*cells, strict=True), strict=True)
        }
        return RequestColumns(columns, len(cells), text=True), None
    payload = parse_json(body)
    params = None
    if type(payload) is not dict or len(payload) != 1:
        payload, params = _split_params(payload)
    return _payload_columns(payload), params


def _payload_columns(payload: dict[str, Any]) -> RequestColumns:
    ((key, value),) = payload.items()
    if key not in JSON_FORMATS:
        raise _format_error(payload)
    if key == "dataframe_split":
        return _split_columns(value)
    if key == "inputs" and isinstance(value, dict):
        return _named_columns(value, key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _record_columns(value, key)
    if key == "dataframe_records":
        raise InvalidInput("expected a non-empty list of records", field=key)
    raise InvalidInput(_NAMED, field=key)


def _split_columns(value: object) -> RequestColumns:
    where = "dataframe_split"
    if not isinstance(value, dict):
        raise InvalidInput('expected an object with "columns" and "data"', field=where)
    unknown = next((key for key in value if key not in _SPLIT_KEYS), None)
    if unknown is not None:
        raise InvalidInput(f"unexpected key in {where}", field=f"{where}.{unknown}")
    if "columns" not in value:
        raise InvalidInput(_NAMED, field=f"{where}.columns")
    names, rows = value["columns"], value.get("data")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidInput("expected a list of column names", field=f"{where}.columns")
    _unique(names)
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("expected a non-empty list of rows", field=f"{where}.data")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInput(
                f"row {i} must be a list of {len(names)} values in column order",
                field=f"{where}.data",
            )
    columns = {
        name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)
    }
    return RequestColumns(columns, len(rows))


def _named_columns(value: dict[str, Any], where: str) -> RequestColumns:
    length = -1
    for name, values in value.items():
        if not isinstance(values, list):
            raise InvalidInput("expected a list of values", field=name)
        if length < 0:
            length = len(values)
        elif len(values) != length:
            raise InvalidInput(
                f"has {len(values)} values where other columns have {length}", field=name
            )
    if length <= 0:
        raise InvalidInput("expected at least one row", field=where)
    return RequestColumns(dict(value), length)


def _record_columns(records: list[Any], where: str) -> RequestColumns:
    first = records[0]
    names = list(first)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInput(f"record {i} must be an object", field=where)
        if len(record) != len(names) or any(name not in record for name in names):
            odd = next((n for n in record if n not in first), None) or next(
                n for n in names if n not in record
            )
            raise InvalidInput(f"record {i} has other columns than record 0", field=odd)
        for name in names:
            columns[name].append(record[name])
    return RequestColumns(columns, len(records))


def _unique(names: list[str]) -> None:
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise InvalidInput("column given more than once", field=duplicate)


def _csv_table(body: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and data rows of a CSV body, every row as wide as the header."""
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
    _unique(header)
    return header, table[1:]
