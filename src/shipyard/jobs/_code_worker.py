"""Own-code training: the user's files, a run, their function, the model.

The source files are written to the job's scratch directory from their digests, stored
with the run as ``code/<path>`` (same digests) with ``code/environment.json`` (Python and
the worker's package versions), so the run can be reproduced. The function runs in the job
process (``network: host``) or in a sandbox (``network: none``, ``_sandbox``). Model
artifacts logged by the code are recorded with the job's success in one transaction.
"""

from __future__ import annotations

import importlib.metadata
import platform as host
import shutil
import sys
from typing import Any

import orjson
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.datasets import find_version
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._context import TrainingContext
from shipyard.jobs._log_model import StoredArtifacts
from shipyard.names import parse_reference
from shipyard.sandbox import load_entry
from shipyard.schemas.job_code import entry_parts
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run, store_artifact

ENVIRONMENT_ARTIFACT = "code/environment.json"


def package_versions() -> dict[str, str]:
    """Every installed distribution of the worker's environment and its version."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower()] = dist.version
    return dict(sorted(found.items()))


def run_code(job: JobAttempt, spec: dict[str, Any]) -> None:
    platform = job.platform
    entry_file, function = entry_parts(str(spec["entrypoint"]))
    directory = platform.settings.jobs_dir / f"{job.id}-code" / str(job.attempt)
    shutil.rmtree(directory, ignore_errors=True)
    with platform.db.session() as session:
        files = session.execute(
            sa.select(j.CodeFile.path, j.CodeFile.digest).where(j.CodeFile.job_id == job.id)
        ).all()
        version_ids = []
        for text in dict(spec["datasets"]).values():
            ref = parse_reference(text, field="dataset")
            version_ids.append(find_version(session, ref.name, ref.version).id)
    for path, digest in files:
        target = directory / "code" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(platform.blobs.get_bytes(digest))
    environment = {
        "python": sys.version.split()[0],
        "platform": host.platform(),
        "entrypoint": spec["entrypoint"],
        "files": {path: digest for path, digest in files},
        "packages": package_versions(),
    }
    with platform.db.session() as session:
        run = start_run(
            session,
            experiment=str(spec.get("experiment", "default")),
            principal=job.principal,
            name=str(spec.get("name") or job.id[:8]),
            params={k: str(v) for k, v in dict(spec.get("params", {})).items()},
            tags={"shipyard.job": job.id, "shipyard.entrypoint": str(spec["entrypoint"])},
        )
        for version_id in version_ids:
            session.add(t.RunInput(run_id=run.id, dataset_version_id=version_id))
        for path, digest in files:
            session.add(
                t.RunArtifact(
                    run_id=run.id,
                    path=f"code/{path}",
                    digest=digest,
                    size_bytes=(directory / "code" / path).stat().st_size,
                )
            )
        store_artifact(platform, session, run.id, ENVIRONMENT_ARTIFACT, orjson.dumps(environment))
        job.attach_run(session, run.id)
        run_id = run.id
    job.log(f"run {run_id}: {spec['entrypoint']} with {len(files)} file(s)")
    artifacts: StoredArtifacts = {}
    if spec.get("network", "host") == "none":
        from shipyard.jobs._sandbox import run_isolated

        try:
            outcome = run_isolated(job, run_id, spec, directory, (entry_file, function))
        finally:
            for staged in ("inputs", "scratch"):
                shutil.rmtree(directory / staged, ignore_errors=True)
        models, artifacts = outcome.models, outcome.artifacts
    else:
        context = TrainingContext(job, run_id, dict(spec.get("params", {})), dict(spec["datasets"]))
        load_entry(directory / "code", entry_file, function)(context)
        models = context.models
    with platform.db.session() as session:
        for path, (digest, size) in (artifacts | models).items():
            session.merge(t.RunArtifact(run_id=run_id, path=path, digest=digest, size_bytes=size))
        finished = session.get(t.Run, run_id)
        assert finished is not None
        finished.status, finished.end_time = "finished", utcnow()
        job.succeed(session, f"run {run_id} finished" + (" with a model" if models else ""))
    job.log(f"run {run_id} finished")
