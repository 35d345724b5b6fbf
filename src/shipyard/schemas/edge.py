"""What the edge export service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipyard.schemas._base import WireModel


class EdgeExportInfo(WireModel):
    """A model version converted to ONNX, checked for parity, packaged for devices.

    ``digest`` names model.onnx in the blob store (what endpoints serve for runtime
    "onnx"); ``package_digest`` names the package's tar.gz. ``parity`` holds the check
    of the exported model and, when quantized, of the int8 model under ``quantized``.
    """

    id: str
    model: str
    version: int
    format: str
    precision: str
    digest: str
    size_bytes: int
    package_digest: str
    package_size_bytes: int
    quantized: bool
    parity: dict[str, Any]
    created_by: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:edge-package/{self.id}"

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"
