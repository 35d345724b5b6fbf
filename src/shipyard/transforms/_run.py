"""Running a transform version: resolve inputs, reuse a cached result, or compute a new one.

The cache key digests the code and the digests of the input versions (and where the result
goes), so a run is repeated only when one of them changed. The result is streamed into a
new dataset version; nothing is written when the code fails.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.datasets import (
    DatasetVersionInfo,
    dataset_ref_resource,
    download_version_files,
    find_version,
    scratch_directory,
    write_version_from_batches,
)
from shipyard.errors import InvalidInput, NotFound
from shipyard.names import parse_reference, resource
from shipyard.platform import Platform
from shipyard.schemas.transforms import Engine, TransformRunInfo, TransformSpec
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt
from shipyard.transforms._results import ResultBatches
from shipyard.transforms._service import find_transform_version, transform_resource
from shipyard.transforms._spec import canonical_digest, output_dataset

Inputs = dict[str, tuple[str, t.DatasetVersion]]


def _resolve_inputs(session: Session, spec: TransformSpec) -> Inputs:
    inputs: Inputs = {}
    for alias, ref in spec.inputs.items():
        parsed = parse_reference(ref, field=f"inputs.{alias}")
        try:
            inputs[alias] = (parsed.name, find_version(session, parsed.name, parsed.version))
        except NotFound as error:
            raise NotFound(f"input {alias!r}: {error.message}", field=f"inputs.{alias}") from None
    return inputs


def cache_key(code_digest: str, inputs: Inputs, output: str, partition_by: list[str]) -> str:
    """What a run's result is a function of."""
    return canonical_digest(
        {
            "code": code_digest,
            "inputs": {alias: [name, row.digest] for alias, (name, row) in inputs.items()},
            "output": {"dataset": output, "partition_by": partition_by},
        }
    )


def _run_uses(session: Session, name: str, version: int | None) -> list[Access]:
    """Reading every input dataset version and writing the output dataset."""
    try:
        _, row = find_transform_version(session, name, version)
    except NotFound:
        return []
    spec = TransformSpec.model_validate(row.spec)
    found = [
        Access("datasets:ReadData", dataset_ref_resource(session, ref, field=f"inputs.{alias}"))
        for alias, ref in spec.inputs.items()
    ]
    found.append(Access("datasets:Ingest", resource("dataset", output_dataset(name, spec))))
    return found


@operation(
    "transforms:RunTransform",
    transform_resource,
    uses=_run_uses,
    mutating=True,
)
def run_transform(
    ctx: RequestContext, name: str, version: int | None = None, force: bool = False
) -> TransformRunInfo:
    """Run a transform version (the latest by default), unless its code and inputs are unchanged.

    A cached answer has ``cached=True`` and names the earlier run's output; ``force`` runs anyway.
    Reading the inputs and writing the output need the datasets permissions too.
    """
    platform = ctx.platform
    with platform.db.session() as session:
        _, row = find_transform_version(session, name, version)
        spec = TransformSpec.model_validate(row.spec)
        inputs = _resolve_inputs(session, spec)
    output = output_dataset(name, spec)
    key = cache_key(row.code_digest, inputs, output, spec.output.partition_by)
    if not force:
        with platform.db.session() as session:
            earlier = session.scalar(
                sa.select(tt.TransformRun)
                .where(tt.TransformRun.cache_key == key)
                .order_by(tt.TransformRun.ended_at.desc())
                .limit(1)
            )
            if earlier is not None:
                return run_info(session, earlier, cached=True)
    engine: Engine = "python" if spec.python is not None else platform.settings.transform_engine
    started = utcnow()
    result = _compute(ctx, row, spec, inputs, engine, output, f"transform:{name}@{row.version}")
    with platform.db.session() as session:
        output_row = find_version(session, output, result.version)
        run = tt.TransformRun(
            id=uuid.uuid4().hex,
            transform_version_id=row.id,
            cache_key=key,
            engine=engine,
            output_dataset_version_id=output_row.id,
            message="" if result.created else "output identical to an existing version",
            created_by=ctx.principal,
            started_at=started,
            ended_at=utcnow(),
        )
        session.add(run)
        session.flush()
        for alias, (_, input_row) in inputs.items():
            session.add(
                tt.TransformRunInput(run_id=run.id, alias=alias, dataset_version_id=input_row.id)
            )
        session.flush()
        return run_info(session, run, cached=False)


