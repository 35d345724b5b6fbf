"""The pipeline kind's work in the job process: the steps in dependency order, each
resolved, reused from the cache or run (with its retries), and recorded.

The run acts as its principal, whose accesses are checked again first (a principal who
lost a right since the run was started is refused, and the run says so); every service a
step calls authorizes it again with the concrete versions. A resumed run keeps the steps
that succeeded, were reused or skipped, and starts again from the first that did not.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied, InvalidInput, ShipyardError
from shipyard.jobs import JobAttempt
from shipyard.pipelines._cache import cache_key, reusable
from shipyard.pipelines._refs import Ref, output_value, substitute
from shipyard.pipelines._service import authorize_run
from shipyard.pipelines._spec import PipelineSpec, dependencies, order
from shipyard.pipelines._step_base import StepFailed, StepRun
from shipyard.pipelines._step_kinds import STEP_KINDS
from shipyard.security import context_for
from shipyard.store.metadata import pipeline_tables as pt
from shipyard.store.metadata import tables as t

DONE = ("succeeded", "cached", "skipped")
_NOT_RETRIED = (AccessDenied, InvalidInput)


def run(job: JobAttempt) -> None:
    platform = job.platform
    # Jobs the steps start are fresh processes: a warm host forked from here would inherit
    # this run's lock and outlive it, and a resumed run would find its lock still held.
    platform.settings = platform.settings.model_copy(update={"job_start": "spawn"})
    with platform.db.session() as session:
        row = session.get(pt.PipelineRun, job.id)
        assert row is not None
        spec = PipelineSpec.model_validate(row.spec)
        files, parameters, pipeline = dict(row.files), dict(row.parameters), row.pipeline
    ctx = context_for(platform, job.principal, request_id=job.id)
    try:
        authorize_run(ctx, job.id)
    except AccessDenied as error:
        raise AccessDenied(f"the run is refused: {error.message}") from None
    steps = _reset_unfinished(job)
    outputs = {n: dict(s.outputs) for n, s in steps.items() if s.status in ("succeeded", "cached")}
    skipped = {n for n, s in steps.items() if s.status == "skipped"}
    names = order(spec)
    for index, name in enumerate(names):
        if steps[name].status in DONE:
            continue
        job.progress(index / len(names), f"step {name}")
        reason = _skip_reason(spec, name, outputs, skipped)
        if reason is not None:
            _record(job.platform, job.id, name, status="skipped", message=reason, ended_at=utcnow())
            skipped.add(name)
            job.log(f"[{name}] skipped: {reason}")
            continue
        outputs[name] = _run_step(job, ctx, spec, name, pipeline, files, parameters, outputs)
    done = sum(1 for n in names if n not in skipped)
    message = f"{done} step(s) done" + (f", {len(skipped)} skipped" if skipped else "")
    with platform.db.session() as session:
        job.succeed(session, message)
    job.log(message)


def _reset_unfinished(job: JobAttempt) -> dict[str, pt.PipelineStep]:
    """Steps left failed, running or cancelled by an earlier attempt start again."""
    with job.platform.db.session() as session:
        rows = session.scalars(sa.select(pt.PipelineStep).where(pt.PipelineStep.run_id == job.id))
        found = {}
        for row in rows:
            if row.status not in (*DONE, "pending"):
                row.status, row.message, row.child_job = "pending", "", None
                row.started_at = row.ended_at = None
            found[row.name] = row
        session.flush()
        session.expunge_all()
        return found


def _skip_reason(
    spec: PipelineSpec, name: str, outputs: dict[str, dict[str, Any]], skipped: set[str]
) -> str | None:
    for condition in spec.steps:
        if condition.kind != "condition" or condition.name not in outputs:
            continue
        taken = outputs[condition.name].get("branch")
        other = "else" if taken == "then" else "then"
        if name in condition.config.get(other, []):
            return f"on the {other} branch of {condition.name}, which took {taken}"
    for upstream in sorted(dependencies(spec)[name]):
        if upstream in skipped:
            return f"{upstream} was skipped"
    return None


def _record(platform: Any, run_id: str, name: str, **values: Any) -> None:
    with platform.db.session() as session:
        session.execute(
            sa.update(pt.PipelineStep)
            .where(pt.PipelineStep.run_id == run_id, pt.PipelineStep.name == name)
            .values(**values)
        )


def _resolve(
    spec: PipelineSpec, name: str, parameters: dict[str, Any], outputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    def lookup(ref: Ref) -> Any:
        if ref.scope == "params":
            return parameters[ref.name]
        try:
            return output_value(outputs[ref.name], ref.output or "")
        except KeyError:
            raise InvalidInput(
                f"step {ref.name!r} produced no output {ref.output!r}", field=f"steps.{name}.with"
            ) from None

    resolved = substitute(spec.step(name).config, lookup)
    assert isinstance(resolved, dict)
    return resolved


def _pinned(platform: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with the champion an evaluation compares against named by its
    version (an alias moves), for the cache key."""
    champion = config.get("champion")
    if not isinstance(champion, str):
        return config
    from shipyard.names import parse_reference
    from shipyard.registry import resolve

    try:
        with platform.db.session() as session:
            model, row = resolve(session, parse_reference(champion, field="with.champion"))
            pinned = f"{model.name}@{row.version}"
    except ShipyardError:
        pinned = None
    return {**config, "champion": pinned}


