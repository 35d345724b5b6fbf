"""The tuning spec: which training to tune, over which parameters, judged how, searched how.

Everything is checked up front, each problem naming its field (``search_space.lr.low``):
ranges, conditions, what a strategy can search (grid needs finite choices, CMA-ES no
categories), and what a pruner needs (one objective, intermediate values).
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from shipyard.errors import InvalidInput
from shipyard.schemas._base import WireModel

Scalar = str | int | float | bool | None
Strategy = Literal["bayesian", "random", "grid", "cmaes"]
Pruner = Literal["none", "median", "hyperband"]
MAX_TRIALS = 10_000
MAX_PARALLEL = 64
MAX_GRID = 10_000
_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d)?")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Objective(WireModel):
    """A metric the training reports, and whether larger is better."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1, max_length=100)
    direction: Literal["maximize", "minimize"] = "maximize"


class Parameter(WireModel):
    """One dimension of the search: an int or float range (log-scaled or stepped), or
    categorical choices; ``when`` searches it only while other parameters hold given values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    choices: list[Scalar] | None = None
    when: dict[str, Scalar | list[Scalar]] | None = None

    def condition_values(self, name: str) -> list[Scalar]:
        assert self.when is not None
        value = self.when[name]
        return list(value) if isinstance(value, list) else [value]


class TuningSpec(WireModel):
    """A tuning job: ``training`` (a training spec, or own code's spec), ``search_space``,
    ``objective`` (or several ``objectives``), ``strategy``, ``pruner`` and the budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, max_length=200)
    training: dict[str, Any]
    objective: Objective | None = None
    objectives: list[Objective] | None = Field(default=None, min_length=2, max_length=8)
    strategy: Strategy = "bayesian"
    pruner: Pruner = "none"
    max_trials: int = Field(20, ge=1, le=MAX_TRIALS)
    max_parallel: int = Field(1, ge=1, le=MAX_PARALLEL)
    timeout: float | str | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    warm_start: list[str] = Field(default_factory=list, max_length=20)
    search_space: dict[str, Parameter] = Field(min_length=1, max_length=100)

    @property
    def goals(self) -> list[Objective]:
        """The objectives in order (one for a single objective)."""
        return list(self.objectives or ([self.objective] if self.objective else []))

    @property
    def timeout_seconds(self) -> float | None:
        return parse_duration(self.timeout, "timeout") if self.timeout is not None else None


def parse_duration(value: float | str, field: str) -> float:
    """Seconds of ``90``, ``"90s"``, ``"10m"``, ``"2h"``, ``"1d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        found = _DURATION.fullmatch(str(value).strip())
        if found is None:
            raise InvalidInput(f"{value!r} is not a duration like 90, 90s, 10m or 2h", field=field)
        seconds = float(found["n"]) * _UNITS[found["unit"]]
    if not 0 < seconds <= 30 * 86400:
        raise InvalidInput("must be more than 0 and at most 30 days", field=field)
    return seconds


def parse_tuning_spec(data: Any) -> TuningSpec:
    """A checked spec, or InvalidInput naming the first problem's field."""
    if not isinstance(data, dict):
        raise InvalidInput("a tuning spec must be a mapping of keys to values", field="spec")
    if isinstance(data.get("training"), str):
        raise InvalidInput(
            "give the training spec inline here (shipyard tune and client.tuning.start read "
            "a path for you)",
            field="training",
        )
    try:
        spec = TuningSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "spec"
        raise InvalidInput(first["msg"].removeprefix("Value error, "), field=field) from None
    _check_objectives(spec)
    if spec.strategy == "cmaes" and importlib.util.find_spec("cmaes") is None:
        raise InvalidInput(
            "strategy cmaes needs the cmaes package on the server (pip install cmaes)",
            field="strategy",
        )
    if spec.timeout is not None:
        parse_duration(spec.timeout, "timeout")
    if spec.max_parallel > spec.max_trials:
        raise InvalidInput("must be at most max_trials", field="max_parallel")
    for name, parameter in spec.search_space.items():
        _check_parameter(name, parameter, spec)
    _check_conditions(spec)
    return spec


