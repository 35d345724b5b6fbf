"""Run a transform's SQL on Spark: inputs read from their Parquet files, output written as Parquet.

pyspark is imported lazily (the ``spark`` extra). Starting Spark takes seconds, so one
SparkSession is shared by the process; each run works in its own child session so that
its temporary views do not meet another run's. SQL over raw file paths is switched off,
but Spark SQL can still call JVM methods (``reflect``): only trusted principals should
run transforms on an installation configured with ``transform_engine: spark``.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from shipyard.errors import InvalidInput
from shipyard.transforms._results import ResultBatches, parquet_batches

_lock = threading.Lock()
_session: Any = None
_LOCAL = re.compile(r"^local(?:\[(\d+|\*)(?:,\d+)?\])?\Z")
FAST_START_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _local_cores(master: str) -> int | None:
    match = _LOCAL.match(master)
    if match is None:
        return None
    cores = match.group(1)
    return (os.cpu_count() or 1) if cores in (None, "*") else int(cores)


def spark_session(master: str, *, fast_start: bool = False) -> Any:
    """The process's SparkSession, started on first use with ``master``.

    In local mode, shuffles use one partition per core. ``fast_start`` trades peak JIT
    speed for a quicker JVM warm-up (tests and small jobs).
    """
    global _session
    with _lock:
        if _session is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    from pyspark.sql import SparkSession
            except ImportError as error:
                raise InvalidInput(
                    "the Spark engine needs the 'spark' extra: pip install 'shipyard[spark]'",
                    field="transform_engine",
                ) from error
            builder = (
                SparkSession.builder.master(master)
                .appName("shipyard-transforms")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
                .config("spark.sql.runSQLOnFiles", "false")
            )
            cores = _local_cores(master)
            if cores is not None:
                builder = builder.config("spark.sql.shuffle.partitions", str(cores))
            if fast_start:
                builder = builder.config("spark.driver.extraJavaOptions", FAST_START_JAVA_OPTIONS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _session = builder.getOrCreate()
            # Query errors reach the caller as InvalidInput; Spark need not log them too.
            _session.sparkContext.setLogLevel("FATAL")
        return _session


def spark_batches(
    sql: str, inputs: dict[str, list[Path]], output_dir: Path, master: str
) -> ResultBatches:
    """Run ``sql`` on Spark, write its result under ``output_dir``, and read it back."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    errors = (PySparkException, Py4JError)
    session = spark_session(master).newSession()
    try:
        for alias, files in inputs.items():
            frame = session.read.parquet(*[f.as_uri() for f in files])
            frame.createOrReplaceTempView(alias)
        session.sql(sql).write.mode("error").parquet(output_dir.as_uri())
    except errors as error:
        raise InvalidInput(f"SQL error (spark): {_first_lines(str(error))}", field="sql") from None
    parts = sorted(output_dir.glob("part-*.parquet"))
    schema = pq.read_schema(parts[0]) if parts else None
    if schema is None:
        raise InvalidInput("Spark wrote no output files", field="sql")
    return ResultBatches(schema, parquet_batches(parts), (), "spark")


def _first_lines(message: str) -> str:
    """Spark's message without the logical plan and JVM stack it appends."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else message


def stop_spark_session() -> None:
    """Stop the shared SparkSession, if one was started."""
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
