"""Data steps: ingest (a file sent with the pipeline, or an existing dataset's version),
validate against a contract, run a transform, retrieve features."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput
from shipyard.names import parse_reference
from shipyard.pipelines._step_base import StepFailed, StepKind, StepRun, call, op_accesses, text
from shipyard.security import Access, RequestContext, ResourceName, operation

_FORMATS = ("csv", "parquet", "jsonl", "ndjson", "json")


def _dataset_out(outputs: dict[str, Any]) -> list[tuple[str, str]]:
    return [("dataset-version", str(outputs["dataset"]))]


def _declare_ingest(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard.datasets import dataset_ref_resource

    if config.get("from") is not None:
        source = text(config, "from") or ""
        return [
            Access("datasets:ReadData", dataset_ref_resource(session, source, field="with.from"))
        ]
    name = text(config, "dataset") or ""
    return [Access("datasets:Ingest", ResourceName.versioned("dataset", name, None))]


def _run_ingest(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """``file`` (sent with the pipeline) becomes a new version of ``dataset`` (identical
    content reuses its version); ``from`` names an existing version (``name`` = latest)."""
    from shipyard import datasets

    if config.get("from") is not None:
        ref = parse_reference(text(config, "from") or "", field="with.from")
        if ref.alias is not None:
            raise InvalidInput("datasets are named by version (name@3)", field="with.from")
        number, rows = read_version(step.ctx, ref.name, ref.version)
        return {"dataset": f"{ref.name}@{number}", "rows": rows}
    name, path = text(config, "dataset") or "", text(config, "file") or ""
    digest = step.files.get(path)
    if digest is None:
        raise InvalidInput(f"{path!r} is not among the pipeline's files", field="with.file")
    data = step.platform.blobs.get_bytes(digest)
    fmt = config.get("format")
    if fmt is not None and fmt not in _FORMATS:
        raise InvalidInput(f"must be one of {', '.join(_FORMATS)}", field="with.format")
    info = datasets.ingest(step.ctx, name, data, path.rsplit("/", 1)[-1], fmt)
    step.log(f"ingested {path} as {info.name}@{info.version} ({info.rows} rows)")
    return {"dataset": f"{info.name}@{info.version}", "rows": info.rows}


def _version_resource(session: Session, name: str, version: int | None) -> ResourceName:
    from shipyard.datasets import dataset_resource

    return dataset_resource(session, name, version)


@operation("datasets:ReadData", _version_resource, mutating=False)
def read_version(ctx: RequestContext, name: str, version: int | None) -> tuple[int, int]:
    """(version, rows) of the version a step reads (the latest when ``version`` is None)."""
    from shipyard import datasets

    with ctx.platform.db.session() as session:
        row = datasets.find_version(session, name, version)
        return row.version, row.rows


def _split(ref: str, field: str) -> tuple[str, int | None]:
    parsed = parse_reference(ref, field=field)
    if parsed.alias is not None:
        raise InvalidInput("datasets are named by version (name@3)", field=field)
    return parsed.name, parsed.version


def _declare_validate(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import contracts

    name, version = _split(text(config, "dataset") or "", "with.dataset")
    args = {"dataset": name, "version": version, "contract": text(config, "contract")}
    return op_accesses(contracts.validate, session, args)


def _run_validate(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``dataset`` against ``contract``; a failed validation fails the step unless
    ``fail: false``."""
    from shipyard import contracts

    ref = text(config, "dataset") or ""
    name, version = _split(ref, "with.dataset")
    report = contracts.validate(step.ctx, name, text(config, "contract") or "", version)
    step.log(f"{ref} against {report.contract}: {report.status}")
    if report.status == "failed" and config.get("fail", True):
        raise StepFailed(f"{ref} failed validation against {report.contract} (report {report.id})")
    return {
        "dataset": ref,
        "report": report.id,
        "status": report.status,
        "passed": report.status != "failed",
    }


def _transform_args(config: dict[str, Any]) -> dict[str, Any]:
    args = {"name": text(config, "transform"), "version": config.get("version")}
    return args | {"force": bool(config.get("force", False))}


def _declare_transform(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import transforms

    return op_accesses(transforms.run_transform, session, _transform_args(config))


def _run_transform(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Run transform ``transform`` (its latest version, or ``version``) on its inputs."""
    from shipyard import transforms

    info = call(transforms.run_transform, step.ctx, _transform_args(config))
    step.log(f"transform {info.transform}@{info.version} -> {info.output}")
    return {"dataset": info.output, "transform_run": info.id, "cached": info.cached}


def _declare_features(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard.features import retrieve

    return op_accesses(retrieve, session, dict(config))


def _run_features(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """Point-in-time feature retrieval into a new version of dataset ``output``."""
    from shipyard.features import retrieve

    info = call(retrieve, step.ctx, dict(config))
    return {"dataset": f"{info.name}@{info.version}", "rows": info.rows}


DATA_STEPS = (
    StepKind("ingest", _run_ingest, _declare_ingest, _dataset_out, cacheable=False),
    StepKind("validate", _run_validate, _declare_validate),
    StepKind("transform", _run_transform, _declare_transform, _dataset_out),
    StepKind("features", _run_features, _declare_features, _dataset_out),
)
