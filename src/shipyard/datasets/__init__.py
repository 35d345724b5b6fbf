"""The dataset service: immutable, content-addressed, profiled dataset versions."""

from shipyard.datasets._access import dataset_ref_resource, dataset_resource
from shipyard.datasets._appends import append_version
from shipyard.datasets._delete import delete
from shipyard.datasets._erasure import erase, list_erasures, purge_unused
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
from shipyard.names import check_reason
from shipyard.schemas.datasets import (
    DatasetInfo,
    DatasetVersionInfo,
    DeletionInfo,
    ErasureInfo,
    TablePreview,
)

__all__ = [
    "DatasetInfo",
    "DatasetVersionInfo",
    "DeletionInfo",
    "ErasureInfo",
    "InPlaceFiles",
    "StagedVersion",
    "TablePreview",
    "VersionFile",
    "VersionStager",
    "append_version",
    "check_reason",
    "dataset_ref_resource",
    "dataset_resource",
    "delete",
    "download_version_files",
    "erase",
    "find_version",
    "get_version",
    "head",
    "ingest",
    "iter_version_batches",
    "list_datasets",
    "list_erasures",
    "list_versions",
    "load_version_table",
    "purge_unused",
    "read",
    "read_file_batches",
    "register_staged",
    "scratch_directory",
    "version_files",
    "version_info",
    "write_version_from_batches",
]
