"""A dataset profile built batch by batch in bounded memory, merging per-batch statistics.

Counts, nulls, NaNs, min/max and string lengths are exact. Mean and standard deviation are
merged with the parallel (Chan et al.) form of Welford's update. Quantiles come from a
uniform reservoir sample, distinct counts from a k-minimum-values sketch of 64-bit hashes,
and top values from merged counts pruned when they grow past a bound; each is exact while
the column is small enough and the profile lists where it is an estimate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.data import ColumnProfile, DatasetProfile, Quantiles, ValueCount
from shipyard.data._profile import QUANTILES, TOP_VALUES
from shipyard.data._schema import ColumnType, column_type

RESERVOIR_SIZE = 100_000
SKETCH_SIZE = 16_384
MAX_TRACKED_VALUES = 100_000
TOP_CANDIDATES = 1_000
HASH_BYTES = 1 << 20

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix64(values: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """SplitMix64's finaliser: a fixed, well-spread 64-bit hash of 64-bit keys."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


class DistinctSketch:
    """K minimum values of a 64-bit hash: exact below ``SKETCH_SIZE`` values, then an estimate."""

    def __init__(self) -> None:
        self.smallest = np.empty(0, dtype=np.uint64)

    def add(self, hashes: np.ndarray[Any, np.dtype[np.uint64]]) -> None:
        if not self.exact:
            hashes = hashes[hashes < self.smallest[-1]]
        if len(hashes) > 4 * SKETCH_SIZE:
            # Only values up to the batch's SKETCH_SIZE-th smallest can be kept: select them
            # in linear time rather than sorting the batch. The result is exact when the
            # sketch's SKETCH_SIZE smallest are all at most that bound (every value up to it
            # was kept); with many repeats they may not be: then sort the whole batch.
            bound = np.partition(hashes, SKETCH_SIZE - 1)[SKETCH_SIZE - 1]
            few = hashes[hashes <= bound]
            unique = _sorted_unique(np.concatenate([self.smallest, few]))
            if len(unique) >= SKETCH_SIZE and unique[SKETCH_SIZE - 1] <= bound:
                self.smallest = unique[:SKETCH_SIZE]
                return
        if len(hashes):
            merged = _sorted_unique(np.concatenate([self.smallest, hashes]))
            self.smallest = merged[:SKETCH_SIZE]

    @property
    def exact(self) -> bool:
        return len(self.smallest) < SKETCH_SIZE

    def estimate(self) -> int:
        if self.exact:
            return len(self.smallest)
        kth = float(self.smallest[-1]) / 2.0**64
        return round((SKETCH_SIZE - 1) / kth)


def _sorted_unique(values: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, Any]:
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _string_hashes(array: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A 64-bit hash of each string, about ``HASH_BYTES`` of text at a time.

    The vectorised hash holds several 8-byte numbers per byte of text; hashing in slices
    bounds that working memory whatever the batch size, and gives the same hashes.
    """
    bounds = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = bounds[array.offset : array.offset + len(array) + 1].astype(np.int64)
    if offsets[-1] - offsets[0] <= HASH_BYTES:
        return _string_hashes_of(array)
    targets = np.arange(offsets[0] + HASH_BYTES, offsets[-1], HASH_BYTES)
    cuts = np.unique(np.concatenate(([0], np.searchsorted(offsets, targets), [len(array)])))
    return np.concatenate(
        [
            _string_hashes_of(array.slice(start, end - start))
            for start, end in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)
            if end > start
        ]
    )


def _string_hashes_of(array: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A 64-bit hash of each string, vectorised: mixed (byte, position) terms summed."""
    bounds = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = bounds[array.offset : array.offset + len(array) + 1].astype(np.int64)
    buffer = array.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.empty(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(data), dtype=np.int64) - offsets[:-1][owner]
    terms = _mix64(data.astype(np.uint64) | (position.astype(np.uint64) << np.uint64(8)))
    sums = np.add.reduceat(np.append(terms, np.uint64(0)), offsets[:-1])
    sums[lengths == 0] = 0
    with np.errstate(over="ignore"):
        return _mix64(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))


