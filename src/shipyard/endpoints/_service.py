"""Endpoints: create, describe, repoint and delete real-time services and their variants."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.endpoints._describe import endpoint_info
from shipyard.endpoints._settings import check_batching, check_capture, exposure_keys
from shipyard.endpoints._variants import (
    PRIMARY,
    bump,
    check_approved,
    check_percent,
    check_runtime,
    check_variant_name,
    check_weight,
    find_endpoint,
    lock_endpoint,
    refuse_during_rollout,
    resolve_model,
    serves_model,
    variants_of,
)
from shipyard.errors import Conflict, InvalidInput
from shipyard.names import check_name, parse_reference, resource
from shipyard.registry import model_version_access
from shipyard.schemas.endpoints import (
    BatchingConfig,
    CaptureConfig,
    EndpointInfo,
    ShadowSpec,
    VariantSpec,
)
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.security import (
    Access,
    RequestContext,
    check_tags,
    forget_tags,
    operation,
    request_tag_keys,
    set_resource_tags,
    tag_on_create,
)
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import feature_tables as ft
from shipyard.store.metadata import tables as t

__all__ = [
    "create_endpoint",
    "delete_endpoint",
    "find_endpoint",
    "get_endpoint",
    "list_endpoints",
    "update_endpoint",
]


def _endpoint_resource(name: str) -> str:
    return resource("endpoint", name)


def _served_versions(
    session: Session,
    model: str | None,
    variants: list[VariantSpec] | None,
    shadow: ShadowSpec | None,
) -> list[Access]:
    """Every model version the new endpoint will serve, shadow included."""
    refs = [(model, "model")] if model is not None else []
    refs += [(v.model, f"variants.{i}.model") for i, v in enumerate(variants or [])]
    refs += [(shadow.model, "shadow.model")] if shadow is not None else []
    return [model_version_access(session, ref, field=field) for ref, field in refs]


_TAG_ON_CREATE = tag_on_create("endpoints", "endpoint")


def _create_uses(
    session: Session,
    name: str,
    model: str | None,
    variants: list[VariantSpec] | None,
    shadow: ShadowSpec | None,
    tags: dict[str, str] | None,
) -> list[Access]:
    """The served versions, and tagging the new endpoint when it is created with tags."""
    return [*_served_versions(session, model, variants, shadow), *_TAG_ON_CREATE(name, tags)]


def _check_specs(variants: list[VariantSpec], shadow: ShadowSpec | None) -> None:
    """Names unique and valid, weights non-negative and not all zero; before any lookup."""
    if not variants:
        raise InvalidInput("an endpoint needs at least one variant", field="variants")
    seen: set[str] = set()
    for i, spec in enumerate(variants):
        check_variant_name(spec.name, field=f"variants.{i}.name")
        if spec.name in seen:
            raise InvalidInput(f"variant {spec.name!r} is named twice", field=f"variants.{i}.name")
        seen.add(spec.name)
        check_weight(spec.weight, field=f"variants.{i}.weight")
    if sum(s.weight for s in variants) <= 0:
        raise InvalidInput(
            "weights are all zero; at least one variant needs traffic", field="variants"
        )
    if shadow is not None:
        check_variant_name(shadow.name, field="shadow.name")
        if shadow.name in seen:
            raise InvalidInput(f"variant {shadow.name!r} is named twice", field="shadow.name")
        check_percent(shadow.percent, field="shadow.percent", allow_zero=False)


@operation(
    "endpoints:CreateEndpoint",
    _endpoint_resource,
    uses=_create_uses,
    context=lambda production, capture, tags: (
        exposure_keys(production, capture if capture is not None else {"enabled": False})
        | request_tag_keys(tags)
    ),
    mutating=True,
)
def create_endpoint(
    ctx: RequestContext,
    name: str,
    model: str | None = None,
    variants: list[VariantSpec] | None = None,
    shadow: ShadowSpec | None = None,
    production: bool = False,
    capture: CaptureConfig | None = None,
    batching: BatchingConfig | None = None,
    tags: dict[str, str] | None = None,
) -> EndpointInfo:
    """Create an endpoint serving ``model`` (as variant "primary") or several weighted
    variants; with ``tags`` it needs ``endpoints:TagResource`` too (``sy:RequestTag/<k>``)."""
    check_name(name)
    given = check_tags(tags) if tags else {}
    if (model is None) == (variants is None):
        raise InvalidInput("give either model or variants", field="variants")
    specs = variants if variants is not None else [VariantSpec(name=PRIMARY, model=model or "")]
    _check_specs(specs, shadow)
    capture_doc = check_capture(capture) if capture else {}
    batching_doc = check_batching(batching) if batching else {}
    from shipyard.evaluation import gate_deployment  # here: evaluation imports the registry

    gate_deployment(ctx, [s.model for s in specs])
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Endpoint.id).where(t.Endpoint.name == name)) is not None:
            raise Conflict(f"endpoint {name!r} already exists", field="name")
        field_of = {s.name: f"variants.{i}.model" for i, s in enumerate(specs)}
        if variants is None:
            field_of[PRIMARY] = "model"
        placed: list[tuple[VariantSpec | ShadowSpec, t.ModelVersion]] = []
        everything: list[VariantSpec | ShadowSpec] = [*specs, *([shadow] if shadow else [])]
        for spec in everything:
            field = field_of.get(spec.name, "shadow.model")
            found_model, version = resolve_model(session, spec.model, field=field)
            check_approved(name, production, found_model, version, field=field)
            check_runtime(session, found_model, version, spec.runtime, field=field)
            placed.append((spec, version))
        main_spec, main_version = max(
            placed[: len(specs)], key=lambda p: p[0].weight if isinstance(p[0], VariantSpec) else 0
        )
        row = t.Endpoint(
            name=name,
            model_ref=str(parse_reference(main_spec.model)),
            model_version_id=main_version.id,
            created_by=ctx.principal,
        )
        session.add(row)
        session.flush()
        for spec, version in placed:
            is_shadow = isinstance(spec, ShadowSpec)
            session.add(
                et.EndpointVariant(
                    endpoint_id=row.id,
                    name=spec.name,
                    model_version_id=version.id,
                    weight=0.0 if is_shadow else spec.weight,  # type: ignore[union-attr]
                    role="shadow" if is_shadow else "production",
                    shadow_percent=spec.percent if is_shadow else 0.0,  # type: ignore[union-attr]
                    runtime=spec.runtime,
                )
            )
        session.add(
            et.EndpointState(
                endpoint_id=row.id,
                production=production,
                capture=capture_doc,
                batching=batching_doc,
                bandit={},
            )
        )
        session.flush()
        if given:
            set_resource_tags(session, resource("endpoint", name), given)
        return endpoint_info(session, row)


@operation("endpoints:UpdateEndpoint", _endpoint_resource, uses=serves_model, mutating=True)
def update_endpoint(ctx: RequestContext, name: str, model: str) -> EndpointInfo:
    """Serve only ``model`` from now on (one "primary" variant; a shadow stays), live."""
    ref = parse_reference(model, field="model")
    from shipyard.evaluation import gate_deployment  # here: evaluation imports the registry

    gate_deployment(ctx, [model])
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        state = lock_endpoint(session, row)
        found_model, version = resolve_model(session, model, field="model")
        check_approved(name, state.production, found_model, version, field="model")
        for variant in variants_of(session, row.id):
            if variant.role == "production":
                session.delete(variant)
        session.flush()
        session.add(
            et.EndpointVariant(
                endpoint_id=row.id, name=PRIMARY, model_version_id=version.id, weight=1.0
            )
        )
        bump(session, row, state)
        row.model_ref = str(ref)
        row.model_version_id = version.id
        session.flush()
        return endpoint_info(session, row)


@operation("endpoints:DescribeEndpoint", _endpoint_resource, mutating=False)
def get_endpoint(ctx: RequestContext, name: str) -> EndpointInfo:
    """An endpoint with its variants, weights, generation, settings and serving workers."""
    with ctx.platform.db.session() as session:
        return endpoint_info(session, find_endpoint(session, name))


@operation("endpoints:ListEndpoints", lambda: resource("endpoint"), mutating=False)
def list_endpoints(
    ctx: RequestContext,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
    name_contains: str | None = None,
) -> Page[EndpointInfo]:
    """Endpoints by name (only those whose name holds ``name_contains``, any case), a page
    at a time."""
    keyset = Keyset("endpoints", t.Endpoint.name, limit, page_token, name_contains=name_contains)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(t.Endpoint))).all()
        found, token = keyset.page(rows, lambda e: e.name)
        items = [endpoint_info(session, row) for row in found]
    return Page[EndpointInfo](items=items, next_page_token=token)


@operation("endpoints:DeleteEndpoint", _endpoint_resource, mutating=True)
def delete_endpoint(ctx: RequestContext, name: str) -> EndpointInfo:
    """Delete an endpoint with its variants, stats, feedback, captures list, rollouts and
    online-feature binding (a new endpoint of the same name must not inherit it)."""
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        info = endpoint_info(session, row)
        for table in (
            et.VariantStats,
            et.EndpointInstance,
            et.CaptureFile,
            et.Feedback,
            et.Deployment,
        ):
            session.execute(sa.delete(table).where(table.endpoint == name))
        binding = ft.EndpointFeatureBinding
        session.execute(sa.delete(binding).where(binding.endpoint == name))
        forget_tags(session, resource("endpoint", name))
        session.delete(row)
        info.updated_at = utcnow()
        return info
