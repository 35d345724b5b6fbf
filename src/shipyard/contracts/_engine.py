"""Run a contract over a table or a stream of parts: vectorized per part, merged at the end."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shipyard.contracts._check_base import SAMPLE_ROWS, Outcome
from shipyard.contracts._drift import (
    bin_counts,
    categorical_drift,
    category_counts,
    describe_method,
    numeric_drift,
)
from shipyard.contracts._plan import ColumnPlan, Plan, plan_contract
from shipyard.contracts._stats import NUMERIC, Moments, column_statistics, measure
from shipyard.contracts._unique import Duplicates, sortable_numpy
from shipyard.data import head_rows
from shipyard.data._schema import column_type
from shipyard.schemas.contract_report import (
    CheckResult,
    ColumnStatistics,
    DriftResult,
    Status,
    ValidationReport,
)
from shipyard.schemas.contract_spec import Contract

PART_ROWS = 1 << 20
_IN_FLIGHT = 2


@dataclass
class _Partial:
    moments: Moments
    failing: list[int]
    positions: list[np.ndarray | None]
    gathered: list[Any]
    drift: np.ndarray | None
    unique: Any


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _column_pool() -> ThreadPoolExecutor:
    """The process's column workers, one per core, shared by every validation.

    Tasks never wait on one another, so validations running at once only queue.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=os.cpu_count() or 1, thread_name_prefix="shipyard-validate"
            )
        return _pool


