"""Check request data against a model signature and turn it into the model's input."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ColumnType, ModelSignature
from shipyard.flavors._signature_check import python_types
from shipyard.flavors._timestamps import text_timestamp_seconds, timestamp_seconds
from shipyard.serving._input_stats import InputTally

Features: TypeAlias = np.ndarray | pd.DataFrame

_NUMBER_KINDS = ("i", "u", "f")
# The JSON values numeric columns take, by the one signature rule: numbers, not booleans.
_FLOAT_VALUES = python_types("float")
_INTEGER_VALUES = python_types("integer")
_TRUE_TEXT = frozenset({"true", "1"})
_FALSE_TEXT = frozenset({"false", "0"})


class FeatureBuilder:
    """Builds model input from rows, columns or records, naming the column at fault on bad data.

    When the model takes a float matrix and every column is numeric, a well-formed
    batch goes straight from JSON lists to one ``np.array`` call; anything unusual
    takes the checked path, which validates value by value and reports the batch's
    nulls and unseen categories to ``tally``.
    """

    def __init__(
        self, signature: ModelSignature, *, ndarray: bool, tally: InputTally | None = None
    ) -> None:
        self.names: tuple[str, ...] = tuple(signature.input_names)
        self._name_list = list(self.names)
        self.types: dict[str, ColumnType] = {c.name: c.type for c in signature.inputs}
        self._ndarray = ndarray
        self._tally = tally
        self._fast = (
            ndarray
            and all(c.type in ("float", "integer") for c in signature.inputs)
            and not (tally is not None and tally.has_categories)
        )
        self._integer_positions = [i for i, c in enumerate(signature.inputs) if c.type == "integer"]
        self._getter: Callable[[Any], Sequence[Any]]
        if len(self.names) == 1:
            only = self.names[0]
            self._getter = lambda record: (record[only],)
        else:
            self._getter = operator.itemgetter(*self.names)

    def from_rows(
        self, rows: object, columns: object = None, *, where: str, checked: bool = False
    ) -> Features:
        """Rows of values, in ``columns`` order (signature order when ``columns`` is None)."""
        if not isinstance(rows, list) or not rows:
            raise InvalidInput("expected a non-empty list of rows", field=where)
        given = self.names if columns is None else self._columns(columns, where)
        if self._fast and not checked:
            matrix = _number_matrix(rows, len(given))
            if matrix is not None:
                if given is not self.names:
                    position = {name: i for i, name in enumerate(given)}
                    matrix = matrix[:, [position[name] for name in self.names]]
                if matrix.dtype == np.float64:
                    if not self._integer_positions or self._integral(matrix):
                        return matrix
                elif self._integral(matrix):
                    return matrix.astype(np.float64)
        for i, row in enumerate(rows):
            if not isinstance(row, list | tuple) or len(row) != len(given):
                raise InvalidInput(
                    f"row {i} must be a list of {len(given)} values in column order", field=where
                )
        return self._assemble(dict(zip(given, zip(*rows, strict=True), strict=True)))

    def from_columns(self, mapping: object, *, where: str, checked: bool = False) -> Features:
        """A mapping of column name to its list of values."""
        if not isinstance(mapping, dict) or not mapping:
            raise InvalidInput("expected an object of column name to list of values", field=where)
        self._check_names(mapping, where)
        length = -1
        for name in self.names:
            values = mapping[name]
            if not isinstance(values, list):
                raise InvalidInput("expected a list of values", field=name)
            if length < 0:
                length = len(values)
            elif len(values) != length:
                raise InvalidInput(
                    f"has {len(values)} values where other columns have {length}", field=name
                )
        if length == 0:
            raise InvalidInput("expected at least one row", field=where)
        if self._fast and not checked:
            matrix = _number_matrix([mapping[name] for name in self.names], length)
            if matrix is not None:
                matrix = np.ascontiguousarray(matrix.T)
                if self._integral(matrix):
                    return matrix.astype(np.float64, copy=False)
        return self._assemble(mapping)

    def from_records(self, records: object, *, where: str, checked: bool = False) -> Features:
        """A list of objects, one per row, keyed by column name."""
        if not isinstance(records, list) or not records:
            raise InvalidInput("expected a non-empty list of records", field=where)
        rows: list[Sequence[Any]] = []
        try:
            rows = [self._getter(record) for record in records]
            complete = sum(map(len, records)) == len(self.names) * len(records)
        except (KeyError, TypeError, IndexError):
            complete = False
        if not complete:
            for i, record in enumerate(records):
                if not isinstance(record, dict):
                    raise InvalidInput(f"record {i} must be an object", field=where)
                self._check_names(record, f"{where}[{i}]")
            raise InvalidInput("records do not match the model's columns", field=where)
        return self.from_rows(rows, None, where=where, checked=checked)

    def from_text_columns(self, mapping: Mapping[str, Sequence[str]], *, where: str) -> Features:
        """Columns of text cells (CSV), converted to each column's type."""
        self._check_names(mapping, where)
        return self._finish(
            {name: _parse_text(name, self.types[name], mapping[name]) for name in self.names}
        )

    def from_named(
        self,
        columns: Mapping[str, Sequence[Any]],
        *,
        text: Collection[str] = (),
        where: str,
    ) -> Features:
        """The model's columns picked by name from ``columns``, which may hold others too.

        Columns named in ``text`` hold CSV cells and are converted to their type;
        the rest are checked value by value (nulls become NaN in float columns).
        """
        arrays: dict[str, np.ndarray] = {}
        for name in self.names:
            values = columns.get(name)
            if values is None:
                raise InvalidInput("missing column", field=name)
            kind = self.types[name]
            if name in text:
                arrays[name] = _parse_text(name, kind, values)
            else:
                arrays[name] = _check_column(name, kind, values)
        if not arrays or not len(next(iter(arrays.values()))):
            raise InvalidInput("expected at least one row", field=where)
        return self._finish(arrays)

    def _columns(self, columns: object, where: str) -> tuple[str, ...]:
        if not isinstance(columns, list):
            raise InvalidInput("expected a list of column names", field=f"{where}.columns")
        if columns == self._name_list:
            return self.names
        self._check_names(columns, where)
        return tuple(columns)

    def _check_names(self, given: Iterable[object], where: str) -> None:
        seen: set[str] = set()
        for name in given:
            if not isinstance(name, str):
                raise InvalidInput(f"column names must be strings, got {name!r:.40}", field=where)
            if name not in self.types:
                expected = ", ".join(self.names[:20]) + (", ..." if len(self.names) > 20 else "")
                raise InvalidInput(f"unknown column; the model takes: {expected}", field=name)
            if name in seen:
                raise InvalidInput("column given more than once", field=name)
            seen.add(name)
        for name in self.names:
            if name not in seen:
                raise InvalidInput("missing column", field=name)

    def _integral(self, matrix: np.ndarray) -> bool:
        if matrix.dtype.kind != "f" or not self._integer_positions:
            return True
        part = matrix[:, self._integer_positions]
        return bool(np.all(part == np.floor(part)))

    def _assemble(self, columns: Mapping[str, Sequence[Any]]) -> Features:
        return self._finish(
            {name: _check_column(name, self.types[name], columns[name]) for name in self.names}
        )

    def _finish(self, arrays: dict[str, np.ndarray]) -> Features:
        if self._tally is not None:
            self._tally.observe_columns([arrays[name] for name in self.names])
        if self._ndarray:
            return np.column_stack([arrays[name].astype(np.float64) for name in self.names])
        return pd.DataFrame(arrays)


