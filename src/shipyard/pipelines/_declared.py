"""What a pipeline needs before it runs: every step's accesses, from its configuration
with the run's parameters filled in and other steps' outputs named as far as they can be.

A dataset another step writes is named by the dataset (``sy:dataset/<name>``), a model
version a register step makes by its model; values known only once a step has run (a
run's id) are left out here and checked when the step calls the service, as the run's
principal, with the concrete version. So a principal who may create and start pipelines
but not deploy to an endpoint is refused at creation and at start, not halfway through.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, ShipyardError
from shipyard.pipelines._refs import Ref, substitute
from shipyard.pipelines._spec import PipelineSpec, StepSpec, order
from shipyard.pipelines._step_kinds import STEP_KINDS
from shipyard.security import Access


def merged_parameters(spec: PipelineSpec, given: dict[str, Any] | None) -> dict[str, Any]:
    """The spec's defaults overridden by ``given``; InvalidInput for an undeclared one."""
    values = dict(spec.parameters)
    for key, value in (given or {}).items():
        if key not in values:
            raise InvalidInput(f"the pipeline has no parameter {key!r}", field=f"parameters.{key}")
        values[key] = value
    return values


def _transform_output(session: Session | None, made: dict[str, Any]) -> Any:
    from shipyard.transforms import TransformSpec
    from shipyard.transforms._service import find_transform_version
    from shipyard.transforms._spec import output_dataset

    name, version = made.get("transform"), made.get("version")
    if session is None or not isinstance(name, str):
        return None
    try:
        _, row = find_transform_version(
            session, name, version if isinstance(version, int) else None
        )
    except ShipyardError:
        return None
    return output_dataset(name, TransformSpec.model_validate(row.spec))


def _static_output(
    session: Session | None, spec: PipelineSpec, config: dict[str, dict[str, Any]], ref: Ref
) -> Any:
    """What can be said of another step's output before it runs: the dataset it writes,
    the model it registers to; None otherwise."""
    producer = spec.step(ref.name)
    made = config.get(producer.name, {})
    if ref.output == "dataset":
        if producer.kind == "ingest":
            source = made.get("from")
            return source if isinstance(source, str) else made.get("dataset")
        if producer.kind == "validate":
            return made.get("dataset")
        if producer.kind == "transform":
            return _transform_output(session, made)
        if producer.kind == "features":
            return made.get("output")
        if producer.kind == "batch":
            return made.get("output")
    if ref.output == "model_version":
        if producer.kind == "register":
            return made.get("model")
        if producer.kind == "automl":
            return made.get("register_to")
    if ref.output == "model" and producer.kind == "register":
        return made.get("model")
    return None


def static_configs(
    spec: PipelineSpec, parameters: dict[str, Any], session: Session | None = None
) -> dict[str, dict[str, Any]]:
    """Each step's configuration as far as it is known before the run."""
    found: dict[str, dict[str, Any]] = {}
    for name in order(spec):
        step = spec.step(name)

        def lookup(ref: Ref) -> Any:
            if ref.scope == "params":
                return parameters[ref.name]
            return _static_output(session, spec, found, ref)

        value = substitute(step.config, lookup)
        found[name] = value if isinstance(value, dict) else {}
    return found


def _unknown_removed(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if v is not None}


def step_accesses(session: Session, step: StepSpec, config: dict[str, Any]) -> list[Access]:
    kind = STEP_KINDS[step.kind]
    try:
        return kind.declare(session, _unknown_removed(config))
    except ShipyardError as error:
        field = getattr(error, "field", None)
        where = f"steps.{step.name}" + (f".{field}" if field else "")
        raise InvalidInput(getattr(error, "message", str(error)), field=where) from None


def pipeline_accesses(
    session: Session, spec: PipelineSpec, parameters: dict[str, Any]
) -> list[Access]:
    """Every access the steps need, step by step, without repeats."""
    configs = static_configs(spec, parameters, session)
    found: list[Access] = []
    seen: set[tuple[str, str]] = set()
    for step in spec.steps:
        for access in step_accesses(session, step, configs[step.name]):
            key = (access.action, access.resource.name)
            if key not in seen:
                seen.add(key)
                found.append(access)
    return found
