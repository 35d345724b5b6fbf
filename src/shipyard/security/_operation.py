"""``@operation``: authorize a service call at one point before it acts, and audit it."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from shipyard.errors import AccessDenied, ShipyardError
from shipyard.security._audit import record_event
from shipyard.security._context import RequestContext

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class OperationInfo:
    """What a service function does, for policies, the audit log and route checks."""

    action: str
    mutating: bool


def operation(
    action: str, resource: Callable[..., str], *, mutating: bool
) -> Callable[
    [Callable[Concatenate[RequestContext, P], R]], Callable[Concatenate[RequestContext, P], R]
]:
    """Mark a service function: check ``action`` on ``resource(**arguments)`` before it runs.

    Mutating calls are audited with their outcome; denials are audited by the check itself.
    """

    def decorate(
        fn: Callable[Concatenate[RequestContext, P], R],
    ) -> Callable[Concatenate[RequestContext, P], R]:
        signature = inspect.signature(fn)
        wanted = set(inspect.signature(resource).parameters)

        @functools.wraps(fn)
        def wrapper(ctx: RequestContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(ctx, *args, **kwargs)
            bound.apply_defaults()
            target = resource(**{k: v for k, v in bound.arguments.items() if k in wanted})
            ctx.authorize(action, target)
            try:
                result = fn(ctx, *args, **kwargs)
            except ShipyardError as error:
                if mutating and not isinstance(error, AccessDenied):
                    _audit(ctx, action, target, "failed", {"error": str(error)})
                raise
            if mutating:
                _audit(ctx, action, target, "succeeded", _describe(result))
            return result

        wrapper.__shipyard_operation__ = OperationInfo(action, mutating)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _audit(
    ctx: RequestContext, action: str, resource: str, outcome: str, detail: dict[str, Any]
) -> None:
    record_event(
        ctx.platform.db,
        principal=ctx.principal,
        action=action,
        resource=resource,
        outcome=outcome,
        request_id=ctx.request_id,
        detail=detail,
    )


def _describe(result: object) -> dict[str, Any]:
    resource_name = getattr(result, "resource", None)
    return {"result": resource_name} if isinstance(resource_name, str) else {}
