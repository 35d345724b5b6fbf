"""Own-code training jobs: the user's ``entrypoint`` runs in a job worker on the spec's data.

Running code sent by a caller is a grant of trust beyond creating a training job, so the
operation also needs ``training:RunCode`` on the job. The files are checked (paths, count,
size) and stored by digest before the job starts; the worker stores them with the run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.contracts import refuse_failed_validation
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput
from shipyard.jobs import _control as control
from shipyard.jobs._training import (
    TRAINING,
    limit_keys,
    named,
    new_job_resource,
    spec_text,
    split_limits,
)
from shipyard.names import check_name, parse_reference, resource
from shipyard.schemas.job_code import check_files, parse_code_spec
from shipyard.schemas.jobs import TrainingJobInfo
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t


def _dataset_refs(spec: dict[str, Any]) -> dict[str, str]:
    """Context name -> dataset reference, as written in the spec."""
    many = spec.get("datasets")
    if isinstance(many, dict):
        return {str(k): v for k, v in many.items() if isinstance(v, str)}
    one = spec_text(spec, "dataset")
    return {one.split("@", 1)[0]: one} if one else {}


def _code_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    """Running code on the job, reading every dataset version, a run in its experiment."""
    found = [Access("training:RunCode", new_job_resource(spec))]
    for name, ref in _dataset_refs(spec).items():
        where = f"datasets.{name}" if isinstance(spec.get("datasets"), dict) else "dataset"
        found.append(Access("datasets:ReadData", dataset_ref_resource(session, ref, field=where)))
    experiment = spec_text(spec, "experiment", "default")
    if named(experiment):
        found.append(Access("tracking:CreateRun", resource("experiment", experiment or "")))
    return found


@operation(
    "training:CreateTrainingJob",
    new_job_resource,
    uses=_code_uses,
    context=limit_keys,
    mutating=True,
)
def run_training_code(
    ctx: RequestContext, spec: dict[str, Any], files: dict[str, str]
) -> TrainingJobInfo:
    """Run your own training code (``entrypoint: train.py:main``) in a job worker.

    ``files`` maps relative paths to the source of the entry file and the ``.py`` files it
    ships with. The function gets a context with the spec's datasets, params, the run and
    ``log_model``; see ``shipyard.jobs.TrainingContext``.
    """
    if not isinstance(spec, dict):
        raise InvalidInput("a training spec must be a mapping of keys to values", field="spec")
    body, limits = split_limits(spec)
    parsed = parse_code_spec(body)
    sources = check_files(files, parsed.entrypoint)
    check_name(parsed.experiment, field="experiment")
    refs = _dataset_refs(body)
    field = "datasets" if parsed.datasets else "dataset"
    with ctx.platform.db.session() as session:
        versions: dict[str, str] = {}
        first_version_id: int | None = None
        for name, text in refs.items():
            check_name(name, field=field)
            ref = parse_reference(text, field=field)
            if ref.alias is not None:
                raise InvalidInput("datasets are named by version (name@3), not alias", field=field)
            version = find_version(session, ref.name, ref.version)
            if not parsed.force:
                refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
            versions[name] = f"{ref.name}@{version.version}"
            first_version_id = first_version_id or version.id
        assert first_version_id is not None
        digests = {path: ctx.platform.blobs.put_bytes(data) for path, data in sources.items()}
        stored = parsed.model_dump(mode="json", exclude_none=True)
        stored |= {"datasets": versions, "code": digests}
        stored.pop("dataset", None)
        row = control.new_job(
            session,
            TRAINING,
            name=parsed.name or parsed.entrypoint.rsplit(":", 1)[0].removesuffix(".py")[:100],
            scope=parsed.experiment,
            principal=ctx.principal,
            limits=limits,
        )
        session.add(t.TrainingJob(id=row.id, spec=stored, dataset_version_id=first_version_id))
        for path, digest in digests.items():
            session.add(
                j.CodeFile(job_id=row.id, path=path, digest=digest, size_bytes=len(sources[path]))
            )
        session.flush()
        info = TRAINING.describe(session, row)
    control.launch(ctx.platform, TRAINING, info.id)
    assert isinstance(info, TrainingJobInfo)
    return info