def _compute(
    ctx: RequestContext,
    row: tt.TransformVersion,
    spec: TransformSpec,
    inputs: Inputs,
    engine: Engine,
    output: str,
    source: str,
) -> DatasetVersionInfo:
    platform = ctx.platform
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform), prefix="transform-") as tmp:
        work = Path(tmp)
        files = {
            alias: download_version_files(platform, input_row, work / "inputs" / alias)
            for alias, (_, input_row) in inputs.items()
        }
        with _batches(platform, row, spec, files, engine, work) as batches:
            try:
                return write_version_from_batches(
                    ctx, output, batches, partition_by=spec.output.partition_by, source=source
                )
            except InvalidInput as error:
                if error.field in ("file", "batches"):
                    field = "sql" if spec.sql is not None else "python"
                    raise InvalidInput(
                        f"the result cannot be stored: {error.message}", field=field
                    ) from None
                if error.field == "partition_by":
                    raise InvalidInput(error.message, field="output.partition_by") from None
                raise


@contextmanager
def _batches(
    platform: Platform,
    row: tt.TransformVersion,
    spec: TransformSpec,
    files: dict[str, list[Path]],
    engine: Engine,
    work: Path,
) -> Iterator[ResultBatches]:
    if spec.python is not None:
        from shipyard.transforms._python import python_batches

        assert row.source_digest is not None
        source = platform.blobs.get_bytes(row.source_digest)
        yield python_batches(spec.python, source, files, work, settings=platform.settings)
        return
    assert spec.sql is not None
    if engine == "spark":
        from shipyard.transforms._spark import spark_batches

        master = platform.settings.spark_master
        yield spark_batches(spec.sql, files, work / "output", master)
        return
    from shipyard.transforms._duckdb import duckdb_batches

    spill = work / "spill"
    spill.mkdir()
    with duckdb_batches(spec.sql, files, work / "inputs", spill) as batches:
        yield batches


def run_info(session: Session, run: tt.TransformRun, *, cached: bool) -> TransformRunInfo:
    """Describe a stored run; ``cached`` says whether it answers a later request."""
    version = session.get(tt.TransformVersion, run.transform_version_id)
    assert version is not None
    transform = session.get(tt.Transform, version.transform_id)
    assert transform is not None
    output_name, output_row = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion)
        .join(t.DatasetVersion, t.DatasetVersion.dataset_id == t.Dataset.id)
        .where(t.DatasetVersion.id == run.output_dataset_version_id)
    ).one()
    inputs = session.execute(
        sa.select(tt.TransformRunInput.alias, t.Dataset.name, t.DatasetVersion.version)
        .join(t.DatasetVersion, t.DatasetVersion.id == tt.TransformRunInput.dataset_version_id)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(tt.TransformRunInput.run_id == run.id)
        .order_by(tt.TransformRunInput.alias)
    ).all()
    return TransformRunInfo(
        id=run.id,
        transform=transform.name,
        version=version.version,
        engine=cast(Engine, run.engine),
        cached=cached,
        cache_key=run.cache_key,
        inputs={alias: f"{dataset}@{number}" for alias, dataset, number in inputs},
        output=f"{output_name}@{output_row.version}",
        output_digest=output_row.digest,
        output_rows=output_row.rows,
        created_by=run.created_by,
        started_at=run.started_at,
        ended_at=run.ended_at,
    )


@operation("transforms:ListTransformRuns", lambda name: resource("transform", name), mutating=False)
def list_transform_runs(ctx: RequestContext, name: str) -> list[TransformRunInfo]:
    """Every run of every version of a transform, oldest first."""
    with ctx.platform.db.session() as session:
        transform = session.scalar(sa.select(tt.Transform).where(tt.Transform.name == name))
        if transform is None:
            raise NotFound(f"transform {name!r} does not exist", field="name")
        runs = session.scalars(
            sa.select(tt.TransformRun)
            .join(
                tt.TransformVersion,
                tt.TransformVersion.id == tt.TransformRun.transform_version_id,
            )
            .where(tt.TransformVersion.transform_id == transform.id)
            .order_by(tt.TransformRun.started_at)
        ).all()
        return [run_info(session, run, cached=False) for run in runs]