def _number_matrix(rows: list[Any], width: int) -> np.ndarray | None:
    """A 2-D numeric array when every row is a list of ``width`` plain numbers, else None."""
    try:
        matrix = np.array(rows)
    except (ValueError, TypeError, OverflowError):
        return None
    if matrix.dtype.kind not in _NUMBER_KINDS or matrix.ndim != 2 or matrix.shape[1] != width:
        return None
    return matrix


def _describe(value: object) -> str:
    kind = {str: "string", bool: "boolean", list: "list", dict: "object"}.get(type(value))
    shown = "null" if value is None else repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}" if kind else shown


def _check_column(name: str, kind: ColumnType, values: Sequence[Any]) -> np.ndarray:
    types = set(map(type, values))
    if kind == "float":
        if types <= _FLOAT_VALUES:
            try:
                return np.array(values, dtype=np.float64)
            except OverflowError as exc:
                raise InvalidInput("number too large for a float", field=name) from exc
        if types <= _FLOAT_VALUES | {type(None)}:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        bad = next(v for v in values if type(v) not in _FLOAT_VALUES and v is not None)
        raise InvalidInput(f"expected a number, got {_describe(bad)}", field=name)
    if kind == "integer":
        if not types <= _INTEGER_VALUES:
            bad = next((v for v in values if v is not None and not _is_integral(v)), None)
            if bad is not None:
                raise InvalidInput(f"expected an integer, got {_describe(bad)}", field=name)
            if type(None) in types:  # nulls reach the model as NaN, like missing floats
                return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            values = [int(v) for v in values]
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError as exc:
            raise InvalidInput("integer out of the 64-bit range", field=name) from exc
    if kind == "timestamp":
        return timestamp_seconds(values, name)
    if kind == "boolean":
        if types == {bool}:
            return np.array(values, dtype=np.bool_)
        if types <= {bool, type(None)}:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        bad = next(v for v in values if type(v) is not bool)
        raise InvalidInput(f"expected true or false, got {_describe(bad)}", field=name)
    if types <= {str, type(None)}:
        return np.array(values, dtype=object)
    bad = next(v for v in values if type(v) is not str and v is not None)
    raise InvalidInput(f"expected a string, got {_describe(bad)}", field=name)


