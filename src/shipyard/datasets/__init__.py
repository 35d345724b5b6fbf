"""The dataset service: immutable, content-addressed, profiled dataset versions."""

from shipyard.datasets._access import dataset_ref_resource, dataset_resource
from shipyard.datasets._appends import append_version
from shipyard.datasets._file_batches import read_file_batches
from shipyard.datasets._in_place import InPlaceFiles
from shipyard.datasets._read import read
from shipyard.datasets._service import (
    find_version,
    get_version,
    head,
    ingest,
    list_datasets,
    list_versions,
    load_version_table,
)
from shipyard.datasets._staging import (
    StagedVersion,
    VersionStager,
    register_staged,
    version_info,
)
from shipyard.datasets._versions import (
    VersionFile,
    download_version_files,
    iter_version_batches,
    scratch_directory,
    version_files,
    write_version_from_batches,
)
from shipyard.schemas.datasets import DatasetInfo, DatasetVersionInfo, TablePreview

__all__ = [
    "DatasetInfo",
    "DatasetVersionInfo",
    "InPlaceFiles",
    "StagedVersion",
    "TablePreview",
    "VersionFile",
    "VersionStager",
    "append_version",
    "dataset_ref_resource",
    "dataset_resource",
    "download_version_files",
    "find_version",
    "get_version",
    "head",
    "ingest",
    "iter_version_batches",
    "list_datasets",
    "list_versions",
    "load_version_table",
    "read",
    "read_file_batches",
    "register_staged",
    "scratch_directory",
    "version_files",
    "version_info",
    "write_version_from_batches",
]
