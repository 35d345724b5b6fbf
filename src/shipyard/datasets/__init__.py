"""The dataset service: immutable, content-addressed, profiled dataset versions."""

from shipyard.datasets._models import DatasetInfo, DatasetVersionInfo, TablePreview
from shipyard.datasets._service import (
    find_version,
    get_version,
    head,
    ingest,
    list_datasets,
    list_versions,
    load_version_table,
)

__all__ = [
    "DatasetInfo",
    "DatasetVersionInfo",
    "TablePreview",
    "find_version",
    "get_version",
    "head",
    "ingest",
    "list_datasets",
    "list_versions",
    "load_version_table",
]
