"""The model registry: versions from runs, approval status, movable aliases, lineage."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import AccessDenied, Conflict, InvalidInput, NotFound
from shipyard.evaluation import gate_checks_of
from shipyard.flavors import CodeGrant, ModelSignature, Predictor
from shipyard.names import Reference, check_alias, check_name, parse_reference, resource
from shipyard.platform import Platform
from shipyard.registry._artifact import check_client_token, check_run_model, run_model_has_code
from shipyard.registry._parents import parents_of_runs
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.schemas.registry import Approval, ApprovalDecision, ModelInfo, ModelVersionInfo
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import MODELS, Keyset, add_version, find_versioned
from shipyard.store.metadata import tables as t
from shipyard.tracking import run_resource, run_row

APPROVALS: tuple[Approval, ...] = ("PendingManualApproval", "Approved", "Rejected")
MAX_REASON = 1000


def _model(session: Session, name: str) -> t.Model:
    row = session.scalar(sa.select(t.Model).where(t.Model.name == name))
    if row is None:
        raise NotFound(f"model {name!r} does not exist", field="model")
    return row


def _aliases_of(session: Session, version_id: int) -> list[str]:
    return sorted(
        session.scalars(
            sa.select(t.ModelAlias.alias).where(t.ModelAlias.model_version_id == version_id)
        )
    )


def _latest_decision(session: Session, version_id: int) -> t.ModelApproval | None:
    return session.scalar(
        sa.select(t.ModelApproval)
        .where(t.ModelApproval.model_version_id == version_id)
        .order_by(t.ModelApproval.id.desc())
        .limit(1)
    )


def version_info(session: Session, name: str, row: t.ModelVersion) -> ModelVersionInfo:
    decision = _latest_decision(session, row.id)
    return ModelVersionInfo(
        name=name,
        version=row.version,
        flavor=row.flavor,
        digest=row.digest,
        size_bytes=row.size_bytes,
        signature=row.signature,
        metrics=row.metrics,
        approval=row.approval,
        aliases=_aliases_of(session, row.id),
        run_id=row.run_id,
        created_by=row.created_by,
        created_at=row.created_at,
        code_digest=row.code_digest,
        code_registered_by=row.code_registered_by,
        gate_checks=gate_checks_of(session, name, row),
        parents=parents_of_runs(session, [row.run_id]).get(row.run_id, []),
        approval_reason=decision.reason if decision else None,
        approval_by=decision.principal if decision else None,
        approval_at=decision.decided_at if decision else None,
    )


def resolve(session: Session, ref: Reference) -> tuple[t.Model, t.ModelVersion]:
    """The version a reference names: ``m@3``, ``m@champion``, or ``m`` (the latest)."""
    if ref.alias is None:
        return find_versioned(session, MODELS, ref.name, ref.version, field="model")
    model = _model(session, ref.name)
    alias = session.get(t.ModelAlias, (model.id, ref.alias))
    if alias is None:
        raise NotFound(f"model {ref.name!r} has no alias {ref.alias!r}", field="alias")
    return model, session.get_one(t.ModelVersion, alias.model_version_id)


def code_grant(row: t.ModelVersion) -> CodeGrant | None:
    """The version's record of registered code, which loading checks before running any."""
    if row.code_digest is None or row.code_registered_by is None:
        return None
    return CodeGrant(row.code_digest, row.code_registered_by)


def load_version_predictor(platform: Platform, row: t.ModelVersion) -> Predictor:
    """Load a registered version's predictor, digest-verified, never via pickle; a code or
    PyTorch model's code runs only if it is the code registered with RegisterCode."""
    from shipyard.flavors import load_predictor  # model libraries load only when serving

    data = platform.blobs.get_bytes(row.digest)
    signature = ModelSignature.model_validate(row.signature)
    return load_predictor(
        row.flavor,
        data,
        signature,
        expected_digest=row.digest,
        fetch=platform.blobs.get_bytes,
        code=code_grant(row),
    )


