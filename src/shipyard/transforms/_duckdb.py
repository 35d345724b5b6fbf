"""Run a transform's SQL on DuckDB over the inputs' Parquet files, streaming the result.

Each input becomes a view over its downloaded partition files. Before the user's SQL runs,
file access outside the input directory is switched off and the configuration locked, so
the query can read its inputs and nothing else on the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidInput, StorageError
from shipyard.transforms._results import ResultBatches

BATCH_ROWS = 65_536


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def duckdb_batches(
    sql: str, inputs: dict[str, list[Path]], input_dir: Path, spill_dir: Path
) -> Iterator[ResultBatches]:
    """The result of ``sql`` as record batches; errors become InvalidInput naming ``sql``."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        try:
            connection.execute(f"SET temp_directory = {_literal(str(spill_dir))}")
            for alias, files in inputs.items():
                listed = ", ".join(_literal(str(f)) for f in files)
                connection.execute(
                    f'CREATE VIEW "{alias}" AS SELECT * FROM read_parquet([{listed}])'
                )
            connection.execute(f"SET allowed_directories = [{_literal(str(input_dir) + '/')}]")
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
        except duckdb.Error as error:
            raise StorageError(
                f"DuckDB {duckdb.__version__} cannot confine the query to its inputs "
                f"(needs 1.3 or later): {error}"
            ) from None
        try:
            relation = connection.sql(sql)
            if relation is None:
                raise InvalidInput("the SQL returns no table", field="sql")
            reader = _arrow_reader(relation)
        except duckdb.Error as error:
            raise InvalidInput(f"SQL error: {error}", field="sql") from None
        yield ResultBatches(reader.schema, reader, (duckdb.Error,), "duckdb")
    finally:
        connection.close()


def _arrow_reader(relation: Any) -> pa.RecordBatchReader:
    if hasattr(relation, "to_arrow_reader"):
        return relation.to_arrow_reader(BATCH_ROWS)
    return relation.fetch_arrow_reader(BATCH_ROWS)
