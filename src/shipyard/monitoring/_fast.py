"""The fast path of flattening: one-row requests read as CSV by Arrow's parallel reader.

A one-row capture input is ``<prefix>,"data":[[v1,v2,...]]}``; its middle is a CSV line
whenever it holds no backslash (so no escaped quote: a JSON string is then a CSV quoted
field) and no ``],[`` (one row). When every row of a file's prefix group is such a row,
the middles are handed to the CSV reader as one buffer, with no per-row Python; otherwise,
or when a value does not fit its declared type (schema violations are counted by the JSON
path), the rows go the JSON way (``_window.flatten``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.monitoring._features import Feature

_OPENING = ',"data":[['
_CLOSING = "]]}"


def fast_mask(inputs: pa.ChunkedArray | pa.Array, prefix: str, features: list[Feature]) -> pa.Array:
    """Which rows are one-row inputs of this prefix (none when a feature is not plain)."""
    if any(f.type in ("boolean", "timestamp") for f in features):
        return pa.array([False] * len(inputs))
    ok = pc.and_(pc.starts_with(inputs, prefix + _OPENING), pc.ends_with(inputs, _CLOSING))
    return pc.fill_null(ok, False)


def _lines(inputs: pa.ChunkedArray | pa.Array, start: int) -> pa.Buffer:
    """The middles of the inputs, one a line, as one buffer."""
    middles = pc.binary_slice(pc.cast(inputs, pa.binary()), start, -len(_CLOSING))
    joined = pc.binary_join_element_wise(middles, pa.scalar(b""), b"\n")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    first, last = offsets[joined.offset], offsets[joined.offset + len(joined)]
    data = joined.buffers()[2]
    assert data is not None
    return data[int(first) : int(last)]


def read_rows(
    inputs: pa.ChunkedArray | pa.Array, prefix: str, columns: list[str], features: list[Feature]
) -> pa.Table | None:
    """The features of one-row inputs (all passing ``fast_mask``) as typed columns
    ``f0..fn``; None when a row is not plain CSV or a value does not fit its type."""
    import pyarrow.csv as csv

    if any(f.name not in columns for f in features):
        return None
    lines = _lines(inputs, len((prefix + _OPENING).encode()))
    raw = lines.to_pybytes()
    if b"\\" in raw or b"],[" in raw:
        return None
    names = [f"_{i}" for i in range(len(columns))]
    types = {
        names[columns.index(f.name)]: pa.float64() if f.numeric else pa.string() for f in features
    }
    try:
        table = csv.read_csv(
            pa.BufferReader(lines),
            read_options=csv.ReadOptions(column_names=names),
            convert_options=csv.ConvertOptions(
                column_types=types,
                include_columns=list(types),
                null_values=["null"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.num_rows != len(inputs):
        return None
    return pa.table(
        {f"f{k}": table.column(names[columns.index(f.name)]) for k, f in enumerate(features)}
    )


def assemble(chosen: pa.Table, read: pa.Table, outputs: pa.Table) -> pa.Table:
    """The fast rows in ``flatten``'s layout (one row a request, no violations)."""
    rows = chosen.num_rows
    columns = {
        "request_id": chosen["request_id"],
        "variant": chosen["variant"],
        "row": pa.array(np.zeros(rows, dtype=np.int64)),
        "has_input": pa.array(np.ones(rows, dtype=bool)),
        **{name: read.column(name) for name in read.column_names},
        "violations": pa.array(np.zeros(rows, dtype=np.int32)),
        "prediction": outputs["prediction"],
        "probabilities": outputs["probabilities"],
    }
    return pa.table(columns)