def check_version_code(platform: Platform, row: t.ModelVersion) -> None:
    """For a code or PyTorch version: its files are the registered code, without running it
    (the control plane checks a version this way; serving, batch and edge processes load)."""
    from shipyard.flavors import open_bundle

    open_bundle(platform.blobs.get_bytes(row.digest), platform.blobs.get_bytes, code_grant(row))


def model_version_resource(session: Session, ref: str, *, field: str = "ref") -> ResourceName:
    """The concrete version a reference names, as ``sy:model/<name>/<version>`` (also
    ``sy:model/<name>``): aliases and "latest" are resolved first, so a statement about a
    version holds however it is asked for. An unknown reference is named by the model alone."""
    return _resolved_version(session, ref, field)[0]


def _resolved_version(
    session: Session, ref: str, field: str
) -> tuple[ResourceName, t.ModelVersion | None]:
    parsed = parse_reference(ref, field=field)
    try:
        _, row = resolve(session, parsed)
    except NotFound:
        return ResourceName.versioned("model", parsed.name, parsed.version), None
    return ResourceName.versioned("model", parsed.name, row.version), row


def model_version_access(session: Session, ref: str, *, field: str) -> Access:
    """Reading (serving, exporting, scoring with) the version ``ref`` names; its approval
    status is the condition key ``sy:ModelApprovalStatus`` (absent for an unknown version)."""
    name, row = _resolved_version(session, ref, field)
    keys = {"sy:ModelApprovalStatus": row.approval} if row is not None else {}
    return Access("registry:GetModelVersion", name, keys)


def _alias_resource(name: str, alias: str) -> ResourceName:
    return ResourceName(resource("model", name, alias), (resource("model", name),))


def _register_uses(session: Session, name: str, run_id: str) -> list[Access]:
    """Reading the run's artifacts; and, when the run's model carries code, registering code
    (which serving will run) under the model's name."""
    uses = [Access("tracking:GetArtifact", run_resource(session, run_id))]
    if run_model_has_code(session, run_id):
        uses.append(Access("registry:RegisterCode", ResourceName.of(resource("model", name))))
    return uses


@operation(
    "registry:RegisterModel",
    lambda name: resource("model", name),
    uses=_register_uses,
    mutating=True,
)
def register_model(
    ctx: RequestContext, name: str, run_id: str, client_token: str | None = None
) -> ModelVersionInfo:
    """Register the model a run produced as the next version of ``name`` (from 1).

    The model must load as its declared flavor. A code or PyTorch model needs
    ``registry:RegisterCode`` too; the version records its code digest and who registered
    it, and loading refuses any other code. A ``client_token`` makes the call
    idempotent: repeated with the same token (a retry after a lost response), it returns
    the version the first call made instead of making another.
    """
    check_name(name)
    if client_token is not None:
        check_client_token(client_token)
    with ctx.platform.db.session() as session:
        return register_in_session(ctx, session, name, run_id, client_token)


def register_in_session(
    ctx: RequestContext,
    session: Session,
    name: str,
    run_id: str,
    client_token: str | None = None,
) -> ModelVersionInfo:
    """``register_model``'s work in the caller's transaction, for service code that has
    authorized ``ctx`` already (a job that registers with its outcome, atomically)."""
    run = run_row(session, run_id)
    model = session.scalar(sa.select(t.Model).where(t.Model.name == name))
    if model is not None and client_token is not None:
        earlier = _registered_with(session, model, client_token, run_id)
        if earlier is not None:
            return version_info(session, name, earlier)
    if run.status != "finished":
        raise Conflict(f"run {run_id} is {run.status}; only finished runs can be registered")
    checked = check_run_model(ctx.platform, session, run_id)
    metrics = dict(
        session.execute(
            sa.select(t.RunLatestMetric.key, t.RunLatestMetric.value).where(
                t.RunLatestMetric.run_id == run_id
            )
        ).all()
    )
    row, _ = add_version(
        session,
        MODELS,
        name,
        run_id=run_id,
        flavor=checked.flavor,
        digest=checked.digest,
        size_bytes=checked.size_bytes,
        signature=checked.signature,
        metrics=metrics,
        created_by=ctx.principal,
        client_token=client_token,
        code_digest=checked.code_digest,
        code_registered_by=ctx.principal if checked.code_digest else None,
    )
    parent = session.get(t.Model, row.model_id)
    assert parent is not None
    from shipyard.evaluation import gate_registration  # here: evaluation imports the registry

    gate_registration(ctx, session, parent, row)
    return version_info(session, name, row)


