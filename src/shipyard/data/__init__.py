"""Dataset ingestion: read uploaded files, describe and profile them, encode them canonically."""

from shipyard.data._filter import parse_filter
from shipyard.data._normalize import normalize_table
from shipyard.data._numeric_text import NumericTextScan, numeric_text_message, scan_numeric_text
from shipyard.data._parquet import read_parquet_bytes, write_parquet_bytes
from shipyard.data._preview import head_rows
from shipyard.data._profile import (
    ColumnProfile,
    DatasetProfile,
    Quantiles,
    ValueCount,
    profile_document,
    profile_table,
)
from shipyard.data._readers import read_table, resolve_format
from shipyard.data._schema import ColumnSchema, table_schema
from shipyard.schemas.datasets import ColumnType, ColumnTypeWarning

__all__ = [
    "ColumnProfile",
    "ColumnSchema",
    "ColumnType",
    "ColumnTypeWarning",
    "DatasetProfile",
    "NumericTextScan",
    "Quantiles",
    "ValueCount",
    "head_rows",
    "normalize_table",
    "numeric_text_message",
    "parse_filter",
    "profile_document",
    "profile_table",
    "read_parquet_bytes",
    "read_table",
    "resolve_format",
    "scan_numeric_text",
    "table_schema",
    "write_parquet_bytes",
]
