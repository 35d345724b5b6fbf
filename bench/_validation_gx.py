"""Worker: Great Expectations 1.x validates the bench file with the shared checks."""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
import warnings

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

import _validation_checks as checks

SPREAD = 1e12


def suite() -> gx.ExpectationSuite:
    expectations: list[gxe.Expectation] = []
    low, high = checks.ROWS
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high))
    for c in checks.NOT_NULL:
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=c))
    for c in checks.UNIQUE:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=c))
    for c, (low, high) in checks.RANGES.items():
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=low, max_value=high)
        )
    for c, (low, high) in checks.MEAN.items():
        expectations.append(
            gxe.ExpectColumnMeanToBeBetween(column=c, min_value=low, max_value=high)
        )
    for c, values in checks.ALLOWED.items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=c, value_set=values))
    for c, regex in checks.PATTERN.items():
        expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=c, regex=regex))
    for c in checks.NUMERIC:  # the profile: observed values of always-passing expectations
        expectations.append(gxe.ExpectColumnMinToBeBetween(column=c, min_value=-SPREAD))
        expectations.append(gxe.ExpectColumnMaxToBeBetween(column=c, max_value=SPREAD))
        expectations.append(gxe.ExpectColumnMeanToBeBetween(column=c, min_value=-SPREAD))
        expectations.append(gxe.ExpectColumnStdevToBeBetween(column=c, min_value=0))
    for c in checks.STRINGS:
        expectations.append(gxe.ExpectColumnValueLengthsToBeBetween(column=c, min_value=0))
    return gx.ExpectationSuite(name="bench", expectations=expectations)


LABELS = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_be_between": "range",
    "expect_column_values_to_be_in_set": "allowed_values",
    "expect_column_values_to_match_regex": "pattern",
}


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    context = gx.get_context(mode="ephemeral")
    expectations = context.suites.add(suite())
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset(name="orders")
    definition = asset.add_batch_definition_whole_dataframe("all")
    loads, runs, cpus = [], [], []
    result = None
    warm = definition.get_batch(batch_parameters={"dataframe": pd.read_parquet(path)})
    warm.validate(expectations, result_format="SUMMARY")
    for _ in range(repeats):
        started = time.perf_counter()
        frame = pd.read_parquet(path)
        loads.append(time.perf_counter() - started)
        cpu = time.process_time()
        started = time.perf_counter()
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(expectations, result_format="SUMMARY")
        runs.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        del frame, batch
    assert result is not None
    failing = {}
    for outcome in result.results:
        kind = LABELS.get(outcome.expectation_config.type)
        if kind is not None:
            column = outcome.expectation_config.kwargs["column"]
            failing[f"{column}.{kind}"] = int(outcome.result.get("unexpected_count", 0) or 0)
    print(
        json.dumps(
            {
                "tool": f"Great Expectations {gx.__version__} (pandas {pd.__version__})",
                "load": statistics.median(loads),
                "validate": statistics.median(runs),
                "cpu": statistics.median(cpus),
                "failing": failing,
            }
        )
    )


if __name__ == "__main__":
    main()