def _registered_with(
    session: Session, model: t.Model, client_token: str, run_id: str
) -> t.ModelVersion | None:
    """The version an earlier call with ``client_token`` made; the token may not be reused
    for another run (as with a ClientToken on AWS APIs)."""
    row = session.scalar(
        sa.select(t.ModelVersion).where(
            t.ModelVersion.model_id == model.id, t.ModelVersion.client_token == client_token
        )
    )
    if row is not None and row.run_id != run_id:
        raise Conflict(
            f"client token was used to register run {row.run_id} as {model.name}@{row.version}; "
            "use a new token for another run",
            field="client_token",
        )
    return row


@operation("registry:ListModels", lambda: resource("model"), mutating=False)
def list_models(
    ctx: RequestContext,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
    name_contains: str | None = None,
) -> Page[ModelInfo]:
    """Registered models by name (only those whose name holds ``name_contains``, any case),
    a page at a time, with their latest version and aliases."""
    keyset = Keyset("models", t.Model.name, limit, page_token, name_contains=name_contains)
    with ctx.platform.db.session() as session:
        found, token = keyset.page(
            session.scalars(keyset.apply(sa.select(t.Model))).all(), lambda m: m.name
        )
        items = [_model_info(session, m, detail=False) for m in found]
    return Page[ModelInfo](items=items, next_page_token=token)


def _model_info(session: Session, model: t.Model, *, detail: bool) -> ModelInfo:
    versions = list(
        session.scalars(
            sa.select(t.ModelVersion)
            .where(t.ModelVersion.model_id == model.id)
            .order_by(t.ModelVersion.version)
        )
    )
    by_id = {v.id: v.version for v in versions}
    aliases = {
        a.alias: by_id[a.model_version_id]
        for a in session.scalars(sa.select(t.ModelAlias).where(t.ModelAlias.model_id == model.id))
    }
    return ModelInfo(
        name=model.name,
        created_at=model.created_at,
        latest_version=versions[-1].version if versions else None,
        aliases=aliases,
        versions=[version_info(session, model.name, v) for v in versions] if detail else [],
        four_eyes=model.four_eyes,
    )


def get_model_info(session: Session, model: t.Model) -> ModelInfo:
    """A model's summary: settings, latest version and aliases, without its versions."""
    return _model_info(session, model, detail=False)


@operation("registry:GetModel", lambda name: resource("model", name), mutating=False)
def get_model(ctx: RequestContext, name: str) -> ModelInfo:
    """A model with all its versions and aliases."""
    with ctx.platform.db.session() as session:
        return _model_info(session, _model(session, name), detail=True)


@operation("registry:GetModelVersion", model_version_resource, mutating=False)
def get_model_version(ctx: RequestContext, ref: str) -> ModelVersionInfo:
    """One version by ``name@version``, ``name@alias`` or ``name`` (latest)."""
    with ctx.platform.db.session() as session:
        model, row = resolve(session, parse_reference(ref))
        return version_info(session, model.name, row)


def _check_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise InvalidInput("must be a string", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"is {len(reason)} characters long; at most {MAX_REASON} are kept", field="reason"
        )
    return reason.strip() or None