class Validation:
    """A contract bound to a schema; each ``run`` validates one stream of parts."""

    def __init__(
        self,
        contract: Contract,
        schema: pa.Schema,
        *,
        contract_ref: str | None = None,
        dataset_ref: str | None = None,
    ) -> None:
        self.contract = contract
        self.contract_ref = contract_ref or contract.name
        self.dataset_ref = dataset_ref
        types = {f.name: column_type(f.name, f.type) for f in schema}
        self.plan: Plan = plan_contract(contract, types, {f.name: f.type for f in schema})
        self.samples: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.duplicates: dict[str, Duplicates] = {}
        self.rows = 0

    def run(self, parts: Iterable[pa.Table]) -> ValidationReport:
        """Evaluate every part (a few at a time, columns in parallel) and build the report."""
        started = time.perf_counter()
        self.rows, self.samples, self.duplicates = 0, {}, {}
        for plan in self.plan.columns:
            plan.failing = [0] * len(plan.checks)
            plan.gathered = [None] * len(plan.checks)
            plan.moments, plan.drift_counts, plan.unique_parts = Moments(), None, []
        pool = _column_pool()  # shared: starting threads per run cost more than small checks
        pending: deque[tuple[pa.Table, int, list[Future[_Partial]]]] = deque()
        for part in parts:
            futures = [
                pool.submit(_evaluate, plan, part.column(plan.name), self._wants(plan))
                for plan in self.plan.columns
            ]
            pending.append((part, self.rows, futures))
            self.rows += part.num_rows
            while len(pending) > _IN_FLIGHT:
                self._absorb(*pending.popleft())
        concluding: dict[str, Future[Duplicates]] = {}
        while pending:
            part, offset, futures = pending.popleft()
            for index, (plan, future) in enumerate(zip(self.plan.columns, futures, strict=True)):
                self._absorb_column(plan, future.result(), part, offset)
                if not pending:  # a column's last part is in: conclude it while others run
                    waiting = not all(f.done() for f in futures[index + 1 :])
                    self._conclude(pool, plan, concluding, here=waiting)
        for plan in self.plan.columns:  # no parts at all
            self._conclude(pool, plan, concluding)
        self.duplicates = {name: future.result() for name, future in concluding.items()}
        for plan in self.plan.columns:
            plan.unique_parts = []
        return self._report(time.perf_counter() - started)

    def row_failures(self, table: pa.Table, report: ValidationReport) -> pa.ChunkedArray:
        """Per row, the failed error checks it breaks ("amount.range; id.unique") or null."""
        failed = {r.label for r in report.failures("error")}
        labelled: list[pa.ChunkedArray] = []
        for plan in self.plan.columns:
            values = table.column(plan.name)
            missing = pc.is_null(values, nan_is_null=True)
            for check in plan.checks:
                label = f"{plan.name}.{check.name}"
                if check.row_level and label in failed:
                    labelled.append(_labelled(check.failing(values, missing), label))
            duplicates = self.duplicates.get(plan.name)
            if f"{plan.name}.unique" in failed and duplicates and duplicates.value_set is not None:
                mask = pc.is_in(values, value_set=duplicates.value_set)
                labelled.append(_labelled(mask, f"{plan.name}.unique"))
        if not labelled:
            return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
        joined = pc.utf8_rtrim(pc.binary_join_element_wise(*labelled, ""), characters="; ")
        return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)

    def _wants(self, plan: ColumnPlan) -> list[bool]:
        return [
            len(self.samples.get((plan.name, i), [])) < SAMPLE_ROWS for i in range(len(plan.checks))
        ]

    @staticmethod
    def _conclude(
        pool: ThreadPoolExecutor,
        plan: ColumnPlan,
        concluding: dict[str, Future[Duplicates]],
        *,
        here: bool = False,
    ) -> None:
        """Find a column's duplicates, on this thread when it would only wait for others.

        The pool runs tasks in order: submitted behind the other columns' evaluations, the
        duplicates (the longest task) would start last and finish alone.
        """
        if plan.unique is None or plan.arrow_type is None or plan.name in concluding:
            return
        extremes = _integer_extremes(plan)
        if not here:
            concluding[plan.name] = pool.submit(
                plan.unique.conclude, plan.unique_parts, plan.arrow_type, extremes
            )
            return
        done: Future[Duplicates] = Future()
        try:
            done.set_result(plan.unique.conclude(plan.unique_parts, plan.arrow_type, extremes))
        except Exception as error:  # raised by result(), as from the pool
            done.set_exception(error)
        concluding[plan.name] = done

    def _absorb(self, part: pa.Table, offset: int, futures: list[Future[_Partial]]) -> None:
        for plan, future in zip(self.plan.columns, futures, strict=True):
            self._absorb_column(plan, future.result(), part, offset)

    def _absorb_column(
        self, plan: ColumnPlan, partial: _Partial, part: pa.Table, offset: int
    ) -> None:
        plan.moments.merge(partial.moments)
        for i, check in enumerate(plan.checks):
            plan.failing[i] += partial.failing[i]
            plan.gathered[i] = check.combine(plan.gathered[i], partial.gathered[i])
            positions = partial.positions[i]
            if positions is not None:
                self._keep_sample(plan.name, i, part, offset, positions)
        if partial.drift is not None:
            plan.drift_counts = (
                partial.drift if plan.drift_counts is None else plan.drift_counts + partial.drift
            )
        if partial.unique is not None:
            plan.unique_parts.append(partial.unique)

    def _keep_sample(
        self, column: str, index: int, part: pa.Table, offset: int, positions: np.ndarray
    ) -> None:
        kept = self.samples.setdefault((column, index), [])
        room = SAMPLE_ROWS - len(kept)
        if room <= 0:
            return
        for position in positions[:room].tolist():
            (row,) = head_rows(part.slice(position, 1), 1)
            kept.append({"_row": offset + position} | row)

    def _report(self, seconds: float) -> ValidationReport:
        checks: list[CheckResult] = []
        if self.contract.rows is not None:
            checks.append(_rows_result(self.contract, self.rows))
        drift: list[DriftResult] = []
        for plan in self.plan.columns:
            checks += self.plan.results[plan.name]
            checks += [self._check_result(plan, i) for i in range(len(plan.checks))]
            if plan.unique is not None:
                checks.append(self._unique_result(plan))
            drift += _drift(plan, self.contract)
        return ValidationReport(
            dataset=self.dataset_ref,
            contract=self.contract_ref,
            status=_status(checks, drift),
            rows=self.rows,
            checks=checks,
            drift=drift,
            drift_method=describe_method(self.contract.drift) if drift else "",
            columns=[_statistics(p) for p in self.plan.columns],
            seconds=round(seconds, 6),
        )

    def _check_result(self, plan: ColumnPlan, index: int) -> CheckResult:
        check = plan.checks[index]
        failing = plan.failing[index]
        passed, observed = check.verdict(failing, self.rows, plan.moments, plan.gathered[index])
        return CheckResult(
            column=plan.name,
            check=check.name,
            severity=check.severity,
            passed=passed,
            expected=check.expected(),
            observed=observed,
            failing_rows=failing if check.row_level else None,
            failing_share=_share(failing, self.rows) if check.row_level else None,
            sample=self.samples.get((plan.name, index), []) if not passed else [],
        )

    def _unique_result(self, plan: ColumnPlan) -> CheckResult:
        assert plan.unique is not None
        found = self.duplicates.get(plan.name, Duplicates())
        return CheckResult(
            column=plan.name,
            check="unique",
            severity=plan.unique.severity,
            passed=found.rows == 0,
            expected={"duplicated_values": 0},
            observed={"duplicated_values": found.values},
            failing_rows=found.rows,
            failing_share=_share(found.rows, self.rows),
            sample=found.sample,
        )


def validate_table(
    contract: Contract,
    table: pa.Table,
    *,
    contract_ref: str | None = None,
    dataset_ref: str | None = None,
) -> ValidationReport:
    """Validate an in-memory table, in parts of about a million rows."""
    run = Validation(contract, table.schema, contract_ref=contract_ref, dataset_ref=dataset_ref)
    return run.run(table_parts(table))


