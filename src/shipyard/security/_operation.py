"""``@operation``: authorize every resource a service call acts on or reads, before it acts.

An operation declares its primary resource (``resource``) and every other resource it
reads or uses (``uses``), each with the action it needs::

    @operation(
        "endpoints:UpdateEndpoint",
        lambda name: resource("endpoint", name),
        uses=lambda session, model: [model_version_access(session, model, field="model")],
        mutating=True,
    )

Both callables take the operation's arguments by name; one that names ``session`` also
gets a read-only metadata session, to resolve aliases and "latest" to the concrete
version before the check. Every declared access must be allowed or nothing happens; each
refusal is audited with the resource refused. The catalog's test battery derives its
cases from these declarations, so an operation cannot forget one of its resources.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from shipyard.errors import AccessDenied, ShipyardError
from shipyard.logs import FILE_ONLY, log_context
from shipyard.platform import Platform
from shipyard.security._audit import record_event
from shipyard.security._context import RequestContext
from shipyard.security._resources import Access, ResourceName

_log = logging.getLogger("shipyard.operations")
P = ParamSpec("P")
R = TypeVar("R")

ResourceFn = Callable[..., "str | ResourceName"]
UsesFn = Callable[..., Iterable[Access]]
KeysFn = Callable[..., Mapping[str, object]]


@functools.cache
def _wanted(fn: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(fn).parameters)


@dataclass(frozen=True)
class OperationInfo:
    """What a service function does and what it touches, for policies, audit and routes."""

    action: str
    mutating: bool
    resource: ResourceFn
    uses: UsesFn | None = None
    audit: Callable[..., dict[str, Any]] | None = None
    context: KeysFn | None = None

    def accesses(self, platform: Platform, arguments: dict[str, Any]) -> list[Access]:
        """Every (action, resource) the call with these arguments needs, the primary first."""
        with self._session(platform) as session:
            return list(self.iter_accesses(session, arguments))

    def _session(self, platform: Platform) -> AbstractContextManager[Session | None]:
        wants = any(
            fn is not None and "session" in _wanted(fn)
            for fn in (self.resource, self.uses, self.context)
        )
        return platform.db.session() if wants else nullcontext()

    def iter_accesses(self, session: Session | None, arguments: dict[str, Any]) -> Iterator[Access]:
        """The primary access, then (only when asked for more) the declared others."""
        yield Access(self.action, ResourceName.of(_call(self.resource, session, arguments)))
        if self.uses is not None:
            yield from _call(self.uses, session, arguments)

    def condition_keys(
        self, ctx: RequestContext, session: Session | None, arguments: dict[str, Any]
    ) -> dict[str, object]:
        """The keys this call adds for conditions; computed only when a policy has one."""
        if self.context is None or not ctx.conditional:
            return {}
        return dict(_call(self.context, session, arguments))

    def authorize(self, ctx: RequestContext, arguments: dict[str, Any]) -> list[Access]:
        """Check every access in order; the primary is checked before the others are resolved."""
        checked = []
        with self._session(ctx.platform) as session:
            keys = self.condition_keys(ctx, session, arguments)
            for access in self.iter_accesses(session, arguments):
                ctx.authorize(access.action, access.resource, keys | dict(access.context))
                checked.append(access)
        return checked

    def authorize_primary(self, ctx: RequestContext, arguments: dict[str, Any]) -> None:
        """Check the primary action on the primary resource from path and query arguments.

        For deciding before a request body is read; the full check still runs on the call.
        """
        if self.context is not None and ctx.conditional:
            return  # its condition keys come from the body: the full check decides
        with self._session(ctx.platform) as session:
            primary = next(self.iter_accesses(session, arguments))
        ctx.authorize(primary.action, primary.resource, dict(primary.context))


def _call(fn: Callable[..., Any], session: Session | None, arguments: dict[str, Any]) -> Any:
    wanted = _wanted(fn)
    given = {k: v for k, v in arguments.items() if k in wanted}
    if "session" in wanted:
        given["session"] = session
    return fn(**given)


def operation(
    action: str,
    resource: ResourceFn,
    *,
    mutating: bool,
    uses: UsesFn | None = None,
    audit: Callable[..., dict[str, Any]] | None = None,
    context: KeysFn | None = None,
) -> Callable[
    [Callable[Concatenate[RequestContext, P], R]], Callable[Concatenate[RequestContext, P], R]
]:
    """Mark a service function: check ``action`` on ``resource`` and every ``uses`` access.

    Mutating calls are audited with their outcome and every resource they touched, plus
    what ``audit`` (taking the arguments by name) picks of the request, e.g. a reason;
    denials are audited by the check itself. ``context`` (arguments by name, ``session``
    if named) gives the condition keys the call adds, e.g. ``sy:MaxRuntime`` of a job.
    """

    def decorate(
        fn: Callable[Concatenate[RequestContext, P], R],
    ) -> Callable[Concatenate[RequestContext, P], R]:
        signature = inspect.signature(fn)
        info = OperationInfo(action, mutating, resource, uses, audit, context)

        @functools.wraps(fn)
        def wrapper(ctx: RequestContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(ctx, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.pop("ctx", None)
            with log_context(request_id=ctx.request_id, principal=ctx.principal):
                try:
                    accesses = info.authorize(ctx, arguments)
                except AccessDenied as denied:
                    _log.warning("%s refused: %s", action, denied, extra=FILE_ONLY)
                    raise
                target = accesses[0].resource.name
                with log_context(resource=target):
                    noted = _call(info.audit, None, arguments) if info.audit else {}
                    return _run(fn, ctx, info, accesses, noted, args, kwargs)

        wrapper.__shipyard_operation__ = info  # type: ignore[attr-defined]
        return wrapper

    return decorate


_CHECKED: ContextVar[tuple[Access, ...]] = ContextVar("shipyard_checked", default=())


def checked_resources(action: str) -> frozenset[str]:
    """The resources the running operation was authorized to ``action`` on (its primary
    and its ``uses``), for a service that chooses what it acts on twice, once to declare it
    and once to act: it acts only on what was checked, whatever changed in between."""
    return frozenset(a.resource.name for a in _CHECKED.get() if a.action == action)


def _run(
    fn: Callable[..., R],
    ctx: RequestContext,
    info: OperationInfo,
    accesses: list[Access],
    noted: dict[str, Any],
    args: Any,
    kwargs: Any,
) -> R:
    """Call the service function; audit a mutating call, log its outcome."""
    action, target = info.action, accesses[0].resource.name
    level = logging.INFO if info.mutating else logging.DEBUG
    checked = _CHECKED.set(tuple(accesses))
    try:
        result = fn(ctx, *args, **kwargs)
    except ShipyardError as error:
        if info.mutating and not isinstance(error, AccessDenied):
            detail = {"error": str(error)} | noted | _touched(accesses)
            _audit(ctx, action, target, "failed", detail)
        _log.log(
            max(level, logging.INFO),
            "%s on %s failed: %s",
            action,
            target,
            error,
            extra=FILE_ONLY,
        )
        raise
    except Exception:
        _log.exception("%s on %s failed unexpectedly", action, target, extra=FILE_ONLY)
        raise
    finally:
        _CHECKED.reset(checked)
    if info.mutating:
        _audit(ctx, action, target, "succeeded", _describe(result) | noted | _touched(accesses))
    _log.log(level, "%s on %s by %s", action, target, ctx.principal, extra=FILE_ONLY)
    return result


def _touched(accesses: Sequence[Access]) -> dict[str, Any]:
    others = [f"{a.action} {a.resource.name}" for a in accesses[1:]]
    return {"uses": others} if others else {}


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
    """The result's resource name, and what its ``audit_detail()`` adds (counts, ids)."""
    resource_name = getattr(result, "resource", None)
    described = {"result": resource_name} if isinstance(resource_name, str) else {}
    detail = getattr(result, "audit_detail", None)
    return described | dict(detail()) if callable(detail) else described
