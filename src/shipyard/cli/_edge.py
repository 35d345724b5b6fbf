"""``shipyard export-edge`` and ``shipyard import-edge``: ONNX packages for devices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table

if TYPE_CHECKING:
    from shipyard.schemas.edge import EdgeExportInfo


def export_edge(
    ref: Annotated[str, typer.Argument(help="Model version: name@version or name@alias.")],
    out: Annotated[Path, typer.Option(help="Directory to write the package into.")],
    format: Annotated[str, typer.Option(help="Package format.")] = "onnx",
    quantize: Annotated[bool, typer.Option(help="Quantize weights to int8 (dynamic).")] = False,
    tolerance: Annotated[
        float, typer.Option(help="Largest allowed difference from the original model.")
    ] = 1e-4,
    quantized_tolerance: Annotated[
        float, typer.Option(help="The same, for the quantized model.")
    ] = 1e-2,
    parity_data: Annotated[
        str | None,
        typer.Option(
            "--parity-data",
            help="Dataset version (name@3) to check parity on; default: the validation rows "
            "the training run stored, else a sample of the dataset it trained on.",
        ),
    ] = None,
    archive: Annotated[bool, typer.Option(help="Also write OUT.tar.gz.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Convert REF to ONNX, check parity with the original, and write a runnable package."""
    info = STATE.client().edge.export(
        ref,
        out,
        format=format,
        quantize=quantize,
        tolerance=tolerance,
        quantized_tolerance=quantized_tolerance,
        parity_data=parity_data,
        archive=archive,
    )
    emit(info, as_json, lambda: _show(info, out, archive))


def _show(info: EdgeExportInfo, out: Path, archive: bool) -> None:
    exported = info.parity["exported"]
    data = info.parity.get("data", exported.get("data", "?"))
    rows = [
        ("export", info.id),
        ("model", f"{info.ref} -> {info.format} ({info.precision})"),
        ("parity", f"max |diff| {exported['max_abs_diff']:.3g} of {exported['compared']}"),
        ("parity data", f"{data}: {exported['rows']} rows of {exported['source']}"),
        ("tolerance", f"{exported['tolerance']:g}"),
    ]
    if "quantized" in info.parity:
        check = info.parity["quantized"]
        rows.append(("quantized", f"int8, max |diff| {check['max_abs_diff']:.3g}"))
    elif "quantization" in info.parity:
        rows.append(("quantized", info.parity["quantization"]))
    rows.append(("package", f"{out}" + (f" and {out}.tar.gz" if archive else "")))
    rows.append(("run it", f"python {out / 'run.py'} rows.csv"))
    table(None, ["", ""], rows)


def import_edge(
    archive: Annotated[Path, typer.Argument(help="An edge package .tar.gz.")],
    out: Annotated[Path, typer.Option(help="Directory to unpack it into.")],
) -> None:
    """Unpack an edge package safely, checking every file against its manifest."""
    from shipyard.edge._package import import_package

    target = import_package(archive, out)
    console.print(f"unpacked and verified [bold]{target}[/]")
