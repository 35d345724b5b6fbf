"""Continuing to boost from a registered LightGBM or XGBoost model version (``init_model``).

The parent is loaded from its stored safe format (LightGBM model text, XGBoost JSON)
through its flavor, digest first, never from a pickle. Its feature columns, their types
and its classes must be those of the new training data; string columns keep the parent's
category codes (new values are appended), so the parent's trees read the new rows as
they read the old ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature, load_predictor

FIELD = "init_model"


@dataclass(frozen=True)
class ParentModel:
    """A registered version training continues from: its booster and what it takes."""

    ref: str
    flavor: str
    booster: Any
    signature: ModelSignature
    categories: Mapping[str, list[Any]]

    def fit_arguments(self) -> dict[str, Any]:
        """The keyword that makes the estimator's ``fit`` continue from this booster."""
        if self.flavor == "lightgbm":
            return {"init_model": self.booster}
        return {"xgb_model": self.booster}


def load_parent(
    ref: str, flavor: str, data: bytes, signature: ModelSignature, digest: str
) -> ParentModel:
    """The parent's booster from its stored bytes, verified against ``digest``."""
    if flavor not in ("lightgbm", "xgboost"):
        raise InvalidInput(
            f"{ref} is a {flavor} model; init_model continues LightGBM and XGBoost models",
            field=FIELD,
        )
    predictor = load_predictor(flavor, data, signature, expected_digest=digest)
    return ParentModel(ref, flavor, predictor.model, signature, dict(predictor.known_categories))


def check_parent(parent: ParentModel, flavor: str, signature: ModelSignature) -> None:
    """Refuse training data the parent's trees cannot continue on, naming ``init_model``."""
    if parent.flavor != flavor:
        raise InvalidInput(
            f"{parent.ref} is a {parent.flavor} model and cannot be continued by a "
            f"{flavor} estimator",
            field=FIELD,
        )
    theirs = [(c.name, c.type) for c in parent.signature.inputs]
    ours = [(c.name, c.type) for c in signature.inputs]
    if theirs != ours:
        raise InvalidInput(
            f"{parent.ref} takes the feature columns {_columns(theirs)}, but this training "
            f"data has {_columns(ours)}; continuing needs the same columns, in the same order "
            "and of the same types (set features: to the parent's)",
            field=FIELD,
        )
    if parent.signature.task != signature.task:
        raise InvalidInput(
            f"{parent.ref} is a {parent.signature.task} model, the spec's task is {signature.task}",
            field=FIELD,
        )
    if parent.signature.classes != signature.classes:
        raise InvalidInput(
            f"{parent.ref} predicts the classes {parent.signature.classes}, but the target "
            f"holds {signature.classes}; continuing needs the same classes",
            field=FIELD,
        )


def _columns(columns: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"{name} ({kind})" for name, kind in columns[:8])
    return f"[{shown}{f', ... {len(columns) - 8} more' if len(columns) > 8 else ''}]"
