"""Model cards: what a model version is, made from what the platform recorded about it.

Nothing in a card is typed by hand. It is assembled from the version (flavor, digest,
signature), its approvals with their reasons, its run (who trained it, parameters, final
metrics, the digests of its code and environment), the dataset versions it was trained on
with their latest contract validation, its evaluations and gate checks, and its lineage.
Reading a card reads all of those, so it needs the rights to read each of them
(``_card_uses``), as reading them one by one would.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.contracts._store import contract_access, latest_validation, validation_resource
from shipyard.datasets import dataset_resource
from shipyard.datasets._staging import version_info as dataset_version_info
from shipyard.evaluation._service import list_evaluations
from shipyard.names import Reference, resource
from shipyard.registry import approval_history, lineage, resolve, version_info
from shipyard.schemas.cards import CardDataset, CardEvaluation, CardTraining, ModelCard
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking import run_resource
from shipyard.tracking._read import run_info

_CODE = "code/"


def _card_resource(session: Session, name: str, version: int) -> ResourceName:
    return ResourceName.versioned("model", name, version)


def _input_versions(session: Session, run_id: str) -> list[t.DatasetVersion]:
    return list(
        session.scalars(
            sa.select(t.DatasetVersion)
            .join(t.RunInput, t.RunInput.dataset_version_id == t.DatasetVersion.id)
            .where(t.RunInput.run_id == run_id)
            .order_by(t.DatasetVersion.id)
        )
    )


def _dataset_name(session: Session, row: t.DatasetVersion) -> str:
    name = session.scalar(sa.select(t.Dataset.name).where(t.Dataset.id == row.dataset_id))
    return str(name)


def _card_uses(session: Session, name: str, version: int) -> list[Access]:
    """The version (its summary and approvals) and its lineage, the run (parameters,
    metrics, code digests), each training dataset version (schema), its latest validation
    and that validation's contract, and the version's evaluations."""
    try:
        _, row = resolve(session, Reference(name, version=version))
    except Exception:  # an unknown version: the primary check refuses or 404s first
        return []
    version_name = ResourceName.versioned("model", name, row.version)
    uses = [
        Access("registry:GetModelVersion", version_name),
        Access("registry:GetLineage", version_name),
        Access("tracking:GetRun", run_resource(session, row.run_id)),
        Access("registry:ListEvaluations", resource("evaluation", name)),
    ]
    for data in _input_versions(session, row.run_id):
        uses.append(
            Access(
                "datasets:GetDataset",
                dataset_resource(session, _dataset_name(session, data), data.version),
            )
        )
        report = latest_validation(session, data.id)
        if report is not None and report.id is not None:
            uses.append(Access("contracts:GetValidation", validation_resource(session, report.id)))
            uses.append(contract_access(session, report.contract))
    return uses


@operation("registry:GetModelCard", _card_resource, uses=_card_uses, mutating=False)
def model_card(ctx: RequestContext, name: str, version: int) -> ModelCard:
    """The model card of ``name@version``: approvals, training run and code, training data
    and its validation, evaluations, gate checks and lineage."""
    with ctx.platform.db.session() as session:
        model, row = resolve(session, Reference(name, version=version))
        info = version_info(session, model.name, row)
        run = session.get(t.Run, row.run_id)
        training = None
        if run is not None:
            described = run_info(session, run)
            code = {
                a.path.removeprefix(_CODE): a.digest
                for a in described.artifacts
                if a.path.startswith(_CODE)
            }
            training = CardTraining(
                run_id=run.id,
                run_name=described.name,
                experiment=described.experiment,
                trained_by=described.created_by,
                started_at=described.start_time,
                ended_at=described.end_time,
                params=described.params,
                metrics={k: v for k, v in described.metrics.items() if not k.startswith("system/")},
                code=code,
            )
        data = []
        for version_row in _input_versions(session, row.run_id):
            dataset = dataset_version_info(_dataset_name(session, version_row), version_row)
            report = latest_validation(session, version_row.id)
            data.append(
                CardDataset(
                    ref=f"{dataset.name}@{dataset.version}",
                    digest=dataset.digest,
                    rows=dataset.rows,
                    columns={str(c["name"]): str(c["type"]) for c in dataset.columns},
                    contract=report.contract if report is not None else None,
                    validation=report.status if report is not None else None,
                    validation_id=report.id if report is not None else None,
                    failed_checks=[c.label for c in report.failures("error")]
                    if report is not None
                    else [],
                )
            )
        four_eyes = model.four_eyes
    evaluations = [
        CardEvaluation(
            id=e.id,
            data=e.data,
            task=e.task,
            rows=e.rows,
            metrics={k: m.value for k, m in e.metrics.items()},
            passed=e.passed,
            created_at=e.created_at,
        )
        for e in list_evaluations(ctx, f"{name}@{version}", limit=20)
    ]
    return ModelCard(
        model=name,
        version=version,
        generated_at=utcnow(),
        four_eyes=four_eyes,
        summary=info,
        approvals=approval_history(ctx, name, version),
        training=training,
        data=data,
        evaluations=evaluations,
        lineage=lineage(ctx, "model", f"{name}@{version}"),
    )
