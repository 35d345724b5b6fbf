"""A pipeline's definition: parameters, steps of known kinds, and the DAG they make.

Checked whole before anything is stored: names, kinds, every ``${params.x}`` and
``${steps.s.output}`` reference, dependencies and cycles; the first problem is an
InvalidInput naming its field (``steps.train.kind``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipyard.errors import InvalidInput
from shipyard.names import NAME_PATTERN
from shipyard.pipelines._refs import refs_in

OUTPUTS: dict[str, frozenset[str]] = {
    "ingest": frozenset({"dataset", "rows"}),
    "validate": frozenset({"dataset", "report", "status", "passed"}),
    "transform": frozenset({"dataset", "transform_run", "cached"}),
    "features": frozenset({"dataset", "rows"}),
    "train": frozenset({"run", "job"}),
    "code": frozenset({"run", "job"}),
    "tune": frozenset({"run", "job"}),
    "automl": frozenset({"run", "job", "model_version"}),
    "evaluate": frozenset({"passed", "metrics", "baseline_metrics", "rules"}),
    "condition": frozenset({"result", "branch"}),
    "register": frozenset({"model_version", "model", "version"}),
    "approve": frozenset({"model_version", "approval"}),
    "deploy": frozenset({"deployment", "status"}),
    "batch": frozenset({"job", "dataset"}),
    "monitor": frozenset({"monitor", "endpoint", "created"}),
}
"""Each step kind and the outputs later steps may reference (``metrics.<name>`` too)."""

NESTED_OUTPUTS = frozenset({"metrics", "baseline_metrics"})
MAX_STEPS = 100


class StepSpec(BaseModel):
    """One step: its kind, configuration (``with``), explicit dependencies, retries, cache."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    kind: str
    config: dict[str, Any] = Field(default_factory=dict, alias="with")
    after: list[str] = Field(default_factory=list)
    retries: int = Field(default=0, ge=0, le=10)
    backoff: float = Field(default=1.0, ge=0, le=3600)
    cache: bool = True


class Trigger(BaseModel):
    """A new version of ``dataset`` starts a run, with its reference as ``parameter``."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    parameter: str | None = None


class PipelineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    parameters: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1, max_length=MAX_STEPS)

    def step(self, name: str) -> StepSpec:
        return next(s for s in self.steps if s.name == name)


def parse_pipeline_spec(document: object) -> PipelineSpec:
    """The checked definition; InvalidInput naming the first bad field."""
    if not isinstance(document, dict):
        raise InvalidInput("a pipeline is a mapping of keys to values", field="spec")
    try:
        spec = PipelineSpec.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        if len(loc) >= 2 and loc[0] == "steps" and loc[1].isdigit():
            raw = document.get("steps", [])[int(loc[1])]
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                loc[1] = raw["name"]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(message, field=".".join(loc) or "spec") from None
    _check(spec)
    return spec


def _check(spec: PipelineSpec) -> None:
    if not NAME_PATTERN.fullmatch(spec.name):
        raise InvalidInput("must be letters, digits, '-', '_' or '.'", field="name")
    for key in spec.parameters:
        if not NAME_PATTERN.fullmatch(key):
            raise InvalidInput("parameter names are letters, digits, '-', '_'", field="parameters")
    names: set[str] = set()
    for step in spec.steps:
        where = f"steps.{step.name}"
        if not NAME_PATTERN.fullmatch(step.name):
            raise InvalidInput("must be letters, digits, '-', '_' or '.'", field=f"{where}.name")
        if step.name in names:
            raise InvalidInput(f"two steps are named {step.name!r}", field=f"{where}.name")
        names.add(step.name)
        if step.kind not in OUTPUTS:
            raise InvalidInput(
                f"unknown step kind {step.kind!r}; one of {', '.join(sorted(OUTPUTS))}",
                field=f"{where}.kind",
            )
    for trigger in spec.triggers:
        if trigger.parameter is not None and trigger.parameter not in spec.parameters:
            raise InvalidInput(
                f"parameter {trigger.parameter!r} is not declared under parameters",
                field="triggers.parameter",
            )
    for step in spec.steps:
        _check_references(spec, step, names)
    order(spec)


def _check_references(spec: PipelineSpec, step: StepSpec, names: set[str]) -> None:
    where = f"steps.{step.name}"
    for other in step.after:
        if other not in names:
            raise InvalidInput(f"no step is named {other!r}", field=f"{where}.after")
    for ref in refs_in(step.config):
        if ref.scope == "params":
            if ref.name not in spec.parameters:
                raise InvalidInput(
                    f"${{params.{ref.name}}} is not declared under parameters",
                    field=f"{where}.with",
                )
            continue
        if ref.name not in names:
            raise InvalidInput(f"no step is named {ref.name!r}", field=f"{where}.with")
        produced = OUTPUTS[spec.step(ref.name).kind]
        head = (ref.output or "").split(".", 1)[0]
        nested = "." in (ref.output or "") and head in NESTED_OUTPUTS
        if ref.output is None or (ref.output not in produced and not nested):
            raise InvalidInput(
                f"step {ref.name!r} has no output {ref.output!r}; "
                f"it has {', '.join(sorted(produced))}",
                field=f"{where}.with",
            )
    if step.kind == "condition":
        for branch in ("then", "else"):
            listed = step.config.get(branch, [])
            if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                raise InvalidInput("must be a list of step names", field=f"{where}.with.{branch}")
            for other in listed:
                if other not in names or other == step.name:
                    raise InvalidInput(
                        f"no step is named {other!r}", field=f"{where}.with.{branch}"
                    )


def dependencies(spec: PipelineSpec) -> dict[str, set[str]]:
    """Step -> the steps it waits for: ``after``, the steps it references, and the condition
    whose branch lists it."""
    found: dict[str, set[str]] = {s.name: set(s.after) for s in spec.steps}
    for step in spec.steps:
        found[step.name] |= {r.name for r in refs_in(step.config) if r.scope == "steps"}
        if step.kind == "condition":
            for branch in ("then", "else"):
                for other in step.config.get(branch, []):
                    found[other].add(step.name)
    return found


def order(spec: PipelineSpec) -> list[str]:
    """The steps in an order that respects every dependency (as written, where free);
    InvalidInput naming a step on a cycle."""
    waits = dependencies(spec)
    done: list[str] = []
    left = [s.name for s in spec.steps]
    while left:
        ready = [n for n in left if waits[n] <= set(done)]
        if not ready:
            cycle = _cycle(waits, left)
            raise InvalidInput(
                f"the steps {' -> '.join(cycle)} depend on each other in a cycle",
                field=f"steps.{cycle[0]}.after",
            )
        done.append(ready[0])
        left.remove(ready[0])
    return done


def _cycle(waits: dict[str, set[str]], left: list[str]) -> list[str]:
    """A cycle among the steps that cannot run, as ``a -> b -> a``."""
    path = [left[0]]
    while True:
        nxt = sorted(w for w in waits[path[-1]] if w in left)[0]
        if nxt in path:
            loop = path[path.index(nxt) :]
            return [*loop, nxt]
        path.append(nxt)
