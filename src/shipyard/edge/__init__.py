"""Edge export: ONNX conversion with parity checks, packages that run on onnxruntime alone.

Converters (skl2onnx, onnxmltools) and onnxruntime load on first use, from the
``onnx`` extra.
"""

from shipyard.edge._package import archive_bytes, import_package, read_archive, write_package
from shipyard.edge._parity import PARITY_ROWS, ParityCheck
from shipyard.edge._service import (
    export_model,
    get_export,
    get_package,
    latest_export,
    list_exports,
    load_export_predictor,
)
from shipyard.flavors import VALIDATION_ARTIFACT  # the run-to-model layout's; kept for callers
from shipyard.schemas.edge import EdgeExportInfo

__all__ = [
    "PARITY_ROWS",
    "VALIDATION_ARTIFACT",
    "EdgeExportInfo",
    "ParityCheck",
    "archive_bytes",
    "export_model",
    "get_export",
    "get_package",
    "import_package",
    "latest_export",
    "list_exports",
    "load_export_predictor",
    "read_archive",
    "write_package",
]