@operation(
    "registry:UpdateApproval",
    lambda name, version: ResourceName.versioned("model", name, version),
    audit=lambda status, reason=None: {"status": status, "reason": reason},
    mutating=True,
)
def set_approval(
    ctx: RequestContext, name: str, version: int, status: str, reason: str | None = None
) -> ModelVersionInfo:
    """Mark a version PendingManualApproval, Approved or Rejected, with an optional reason.

    Each decision is kept (status, reason, principal, time); the version shows the latest.
    """
    if status not in APPROVALS:
        raise InvalidInput(f"must be one of {', '.join(APPROVALS)}", field="status")
    reason = _check_reason(reason)
    from shipyard.evaluation import gate_approval  # here: evaluation imports the registry

    with ctx.platform.db.session() as session:
        model, row = resolve(session, Reference(name, version=version))
        if status == "Approved" and model.four_eyes:
            _check_four_eyes(session, ctx.principal, model.name, row)
    gate_approval(ctx, name, version, status)
    with ctx.platform.db.session() as session:
        model, row = resolve(session, Reference(name, version=version))
        row.approval = status
        session.add(
            t.ModelApproval(
                model_version_id=row.id, status=status, reason=reason, principal=ctx.principal
            )
        )
        session.flush()
        return version_info(session, model.name, row)


def _check_four_eyes(session: Session, principal: str, name: str, row: t.ModelVersion) -> None:
    """Refuse (403) an approval by whoever registered the version, trained its run or
    registered its code: a model with the four-eyes rule needs a second person."""
    trained_by = session.scalar(sa.select(t.Run.created_by).where(t.Run.id == row.run_id))
    roles = [
        ("registered", row.created_by),
        ("trained", trained_by),
        ("registered the code of", row.code_registered_by),
    ]
    for role, who in roles:
        if who == principal:
            raise AccessDenied(
                f"model {name} requires four eyes: {principal} {role} {name}@{row.version},"
                " so another principal must approve it",
                field="principal",
                principal=principal,
            )


@operation(
    "registry:GetModelVersion",
    lambda name, version: ResourceName.versioned("model", name, version),
    mutating=False,
)
def approval_history(ctx: RequestContext, name: str, version: int) -> list[ApprovalDecision]:
    """Every approval decision on a version, oldest first."""
    with ctx.platform.db.session() as session:
        _, row = resolve(session, Reference(name, version=version))
        decisions = session.scalars(
            sa.select(t.ModelApproval)
            .where(t.ModelApproval.model_version_id == row.id)
            .order_by(t.ModelApproval.id)
        )
        return [
            ApprovalDecision(
                status=d.status,
                reason=d.reason,
                principal=d.principal,
                decided_at=d.decided_at,
            )
            for d in decisions
        ]


@operation(
    "registry:SetAlias",
    _alias_resource,
    uses=lambda name, version: [
        Access("registry:GetModelVersion", ResourceName.versioned("model", name, version))
    ],
    mutating=True,
)
def set_alias(ctx: RequestContext, name: str, alias: str, version: int) -> ModelVersionInfo:
    """Point ``alias`` (e.g. champion) at a version, moving it if it pointed elsewhere."""
    check_alias(alias)
    with ctx.platform.db.session() as session:
        model, row = resolve(session, Reference(name, version=version))
        link = session.get(t.ModelAlias, (model.id, alias))
        if link is None:
            session.add(t.ModelAlias(model_id=model.id, alias=alias, model_version_id=row.id))
        else:
            link.model_version_id = row.id
        session.flush()
        return version_info(session, model.name, row)


@operation("registry:DeleteAlias", _alias_resource, mutating=True)
def delete_alias(ctx: RequestContext, name: str, alias: str) -> ModelInfo:
    with ctx.platform.db.session() as session:
        model = _model(session, name)
        link = session.get(t.ModelAlias, (model.id, alias))
        if link is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}", field="alias")
        session.delete(link)
        session.flush()
        return _model_info(session, model, detail=False)