def validate_parquet(
    contract: Contract,
    path: str | os.PathLike[str],
    *,
    contract_ref: str | None = None,
    dataset_ref: str | None = None,
) -> ValidationReport:
    """Validate a Parquet file row group by row group, without loading it whole."""
    parquet = pq.ParquetFile(Path(path))
    run = Validation(
        contract, parquet.schema_arrow, contract_ref=contract_ref, dataset_ref=dataset_ref
    )
    columns = contract.referenced_columns()
    return run.run(
        pa.Table.from_batches([batch])
        for batch in parquet.iter_batches(batch_size=PART_ROWS, columns=columns)
    )


def table_parts(table: pa.Table) -> Iterator[pa.Table]:
    for start in range(0, max(table.num_rows, 1), PART_ROWS):
        yield table.slice(start, PART_ROWS)


def _evaluate(plan: ColumnPlan, values: pa.ChunkedArray, wants: list[bool]) -> _Partial:
    mean = pc.mean(values) if plan.kind in NUMERIC else None
    nans = _nans(values, mean) if plan.kind == "float" else 0
    missing = values.null_count + nans
    missing_mask = pc.is_null(values, nan_is_null=bool(nans)) if missing else None
    # Arrow's aggregates skip nulls by themselves; only NaNs must go before them.
    skipping = values.filter(pc.invert(missing_mask)) if nans else values
    present = skipping
    if skipping.null_count and plan.needs_present:
        present = pc.drop_null(skipping)
    ordered = np.sort(sortable_numpy(present)) if plan.needs_order else None
    failing: list[int] = []
    positions: list[np.ndarray | None] = []
    gathered: list[Any] = []
    for check, want in zip(plan.checks, wants, strict=True):
        outcome = Outcome(0, None, None)
        if not check.row_level:
            outcome = Outcome(0, None, check.gather(values, None))
        elif not (missing == 0 and check.needs_missing):
            outcome = check.evaluate(values, missing_mask, want)
        failing.append(outcome.failing)
        positions.append(outcome.positions)
        gathered.append(outcome.gathered)
    drift = None
    if plan.numeric_reference is not None and ordered is not None:
        drift = bin_counts(ordered, plan.edges)
    elif plan.categorical_reference is not None:
        drift = category_counts(present, plan.categories)
    return _Partial(
        moments=measure(skipping, missing, plan.kind, None if nans else mean),
        failing=failing,
        positions=positions,
        gathered=gathered,
        drift=drift,
        unique=plan.unique.collect(present, ordered) if plan.unique is not None else None,
    )


def _integer_extremes(plan: ColumnPlan) -> tuple[int, int] | None:
    """An integer column's min and max over every part, from its merged moments."""
    low, high = plan.moments.min, plan.moments.max
    if plan.kind != "integer" or not isinstance(low, int) or not isinstance(high, int):
        return None
    return low, high


def _nans(values: pa.ChunkedArray, mean: pa.Scalar | None) -> int:
    """How many values are NaN; none when their mean (which a NaN would spoil) is finite."""
    average = mean.as_py() if mean is not None else None
    if average is None or math.isfinite(average):
        return 0
    return int(pc.sum(pc.is_nan(values)).as_py() or 0)


def _drift(plan: ColumnPlan, contract: Contract) -> list[DriftResult]:
    counts = plan.drift_counts
    if plan.numeric_reference is not None:
        current = counts if counts is not None else np.zeros(len(plan.edges) + 1, np.int64)
        return [numeric_drift(plan.name, plan.numeric_reference, current, contract.drift)]
    if plan.categorical_reference is not None:
        size = len(plan.categorical_reference.values) + 1
        current = counts if counts is not None else np.zeros(size, np.int64)
        return [categorical_drift(plan.name, plan.categorical_reference, current, contract.drift)]
    return []


def _statistics(plan: ColumnPlan) -> ColumnStatistics:
    statistics = column_statistics(plan.moments, plan.name, plan.kind)
    if plan.categorical_reference is None or plan.drift_counts is None:
        return statistics
    labels = [*plan.categorical_reference.values, "(other)"]
    counted = sorted(zip(labels, plan.drift_counts.tolist(), strict=True), key=lambda p: -p[1])
    statistics.top_values = {label: count for label, count in counted[:10] if count}
    return statistics


def _rows_result(contract: Contract, rows: int) -> CheckResult:
    assert contract.rows is not None
    low, high = contract.rows.min, contract.rows.max
    inside = (low is None or rows >= low) and (high is None or rows <= high)
    return CheckResult(
        check="rows",
        severity=contract.rows.severity or "error",
        passed=inside,
        expected={"min": low, "max": high},
        observed=rows,
    )


def _status(checks: list[CheckResult], drift: list[DriftResult]) -> Status:
    broken = [c.severity for c in checks if not c.passed]
    broken += [d.severity for d in drift if d.drifted]
    if "error" in broken:
        return "failed"
    return "warned" if broken else "passed"


def _share(count: int, rows: int) -> float:
    return count / rows if rows else 0.0


def _labelled(mask: pa.ChunkedArray | pa.Array, label: str) -> pa.ChunkedArray | pa.Array:
    return pc.if_else(mask, pa.scalar(label + "; "), pa.scalar(""))