def _check_objectives(spec: TuningSpec) -> None:
    if spec.objective is not None and spec.objectives is not None:
        raise InvalidInput("give objective or objectives, not both", field="objectives")
    if not spec.goals:
        raise InvalidInput(
            "name the metric to optimize, e.g. {metric: roc_auc, direction: maximize}",
            field="objective",
        )
    names = [goal.metric for goal in spec.goals]
    if len(set(names)) != len(names):
        raise InvalidInput("each metric at most once", field="objectives")
    if len(names) > 1:
        if spec.pruner != "none":
            raise InvalidInput(
                "pruning compares one objective's intermediate values; several objectives "
                "cannot be pruned (pruner: none)",
                field="pruner",
            )
        if spec.strategy == "cmaes":
            raise InvalidInput(
                "cmaes optimizes one objective; use bayesian, random or grid", field="strategy"
            )


def _check_parameter(name: str, p: Parameter, spec: TuningSpec) -> None:
    where = f"search_space.{name}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,99}", name):
        raise InvalidInput("parameter names are identifiers (letters, digits, _)", field=where)
    if p.type == "categorical":
        if not p.choices:
            raise InvalidInput(
                "a categorical parameter needs choices: [...]", field=f"{where}.choices"
            )
        for key in ("low", "high", "step"):
            if getattr(p, key) is not None:
                raise InvalidInput(
                    "categorical parameters take choices only", field=f"{where}.{key}"
                )
        if len({repr(c) for c in p.choices}) != len(p.choices):
            raise InvalidInput("choices must be distinct", field=f"{where}.choices")
        if spec.strategy == "cmaes":
            raise InvalidInput(
                "cmaes searches numbers only; use bayesian or random for categorical parameters",
                field=f"{where}.type",
            )
        return
    if p.choices is not None:
        raise InvalidInput(
            f"{p.type} parameters take low and high, not choices", field=f"{where}.choices"
        )
    for key in ("low", "high"):
        if getattr(p, key) is None:
            raise InvalidInput(f"a {p.type} parameter needs {key}", field=f"{where}.{key}")
    low, high = float(p.low or 0), float(p.high or 0)
    if p.type == "int":
        for key in ("low", "high", "step"):
            value = getattr(p, key)
            if value is not None and float(value) != int(value):
                raise InvalidInput("must be a whole number", field=f"{where}.{key}")
    if low > high or (p.type == "float" and low == high):
        raise InvalidInput(f"must be below high ({high:g})", field=f"{where}.low")
    if p.log and low <= 0:
        raise InvalidInput("a log-scaled range starts above 0", field=f"{where}.low")
    if p.log and p.step is not None:
        raise InvalidInput("a range is log-scaled or stepped, not both", field=f"{where}.step")
    if spec.strategy == "grid":
        if p.type == "float" and p.step is None:
            raise InvalidInput(
                "grid needs finite choices: give the float range a step, or use categorical",
                field=f"{where}.step",
            )
        if (high - low) / (p.step or 1) + 1 > MAX_GRID:
            raise InvalidInput(f"grid axis over {MAX_GRID} points", field=f"{where}.step")


def _check_conditions(spec: TuningSpec) -> None:
    names = list(spec.search_space)
    for index, (name, p) in enumerate(spec.search_space.items()):
        if not p.when:
            continue
        where = f"search_space.{name}.when"
        if spec.strategy == "grid":
            raise InvalidInput(
                "grid enumerates every parameter; drop when: or use bayesian", field=where
            )
        for other in p.when:
            if other not in spec.search_space:
                raise InvalidInput(f"{other!r} is not a parameter of the search space", field=where)
            if names.index(other) >= index:
                raise InvalidInput(f"{other!r} must be declared before {name!r}", field=where)
            parent = spec.search_space[other]
            if parent.type != "categorical":
                raise InvalidInput(
                    f"conditions hold on categorical parameters; {other!r} is {parent.type}",
                    field=where,
                )
            for value in p.condition_values(other):
                if value not in (parent.choices or []):
                    raise InvalidInput(
                        f"{value!r} is not one of {other}'s choices", field=f"{where}.{other}"
                    )


def grid_size(spec: TuningSpec) -> int:
    """How many points the grid has."""
    size = 1
    for p in spec.search_space.values():
        size *= len(grid_values(p))
    return size


def grid_values(p: Parameter) -> list[Scalar]:
    if p.type == "categorical":
        return list(p.choices or [])
    low, high, step = float(p.low or 0), float(p.high or 0), float(p.step or 1)
    count = round((high - low) / step) + 1
    values = [low + i * step for i in range(count) if low + i * step <= high + 1e-12]
    return [int(v) if p.type == "int" else v for v in values]