def _parse_text(name: str, kind: ColumnType, cells: Sequence[str]) -> np.ndarray:
    if kind == "string":
        return np.array(cells, dtype=object)
    if kind == "timestamp":
        return text_timestamp_seconds(cells, name)
    if kind == "boolean":
        lowered = [cell.strip().lower() for cell in cells]
        bad = next((c for c in lowered if c and c not in _TRUE_TEXT | _FALSE_TEXT), None)
        if bad is not None:
            raise InvalidInput(f"expected true or false, got {bad!r:.40}", field=name)
        if all(lowered):
            return np.array([c in _TRUE_TEXT for c in lowered], dtype=np.bool_)
        return np.array([float(c in _TRUE_TEXT) if c else np.nan for c in lowered])
    blanks = any(not c.strip() for c in cells)
    target = np.float64 if kind == "float" or blanks else np.int64
    prepared = [c if c.strip() else "nan" for c in cells] if target == np.float64 else list(cells)
    expected = "a number" if kind == "float" else "an integer"
    try:
        parsed = np.array(prepared, dtype=target)
    except (ValueError, OverflowError):
        pass
    else:
        if kind == "float" or parsed.dtype == np.int64:
            return parsed
        fractional = parsed[np.isfinite(parsed) & (parsed != np.floor(parsed))]
        if not len(fractional):
            return parsed
        raise InvalidInput(f"expected {expected}, got {fractional[0]!r:.40}", field=name)
    for cell in prepared:
        try:
            np.array(cell, dtype=target)
        except (ValueError, OverflowError):
            raise InvalidInput(f"expected {expected}, got {cell!r:.40}", field=name) from None
    raise InvalidInput(f"expected {expected} in every row", field=name)


def _is_integral(value: object) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())
