"""What a batch job reads and writes: the input check against the signature, the output columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature, check_conforms

PREDICTION = "prediction"
PROBABILITIES = "probabilities"
PROBABILITY_PREFIX = "probability_"


def check_input_schema(columns: Sequence[dict[str, Any]], signature: ModelSignature) -> None:
    """InvalidInput listing every signature column the dataset lacks or holds with another type
    (the one rule of ``shipyard.flavors.check_conforms``)."""
    check_conforms(
        signature,
        {c["name"]: c["type"] for c in columns},
        what="the rows of the input dataset",
        field="input",
        noun="dataset",
    )


class OutputPlan(BaseModel):
    """The output table's columns: carried-through input columns, then model outputs."""

    model_config = ConfigDict(frozen=True)

    keep: list[str]
    prediction: bool
    probabilities: list[tuple[int, str]]

    @property
    def names(self) -> list[str]:
        outputs = [PREDICTION] if self.prediction else []
        return [*self.keep, *outputs, *(name for _, name in self.probabilities)]


def probability_columns(signature: ModelSignature) -> list[str]:
    return [f"{PROBABILITY_PREFIX}{c}" for c in signature.classes or []]


def plan_output(
    signature: ModelSignature,
    input_columns: Sequence[str],
    keep_columns: Sequence[str] | None,
    output_columns: Sequence[str] | None,
) -> OutputPlan:
    """Check the carry-through and output column choices; InvalidInput names the bad one."""
    keep = list(keep_columns or [])
    unknown = [c for c in keep if c not in input_columns]
    if unknown:
        raise InvalidInput(f"columns {unknown} are not in the input dataset", field="keep_columns")
    if len(set(keep)) != len(keep):
        raise InvalidInput("lists a column twice", field="keep_columns")
    classification = signature.task == "classification"
    per_class = probability_columns(signature)
    default = [PREDICTION, PROBABILITIES] if classification else [PREDICTION]
    wanted = list(output_columns) if output_columns is not None else default
    allowed = [PREDICTION, *([PROBABILITIES, *per_class] if classification else [])]
    bad = [c for c in wanted if c not in allowed]
    if bad:
        raise InvalidInput(
            f"unknown output columns {bad}; choose from {allowed}", field="output_columns"
        )
    chosen = [
        (i, name) for i, name in enumerate(per_class) if PROBABILITIES in wanted or name in wanted
    ]
    plan = OutputPlan(keep=keep, prediction=PREDICTION in wanted, probabilities=chosen)
    clash = sorted(set(keep) & set(plan.names[len(keep) :]))
    if clash:
        raise InvalidInput(
            f"kept columns {clash} clash with model output columns; drop them from keep_columns",
            field="keep_columns",
        )
    if not plan.names:
        raise InvalidInput("the output would have no columns", field="output_columns")
    return plan