class Reservoir:
    """A uniform sample of at most ``RESERVOIR_SIZE`` floats (algorithm R, vectorised)."""

    def __init__(self, seed: int) -> None:
        self.values = np.empty(0, dtype=np.float64)
        self.seen = 0
        self._rng = np.random.default_rng(seed)

    def add(self, batch: np.ndarray[Any, np.dtype[np.float64]]) -> None:
        room = RESERVOIR_SIZE - len(self.values)
        if room > 0:
            self.values = np.concatenate([self.values, batch[:room]])
            self.seen += min(room, len(batch))
            batch = batch[room:]
        if len(batch) == 0:
            return
        positions = np.arange(self.seen, self.seen + len(batch), dtype=np.float64)
        # Algorithm R's slot, uniform in [0, position]: a scaled uniform double is several
        # times cheaper than an integer draw with a bound per element.
        slots = (self._rng.random(len(batch)) * (positions + 1.0)).astype(np.int64)
        keep = slots < RESERVOIR_SIZE
        self.values[slots[keep]] = batch[keep]
        self.seen += len(batch)

    @property
    def exact(self) -> bool:
        return self.seen <= RESERVOIR_SIZE


class _Column:
    def __init__(self, name: str, kind: ColumnType, seed: int) -> None:
        self.name, self.kind = name, kind
        self.rows = self.nulls = self.nans = 0
        self.min: Any = None
        self.max: Any = None
        self.sketch = DistinctSketch()
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.reservoir = Reservoir(seed)
        self.counts: dict[Any, int] = {}
        self.counts_exact = True
        self.min_length: int | None = None
        self.max_length: int | None = None

    def update(self, column: pa.ChunkedArray) -> None:
        self.rows += len(column)
        if self.kind == "float":
            is_nan = pc.fill_null(pc.is_nan(column), False)
            nans = pc.sum(is_nan).as_py() or 0
            self.nans += nans
            values = pc.drop_null(column.filter(pc.invert(is_nan)))
        else:
            values = pc.drop_null(column)
        self.nulls += len(column) - len(values)
        if len(values) == 0:
            return
        if self.kind in ("string", "boolean"):
            self._update_categorical(values)
            return
        extremes = pc.min_max(values)
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        self.min = low if self.min is None else min(self.min, low)
        self.max = high if self.max is None else max(self.max, high)
        keys = _int64_keys(values)
        self.sketch.add(_mix64(keys.view(np.uint64)))
        if self.kind in ("integer", "float"):
            self._update_moments(values.cast(pa.float64(), safe=False).to_numpy())

    def _update_moments(self, x: np.ndarray[Any, np.dtype[np.float64]]) -> None:
        count = len(x)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = float(x.mean())
            m2 = float(((x - mean) ** 2).sum())
            total = self.n + count
            delta = mean - self.mean
            self.mean += delta * count / total
            self.m2 += m2 + delta * delta * self.n * count / total
        self.n = total
        self.reservoir.add(x)

    def _update_categorical(self, values: pa.ChunkedArray) -> None:
        counted = pc.value_counts(values)
        uniques = counted.field("values")
        if self.kind == "string":
            self.sketch.add(_string_hashes(uniques))
        else:
            self.sketch.add(_mix64(uniques.cast(pa.uint64()).to_numpy(zero_copy_only=False)))
        ranked = pa.table({"value": uniques, "count": counted.field("counts")})
        if not self.counts_exact or len(self.counts) + len(ranked) > MAX_TRACKED_VALUES:
            # Past the bound only each batch's most frequent values can still make the top.
            self.counts_exact = False
            keep = min(len(ranked), TOP_CANDIDATES)
            ranked = ranked.take(pc.select_k_unstable(ranked, keep, [("count", "descending")]))
        for value, count in zip(
            ranked.column("value").to_pylist(), ranked.column("count").to_pylist(), strict=True
        ):
            self.counts[value] = self.counts.get(value, 0) + count
        if len(self.counts) > MAX_TRACKED_VALUES:
            kept = sorted(self.counts.items(), key=lambda item: -item[1])
            self.counts = dict(kept[: MAX_TRACKED_VALUES // 2])
        if self.kind == "string":
            lengths = pc.min_max(pc.utf8_length(values))
            low, high = lengths["min"].as_py(), lengths["max"].as_py()
            self.min_length = low if self.min_length is None else min(self.min_length, low)
            self.max_length = high if self.max_length is None else max(self.max_length, high)

    def approximations(self) -> list[str]:
        found = []
        if not self.sketch.exact:
            found.append("distinct")
        if self.kind in ("integer", "float") and not self.reservoir.exact:
            found.append("quantiles")
        if not self.counts_exact:
            found.append("top_values")
        return found

    def profile(self) -> ColumnProfile:
        count = self.rows - self.nulls
        base: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "count": count,
            "nulls": self.nulls,
            "nans": self.nans,
            "null_fraction": self.nulls / self.rows if self.rows else 0.0,
            "distinct": self.sketch.estimate(),
        }
        if self.kind in ("string", "boolean"):
            ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
            top = [ValueCount(value=v, count=c) for v, c in ranked[:TOP_VALUES]]
            return ColumnProfile(
                **base, top_values=top, min_length=self.min_length, max_length=self.max_length
            )
        if count == 0:
            return ColumnProfile(**base)
        if self.kind in ("timestamp", "date"):
            return ColumnProfile(**base, min=self.min.isoformat(), max=self.max.isoformat())
        cuts = np.quantile(self.reservoir.values, list(QUANTILES.values()))
        std = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else None
        return ColumnProfile(
            **base,
            min=self.min,
            max=self.max,
            mean=self.mean,
            std=std,
            quantiles=Quantiles(**dict(zip(QUANTILES, cuts.tolist(), strict=True))),
        )


def _int64_keys(values: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    if pa.types.is_floating(values.type):
        as_float = values.cast(pa.float64()).to_numpy() + 0.0  # -0.0 and 0.0 hash alike
        keys: np.ndarray[Any, np.dtype[np.int64]] = as_float.view(np.int64)
    elif pa.types.is_unsigned_integer(values.type):
        keys = values.cast(pa.uint64()).to_numpy().view(np.int64)
    elif pa.types.is_date(values.type):
        keys = values.cast(pa.int32()).cast(pa.int64()).to_numpy()
    else:
        keys = values.cast(pa.int64()).to_numpy()
    return keys


class BatchProfiler:
    """Accumulates the profile of a table that arrives in record batches of one schema."""

    def __init__(self, schema: pa.Schema) -> None:
        self.rows = 0
        self._columns = [
            _Column(field.name, column_type(field.name, field.type), seed=index)
            for index, field in enumerate(schema)
        ]

    def update(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        for accumulator, column in zip(self._columns, table.columns, strict=True):
            accumulator.update(column)

    def result(self) -> dict[str, Any]:
        """The profile as stored with a version, with a note of which statistics are estimates."""
        profile = DatasetProfile(rows=self.rows, columns=[c.profile() for c in self._columns])
        stored = profile.model_dump(mode="json")
        stored["method"] = {
            "kind": "streaming",
            "quantiles": f"uniform reservoir sample of {RESERVOIR_SIZE} values per column",
            "distinct": f"exact below {SKETCH_SIZE} values, else a k-minimum-values estimate",
            "top_values": f"exact below {MAX_TRACKED_VALUES} distinct values",
            "approximate": {c.name: a for c in self._columns if (a := c.approximations())},
        }
        return stored