def _run_step(
    job: JobAttempt,
    ctx: Any,
    spec: PipelineSpec,
    name: str,
    pipeline: str,
    files: dict[str, str],
    parameters: dict[str, Any],
    outputs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    step = spec.step(name)
    kind = STEP_KINDS[step.kind]
    platform = job.platform
    started = utcnow()
    _record(platform, job.id, name, status="running", started_at=started, message="")
    try:
        config = _resolve(spec, name, parameters, outputs)
    except InvalidInput as error:
        _record(platform, job.id, name, status="failed", message=str(error), ended_at=utcnow())
        raise StepFailed(f"step {name} failed: {error}") from None
    key = cache_key(step.kind, _pinned(platform, config), files if kind.code else None)
    if step.cache and kind.cacheable:
        with platform.db.session() as session:
            earlier = reusable(session, pipeline, key)
            if earlier is not None:
                found = dict(earlier.outputs)
                source = earlier.reused_from or earlier.run_id
                _record(
                    platform,
                    job.id,
                    name,
                    status="cached",
                    cache_key=key,
                    outputs=found,
                    reused_from=source,
                    ended_at=utcnow(),
                    message=f"reused from run {source}",
                )
                job.log(f"[{name}] reused the outputs of run {source}")
                return found
    attempt = 0
    while True:
        attempt += 1
        _record(platform, job.id, name, attempts=attempt)
        runner = StepRun(ctx, job, pipeline, job.id, name, files)
        try:
            found = kind.run(runner, config)
            break
        except Exception as error:
            text = (
                str(error)
                if isinstance(error, ShipyardError)
                else f"{type(error).__name__}: {error}"
            )
            if not isinstance(error, ShipyardError):
                traceback.print_exc()
            if attempt > step.retries or isinstance(error, _NOT_RETRIED):
                _record(platform, job.id, name, status="failed", message=text, ended_at=utcnow())
                raise StepFailed(f"step {name} failed: {text}") from None
            wait = step.backoff * 2 ** (attempt - 1)
            job.log(f"[{name}] attempt {attempt} failed, retrying in {wait:g} s: {text}")
            time.sleep(wait)
    produced = kind.produced(found)
    with platform.db.session() as session:
        session.execute(
            sa.update(pt.PipelineStep)
            .where(pt.PipelineStep.run_id == job.id, pt.PipelineStep.name == name)
            .values(
                status="succeeded",
                outputs=found,
                cache_key=key,
                ended_at=utcnow(),
                message=f"done in {(utcnow() - started).total_seconds():.1f} s",
            )
        )
        for kind_name, ref in produced:
            if kind_name == "job" and ref in runner.children:
                continue  # linked to the run when the step started it
            session.add(pt.PipelineOutput(run_id=job.id, step=name, kind=kind_name, ref=ref))
            if kind_name == "run" and session.get(t.Run, ref) is not None:
                for tag, value in (
                    ("shipyard.pipeline", pipeline),
                    ("shipyard.pipeline_run", job.id),
                    ("shipyard.pipeline_step", name),
                ):
                    session.merge(t.RunTag(run_id=ref, key=tag, value=value))
    job.log(f"[{name}] {step.kind} done: {found}")
    return found
