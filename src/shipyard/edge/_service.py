"""Edge export: convert a model version to ONNX, prove parity, package it, record it.

The record (table ``model_exports``) is what endpoints read to serve a
version's ONNX form; the package is what devices run.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource, find_version, scratch_directory
from shipyard.edge._package import archive_bytes, package_files
from shipyard.edge._parity import FIELD, ParityCheck, ParityRows, compare, parity_rows
from shipyard.errors import IntegrityError, InvalidInput, NotFound
from shipyard.flavors import (
    CODE_FLAVORS,
    ModelSignature,
    Predictor,
    artifact_digest,
    load_predictor,
)
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor, model_version_resource, resolve
from shipyard.schemas.edge import EdgeExportInfo
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    from shipyard.edge._convert import Converted
    from shipyard.flavors._onnx import OnnxPredictor

FORMATS = ("onnx",)


def _parity_reads(session: Session, parity_data: str | None) -> list[Access]:
    """Parity on a named dataset version reads it."""
    if parity_data is None:
        return []
    return [Access("datasets:ReadData", dataset_ref_resource(session, parity_data, field=FIELD))]


def _export_resource(session: Session, export_id: str) -> ResourceName:
    """``sy:edge-package/<model>/<id>`` (also ``sy:edge-package/<id>``): scoped by model."""
    model = session.scalar(
        sa.select(t.Model.name)
        .join(t.ModelVersion, t.ModelVersion.model_id == t.Model.id)
        .join(x.ModelExport, x.ModelExport.model_version_id == t.ModelVersion.id)
        .where(x.ModelExport.id == export_id)
    )
    return ResourceName.scoped("edge-package", model, export_id)


def _info(session: Session, row: x.ModelExport) -> EdgeExportInfo:
    name, version = session.execute(
        sa.select(t.Model.name, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.model_id == t.Model.id)
        .where(t.ModelVersion.id == row.model_version_id)
    ).one()
    return EdgeExportInfo(
        id=row.id,
        model=name,
        version=version,
        format=row.format,
        precision=row.parity.get("precision", "float32"),
        digest=row.digest,
        size_bytes=row.size_bytes,
        package_digest=row.package_digest,
        package_size_bytes=row.parity.get("package_size_bytes", 0),
        quantized=row.quantized,
        parity=row.parity,
        created_by=row.created_by,
        created_at=row.created_at,
    )


MAX_TOLERANCE = 0.1


def _check_tolerance(value: float, field: str) -> None:
    """A parity tolerance must be finite, above 0 and at most 0.1: a looser one would let a
    converted model that answers differently pass its parity check."""
    if not math.isfinite(value) or not 0 < value <= MAX_TOLERANCE:
        raise InvalidInput(f"must be above 0 and at most {MAX_TOLERANCE}", field=field)


@operation("edge:ExportModel", model_version_resource, uses=_parity_reads, mutating=True)
def export_model(
    ctx: RequestContext,
    ref: str,
    format: str = "onnx",
    quantize: bool = False,
    tolerance: float = 1e-4,
    quantized_tolerance: float = 1e-2,
    parity_data: str | None = None,
) -> EdgeExportInfo:
    """Convert a model version to ONNX, check it against the original, store its package.

    Parity runs on ``parity_data`` (a dataset version, ``name@3``) when given, else on
    the validation rows the training run stored, else on a sample of the dataset the run
    trained on; the record says which (``parity["data"]``). Fails (InvalidInput) when a
    step cannot be converted or the converted model differs from the original by more
    than ``tolerance`` on those rows.
    """
    if format not in FORMATS:
        raise InvalidInput(f"must be one of {list(FORMATS)}", field="format")
    _check_tolerance(tolerance, "tolerance")
    _check_tolerance(quantized_tolerance, "quantized_tolerance")
    from shipyard.edge._convert import convert

    platform = ctx.platform
    with platform.db.session() as session:
        model, version = resolve(session, parse_reference(ref))
        if version.flavor in CODE_FLAVORS:
            raise InvalidInput(
                f"{model.name}@{version.version} is a {version.flavor} model whose code the "
                "control plane does not run; export it to ONNX yourself (torch.onnx.export) "
                "and log that with log_model",
                field="ref",
            )
        dataset = None
        if parity_data is not None:
            parsed = parse_reference(parity_data, field=FIELD)
            if parsed.alias is not None:
                raise InvalidInput("datasets are named by version (name@3)", field=FIELD)
            found = find_version(session, parsed.name, parsed.version)
            dataset = (parsed.name, found)
        signature = ModelSignature.model_validate(version.signature)
        rows = parity_rows(platform, session, version, signature, dataset)
        label = f"{model.name}@{version.version}"
    native = load_version_predictor(platform, version)
    forms = convert(native.model, version.flavor, signature, float32_only=quantize)
    _label(forms, label, version.digest)
    form, data, onnx_predictor, check = _first_within(forms, native, rows, tolerance)
    parity: dict[str, Any] = {
        **rows.report(),
        "tolerance": tolerance,
        "max_abs_diff": check.max_abs_diff,
        "exported": check.model_dump(),
        "precision": form.precision,
    }
    if quantize:
        smaller = _quantized(platform, data, native, rows, quantized_tolerance, parity)
        data = smaller or data
    layout = onnx_predictor.layout
    onnx_spec = {
        "layout": "matrix" if layout.matrix else "columns",
        "input": layout.matrix,
        "precision": form.precision,
        "output": layout.output,
    }
    details = {
        "model": label,
        "source_flavor": version.flavor,
        "source_digest": version.digest,
        "quantized": "quantized" in parity,
        "parity": parity,
    }
    files = package_files(data, signature.model_dump(mode="json") | {"onnx": onnx_spec}, details)
    archive = archive_bytes(files)
    parity["package_size_bytes"] = len(archive)
    digest = platform.blobs.put_bytes(data)
    package_digest = platform.blobs.put_bytes(archive)
    with platform.db.session() as session:
        row = x.ModelExport(
            id=uuid.uuid4().hex,
            model_version_id=version.id,
            format=format,
            digest=digest,
            size_bytes=len(data),
            package_digest=package_digest,
            parity=parity,
            quantized="quantized" in parity,
            created_by=ctx.principal,
        )
        session.add(row)
        session.flush()
        return _info(session, row)


def _label(forms: list[Converted], label: str, source_digest: str) -> None:
    for form in forms:
        form.model.producer_name = "shipyard"
        for key, value in (("shipyard.model", label), ("shipyard.source_digest", source_digest)):
            entry = form.model.metadata_props.add()
            entry.key, entry.value = key, value


def _load_onnx(data: bytes, signature: ModelSignature) -> OnnxPredictor:
    from shipyard.flavors._onnx import OnnxPredictor

    predictor = load_predictor("onnx", data, signature, expected_digest=artifact_digest(data))
    assert isinstance(predictor, OnnxPredictor)
    return predictor


def _quantized(
    platform: Platform,
    data: bytes,
    native: Predictor,
    rows: ParityRows,
    tolerance: float,
    parity: dict[str, Any],
) -> bytes | None:
    """The int8 model if quantization changes anything and stays within ``tolerance``."""
    from shipyard.edge._quantize import quantize

    smaller = quantize(data, scratch_directory(platform))
    if smaller is None:
        parity["quantization"] = "no MatMul/Gemm weights to quantize; exported unchanged"
        return None
    check = compare(native, _load_onnx(smaller, native.signature), rows, tolerance)
    if check.max_abs_diff > tolerance:
        raise InvalidInput(_parity_message(check, "quantized "), field="quantized_tolerance")
    parity["quantized"] = check.model_dump()
    return smaller


def _first_within(
    forms: list[Converted],
    native: Predictor,
    rows: ParityRows,
    tolerance: float,
) -> tuple[Converted, bytes, OnnxPredictor, ParityCheck]:
    """The most precise form whose outputs stay within ``tolerance`` of the original's."""
    from shipyard.flavors._onnx import dump_onnx

    closest: ParityCheck | None = None
    problem = ""
    for form in forms:
        try:
            data = dump_onnx(form.model)
            predictor = _load_onnx(data, native.signature)
        except IntegrityError as exc:
            problem = str(exc)
            continue
        check = compare(native, predictor, rows, tolerance)
        if check.max_abs_diff <= tolerance:
            return form, data, predictor, check
        if closest is None or check.max_abs_diff < closest.max_abs_diff:
            closest = check
    if closest is None:
        raise InvalidInput(f"the converted model does not run: {problem}", field="model")
    raise InvalidInput(_parity_message(closest, ""), field="tolerance")


