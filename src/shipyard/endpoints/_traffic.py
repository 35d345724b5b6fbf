"""Traffic between an endpoint's variants: weights, and adding or removing variants, live."""

from __future__ import annotations

from shipyard.endpoints._describe import endpoint_info
from shipyard.endpoints._variants import (
    bump,
    check_approved,
    check_percent,
    check_runtime,
    check_traffic,
    check_variant_name,
    check_weight,
    find_endpoint,
    lock_endpoint,
    refuse_during_rollout,
    resolve_model,
    serves_model,
    variants_of,
)
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import resource
from shipyard.schemas.endpoints import EndpointInfo, Runtime
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables as et


def _endpoint_resource(name: str) -> str:
    return resource("endpoint", name)


@operation("endpoints:UpdateTraffic", _endpoint_resource, mutating=True)
def set_weights(ctx: RequestContext, name: str, weights: dict[str, float]) -> EndpointInfo:
    """Set production variants' weights (variants not named keep theirs); applied live."""
    if not weights:
        raise InvalidInput("name at least one variant and its weight", field="weights")
    for variant, weight in weights.items():
        check_weight(weight, field=f"weights.{variant}")
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        state = lock_endpoint(session, row)
        variants = variants_of(session, row.id)
        by_name = {v.name: v for v in variants}
        for variant, weight in weights.items():
            target = by_name.get(variant)
            if target is None:
                raise NotFound(
                    f"endpoint {name!r} has no variant {variant!r} "
                    f"(it has {', '.join(sorted(by_name))})",
                    field=f"weights.{variant}",
                )
            if target.role == "shadow":
                raise InvalidInput(
                    f"{variant!r} is a shadow variant: it gets copies of requests "
                    "(shadow_percent), not a weight",
                    field=f"weights.{variant}",
                )
            target.weight = float(weight)
        check_traffic(variants, field="weights")
        bump(session, row, state)
        return endpoint_info(session, row)


@operation("endpoints:UpdateEndpoint", _endpoint_resource, uses=serves_model, mutating=True)
def add_variant(
    ctx: RequestContext,
    name: str,
    variant: str,
    model: str,
    weight: float = 0.0,
    runtime: Runtime = "native",
    shadow_percent: float | None = None,
) -> EndpointInfo:
    """Add a production variant (weight 0: loaded, no traffic yet) or a shadow (shadow_percent)."""
    check_variant_name(variant)
    check_weight(weight, field="weight")
    if shadow_percent is not None:
        check_percent(shadow_percent, field="shadow_percent", allow_zero=False)
        if weight:
            raise InvalidInput("a shadow variant takes no weight", field="weight")
    from shipyard.evaluation import gate_deployment  # here: evaluation imports the registry

    gate_deployment(ctx, [model] if shadow_percent is None else [])
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        state = lock_endpoint(session, row)
        existing = variants_of(session, row.id)
        if any(v.name == variant for v in existing):
            raise Conflict(f"endpoint {name!r} already has a variant {variant!r}", field="variant")
        if shadow_percent is not None and any(v.role == "shadow" for v in existing):
            raise Conflict(
                f"endpoint {name!r} already has a shadow variant; remove it first",
                field="shadow_percent",
            )
        found_model, version = resolve_model(session, model, field="model")
        check_approved(name, state.production, found_model, version, field="model")
        check_runtime(session, found_model, version, runtime, field="runtime")
        added = et.EndpointVariant(
            endpoint_id=row.id,
            name=variant,
            model_version_id=version.id,
            weight=float(weight),
            role="production" if shadow_percent is None else "shadow",
            shadow_percent=shadow_percent or 0.0,
            runtime=runtime,
        )
        session.add(added)
        check_traffic([*existing, added], field="weight")
        bump(session, row, state)
        return endpoint_info(session, row)


@operation("endpoints:UpdateEndpoint", _endpoint_resource, mutating=True)
def remove_variant(ctx: RequestContext, name: str, variant: str) -> EndpointInfo:
    """Remove a variant; the remaining production variants must still carry traffic."""
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        refuse_during_rollout(session, name)
        state = lock_endpoint(session, row)
        variants = variants_of(session, row.id)
        target = next((v for v in variants if v.name == variant), None)
        if target is None:
            raise NotFound(f"endpoint {name!r} has no variant {variant!r}", field="variant")
        rest = [v for v in variants if v is not target]
        if not any(v.role == "production" for v in rest):
            raise Conflict(
                f"{variant!r} is the last production variant; delete the endpoint instead",
                field="variant",
            )
        if sum(v.weight for v in rest if v.role == "production") <= 0:
            raise Conflict(
                f"removing {variant!r} would leave production weights all zero; "
                "set weights on the other variants first",
                field="variant",
            )
        session.delete(target)
        bump(session, row, state)
        return endpoint_info(session, row)
