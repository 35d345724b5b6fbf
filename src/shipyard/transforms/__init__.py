"""Transforms: versioned SQL (DuckDB, Spark) or Python steps from dataset versions to new ones."""

from shipyard.schemas.transforms import (
    DatasetLineage,
    LineageNode,
    OutputSpec,
    PythonCode,
    TransformInfo,
    TransformRunInfo,
    TransformSpec,
    TransformVersionInfo,
)
from shipyard.transforms._lineage import dataset_lineage
from shipyard.transforms._run import list_transform_runs, run_transform
from shipyard.transforms._service import apply_transform, get_transform, list_transforms

__all__ = [
    "DatasetLineage",
    "LineageNode",
    "OutputSpec",
    "PythonCode",
    "TransformInfo",
    "TransformRunInfo",
    "TransformSpec",
    "TransformVersionInfo",
    "apply_transform",
    "dataset_lineage",
    "get_transform",
    "list_transform_runs",
    "list_transforms",
    "run_transform",
]
