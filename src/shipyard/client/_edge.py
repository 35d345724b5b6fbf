"""Edge export in the SDK: export a model version, fetch its package into a directory."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from shipyard.client._group import _Group
from shipyard.schemas.edge import EdgeExportInfo


class Edge(_Group):
    def export(
        self,
        ref: str,
        out: str | os.PathLike[str] | None = None,
        *,
        format: str = "onnx",
        quantize: bool = False,
        tolerance: float = 1e-4,
        quantized_tolerance: float = 1e-2,
        parity_data: str | None = None,
        archive: bool = False,
    ) -> EdgeExportInfo:
        """Convert and check ``ref`` (``m@3``); write its package into ``out`` when given.

        Parity runs on ``parity_data`` (a dataset version, ``name@3``) when given, else on
        the run's stored validation rows, else on a sample of its training dataset;
        ``info.parity["data"]`` says which. With ``archive`` the tar.gz lands beside the
        package too, as ``<out>.tar.gz``.
        """
        info = EdgeExportInfo.model_validate(
            self._t.call(
                "edge.export",
                ref=ref,
                format=format,
                quantize=quantize,
                tolerance=tolerance,
                quantized_tolerance=quantized_tolerance,
                parity_data=parity_data,
            )
        )
        if out is not None:
            self.download(info.id, out, archive=archive)
        return info

    def list(self, ref: str) -> builtins.list[EdgeExportInfo]:
        return [EdgeExportInfo.model_validate(e) for e in self._t.call("edge.list", ref=ref)]

    def get(self, export_id: str) -> EdgeExportInfo:
        return EdgeExportInfo.model_validate(self._t.call("edge.get", export_id=export_id))

    def package(self, export_id: str) -> bytes:
        """The package's tar.gz bytes."""
        data: bytes = self._t.call("edge.package", export_id=export_id)
        return data

    def download(
        self, export_id: str, out: str | os.PathLike[str], *, archive: bool = False
    ) -> Path:
        """Unpack an export's package into ``out`` after checking every digest."""
        data = self.package(export_id)
        from shipyard.edge._package import read_archive, write_package

        target = write_package(read_archive(data), out)
        if archive:
            target.with_name(target.name + ".tar.gz").write_bytes(data)
        return target

    @staticmethod
    def import_package(archive: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
        """Unpack a package archive safely into ``out``, verifying it against its manifest."""
        from shipyard.edge._package import import_package

        return import_package(archive, out)
