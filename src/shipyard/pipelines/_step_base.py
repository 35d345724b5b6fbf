"""What a step kind is, and what a step sees while it runs.

A kind says what the step needs (``declare``: every access, from its configuration with
parameters filled in and other steps' outputs named as far as they can be before the
run), how it runs (``run``: the configuration with every reference resolved, calling the
services as the run's principal, so each call is authorized again), and what it produced
for lineage (``produced``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, JobFailed, ShipyardError
from shipyard.security import Access, RequestContext

if TYPE_CHECKING:
    from shipyard.jobs import JobAttempt, JobInfo

POLL_SECONDS = 0.2


class StepFailed(JobFailed):
    """A step ended without its outputs (a job it started failed, a gate refused...)."""


@dataclass
class StepRun:
    """One attempt at one step of a pipeline run."""

    ctx: RequestContext
    job: JobAttempt
    pipeline: str
    run_id: str
    step: str
    files: dict[str, str]
    children: list[str] = field(default_factory=list)

    @property
    def platform(self) -> Any:
        return self.ctx.platform

    def log(self, message: str) -> None:
        self.job.log(f"[{self.step}] {message}")

    def started(self, job_id: str) -> None:
        """Record the job this step started (cancelling the run stops it too), and link it
        to the run for good (``child_job`` names only the latest attempt's; what each
        attempt's job used is counted in the pipeline's cost)."""
        from shipyard.store.metadata import pipeline_tables as pt

        self.children.append(job_id)
        with self.platform.db.session() as session:
            session.execute(
                sa.update(pt.PipelineStep)
                .where(pt.PipelineStep.run_id == self.run_id, pt.PipelineStep.name == self.step)
                .values(child_job=job_id)
            )
            session.add(
                pt.PipelineOutput(run_id=self.run_id, step=self.step, kind="job", ref=job_id)
            )

    def wait(self, info: JobInfo, describe: Callable[[RequestContext, str], JobInfo]) -> JobInfo:
        """Follow a job this step started to its end; StepFailed unless it succeeded."""
        self.started(info.id)
        self.log(f"started {info.kind} job {info.id}")
        while not info.done:
            time.sleep(POLL_SECONDS)
            info = describe(self.ctx, info.id)
        if info.status != "succeeded":
            raise StepFailed(f"{info.kind} job {info.id} {info.status}: {info.message}")
        self.log(f"{info.kind} job {info.id} succeeded: {info.message}")
        return info


Declare = Callable[[Session, dict[str, Any]], list[Access]]
Run = Callable[[StepRun, dict[str, Any]], dict[str, Any]]
Produced = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _nothing(outputs: dict[str, Any]) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class StepKind:
    name: str
    run: Run
    declare: Declare
    produced: Produced = _nothing
    cacheable: bool = True
    code: bool = False
    """Whether the step runs the pipeline's own code (its files go into the cache key)."""


def text(config: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    """A string setting of a step; InvalidInput naming it when missing or not text."""
    value = config.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput("must be a non-empty string", field=f"with.{key}")
    return value


def op_accesses(fn: Any, session: Session, arguments: dict[str, Any]) -> list[Access]:
    """What the service operation ``fn`` would check for these arguments (its defaults
    filled in for those not given, as a request's are)."""
    import inspect

    info = fn.__shipyard_operation__
    parameters = inspect.signature(fn).parameters
    empty = inspect.Parameter.empty
    defaults = {name: p.default for name, p in parameters.items() if p.default is not empty}
    missing = [n for n in parameters if n != "ctx" and n not in defaults and n not in arguments]
    try:
        return list(info.iter_accesses(session, defaults | arguments))
    except TypeError:
        if not missing:
            raise
        raise InvalidInput(
            "must be given (and known before the run starts)", field=f"with.{missing[0]}"
        ) from None


def call(fn: Any, ctx: RequestContext, arguments: dict[str, Any]) -> Any:
    """Call a service operation with a step's settings as its arguments, checked as the
    catalog checks a request (unknown or mistyped settings name their field)."""
    import inspect

    from shipyard._operation import Operation

    operation = Operation(fn.__name__, "POST", "/", fn)
    known = set(inspect.signature(fn).parameters) - {"ctx"}
    for key in arguments:
        if key not in known:
            raise InvalidInput(f"unknown setting {key!r}", field=f"with.{key}")
    try:
        valid = operation.validate(arguments)
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"with.{error.field}") from None
    return fn(ctx, **valid)


__all__ = ["ShipyardError", "StepFailed", "StepKind", "StepRun", "call", "op_accesses", "text"]