def _parity_message(check: ParityCheck, what: str) -> str:
    return (
        f"the {what}ONNX model's {check.compared} differ from the original's by up to "
        f"{check.max_abs_diff:.3g} on {check.rows} rows of {check.data} data "
        f"({check.source}), beyond the tolerance {check.tolerance:g}"
    )


@operation("edge:ListEdgeExports", model_version_resource, mutating=False)
def list_exports(ctx: RequestContext, ref: str) -> list[EdgeExportInfo]:
    """The exports of one model version, newest first."""
    with ctx.platform.db.session() as session:
        _, version = resolve(session, parse_reference(ref))
        rows = session.scalars(
            sa.select(x.ModelExport)
            .where(x.ModelExport.model_version_id == version.id)
            .order_by(x.ModelExport.created_at.desc(), x.ModelExport.id)
        )
        return [_info(session, row) for row in rows]


def _export(session: Session, export_id: str) -> x.ModelExport:
    row = session.get(x.ModelExport, export_id)
    if row is None:
        raise NotFound(f"edge export {export_id!r} does not exist", field="export_id")
    return row


@operation("edge:GetEdgeExport", _export_resource, mutating=False)
def get_export(ctx: RequestContext, export_id: str) -> EdgeExportInfo:
    with ctx.platform.db.session() as session:
        return _info(session, _export(session, export_id))


@operation("edge:GetEdgeExport", _export_resource, mutating=False)
def get_package(ctx: RequestContext, export_id: str) -> bytes:
    """The package as tar.gz bytes, verified against its digest."""
    with ctx.platform.db.session() as session:
        digest = _export(session, export_id).package_digest
    return ctx.platform.blobs.get_bytes(digest)


def latest_export(
    session: Session, model_version_id: int, format: str = "onnx"
) -> x.ModelExport | None:
    """The newest export of a model version in ``format`` (what runtime "onnx" serves)."""
    return session.scalar(
        sa.select(x.ModelExport)
        .where(x.ModelExport.model_version_id == model_version_id, x.ModelExport.format == format)
        .order_by(x.ModelExport.created_at.desc(), x.ModelExport.id)
        .limit(1)
    )


def load_export_predictor(platform: Platform, export: x.ModelExport) -> Predictor:
    """The ONNX predictor of an export, its bytes verified against the recorded digest."""
    with platform.db.session() as session:
        version = session.get(t.ModelVersion, export.model_version_id)
        if version is None:
            raise NotFound("the exported model version no longer exists", field="model")
        signature = ModelSignature.model_validate(version.signature)
    data = platform.blobs.get_bytes(export.digest)
    return load_predictor(export.format, data, signature, expected_digest=export.digest)
