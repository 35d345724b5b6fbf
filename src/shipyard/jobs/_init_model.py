"""A training job's ``init_model``: the registered version it continues boosting from.

Creating the job reads that version (``registry:GetModelVersion`` on
``sy:model/<name>/<version>``, aliases resolved first), checks it can be continued on
the dataset, and stores the concrete ``name@version``; the worker loads it from its
stored safe format and records it as an input of the run (lineage).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.flavors import ModelSignature
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import model_version_access, resolve
from shipyard.security import Access
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    from shipyard.training import TrainingSpec
    from shipyard.training._warm_start import ParentModel

FIELD = "init_model"


def init_model_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    """Reading the model version ``init_model`` names, when the spec names one."""
    ref = spec.get(FIELD)
    if not isinstance(ref, str) or not ref:
        return []
    return [model_version_access(session, ref, field=FIELD)]


def resolve_init_model(
    session: Session, spec: TrainingSpec, flavor: str, columns: list[str]
) -> str | None:
    """The concrete ``name@version`` of the spec's ``init_model``, once it fits the spec:
    the same library, task and feature columns (``columns``: the dataset's)."""
    if spec.init_model is None:
        return None
    try:
        model, row = resolve(session, parse_reference(spec.init_model, field=FIELD))
    except NotFound as error:
        raise NotFound(error.message, field=FIELD) from None
    ref = f"{model.name}@{row.version}"
    if row.flavor != flavor:
        raise InvalidInput(
            f"{ref} is a {row.flavor} model; {spec.estimator} continues only {flavor} models",
            field=FIELD,
        )
    signature = ModelSignature.model_validate(row.signature)
    if signature.task != spec.task:
        raise InvalidInput(
            f"{ref} is a {signature.task} model, the spec's task is {spec.task}", field=FIELD
        )
    features = spec.features or [c for c in columns if c != spec.target]
    if features != signature.input_names:
        raise InvalidInput(
            f"{ref} takes the feature columns {_preview(signature.input_names)}, but the spec "
            f"trains on {_preview(features)}; continuing needs the same columns in the same "
            "order (set features:)",
            field=FIELD,
        )
    return ref


def _preview(names: list[str]) -> str:
    shown = ", ".join(names[:6])
    return f"[{shown}{f', ... {len(names) - 6} more' if len(names) > 6 else ''}]"


def load_init_model(platform: Platform, ref: str) -> tuple[ParentModel, int]:
    """The parent version's booster from its stored bytes (digest-verified), and its row id."""
    from shipyard.training._warm_start import load_parent

    with platform.db.session() as session:
        _, row = resolve(session, parse_reference(ref, field=FIELD))
        flavor, digest, signature, row_id = row.flavor, row.digest, row.signature, row.id
    data = platform.blobs.get_bytes(digest)
    parent = load_parent(ref, flavor, data, ModelSignature.model_validate(signature), digest)
    return parent, row_id


def record_model_input(session: Session, run_id: str, model_version_id: int) -> None:
    """Lineage: the run continued from this model version."""
    exists = session.get(t.RunModelInput, (run_id, model_version_id))
    if exists is None:
        session.add(t.RunModelInput(run_id=run_id, model_version_id=model_version_id))
