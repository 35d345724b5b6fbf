"""Online-feature enrichment on the data plane: request keys in, the model's full input out.

An endpoint bound to online features takes requests with named columns: the
entity keys plus the inputs the store does not provide. The app checks the
columns on the event loop, then one worker thread makes the single batched
online-store read, builds the variant's input and predicts. The rules:

- a key column missing from the request is a 400 naming it;
- a column the store provides may not also be sent (400 naming it): the store is
  the one source of a bound input, so training and serving cannot drift apart;
- an entity the store does not hold gives nulls for its features. A float input
  becomes NaN and the model decides; a model that raises on it, and any integer,
  boolean or string input left null, get a 422 ``MissingFeatures`` naming the
  entity, the view and the input, never a 500.

Data capture records what the model saw (the joined input in signature order), so monitors
compare like with like; entity keys appear there only when they are model inputs too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.errors import InvalidInput, MissingFeatures
from shipyard.serving._features import Features

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shipyard.schemas.features import EndpointFeatures
    from shipyard.serving._slot import ModelSlot


@dataclass(frozen=True)
class NullFeatures:
    """Bound inputs the online store left null for one request row, and why."""

    view: str
    row: int
    entity: str
    inputs: tuple[str, ...]
    absent: bool

    def reason(self) -> str:
        if self.absent:
            return (
                f"entity {self.entity} (row {self.row}) is not in the online store "
                f"of view {self.view!r}"
            )
        return f"view {self.view!r} holds a null value for entity {self.entity} (row {self.row})"


@dataclass(frozen=True)
class StoreLookup:
    """What one batched online-store read gave: a column per bound input, and the nulls."""

    columns: dict[str, list[Any]]
    nulls: list[NullFeatures] = field(default_factory=list)

    def first_null(self, name: str) -> NullFeatures | None:
        return next((n for n in self.nulls if name in n.inputs), None)


class RequestEnricher(Protocol):
    """Looks up an endpoint's bound features; built once per configuration generation."""

    @property
    def key_fields(self) -> Mapping[str, str]:
        """Request field carrying an entity key -> the view it keys."""
        ...

    @property
    def input_views(self) -> Mapping[str, str]:
        """Model input the store fills -> the view it comes from."""
        ...

    def lookup(self, columns: Mapping[str, Sequence[Any]], rows: int) -> StoreLookup:
        """One batched online-store read for every row (blocking I/O: call it off the loop)."""
        ...


class EnricherLoader(Protocol):
    """Builds an endpoint's enricher from its binding (read with the endpoint's snapshot)."""

    def binding(self, session: Session, endpoint: str) -> EndpointFeatures | None:
        """The endpoint's binding, read in the link's reload session; None when unbound."""
        ...

    def build(
        self, binding: EndpointFeatures | None, current: RequestEnricher | None
    ) -> RequestEnricher | None:
        """The enricher for ``binding`` (``current`` when unchanged), None when unbound."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RequestColumns:
    """A request body as named columns; ``text`` when the values are CSV cells."""

    columns: dict[str, list[Any]]
    rows: int
    text: bool = False


@dataclass(frozen=True)
class EnrichedRequest:
    """The request's own columns plus the store's, ready to build any variant's input from."""

    request: RequestColumns
    lookup: StoreLookup

    @property
    def rows(self) -> int:
        return self.request.rows

    def features_for(self, slot: ModelSlot) -> Features:
        """The input of ``slot``'s model, in signature order; store columns it lacks are unused."""
        own, stored = self.request.columns, self.lookup.columns
        builder = slot.features
        for name in builder.names:
            if name in stored and builder.types[name] != "float":
                missing = self.lookup.first_null(name)
                if missing is not None:
                    raise MissingFeatures(
                        f"{missing.reason()}; the model's {builder.types[name]} input "
                        f"{name!r} cannot be null",
                        field=name,
                    )
        text = own.keys() if self.request.text else ()
        return builder.from_named({**own, **stored}, text=text, where="body")

    def explain(self, slot: ModelSlot, exc: Exception) -> MissingFeatures | None:
        """Why the model failed, when a null from the store fed it; None otherwise."""
        for name in slot.features.names:
            missing = self.lookup.first_null(name) if name in self.lookup.columns else None
            if missing is not None:
                detail = f"{type(exc).__name__}: {exc}"[:200]
                return MissingFeatures(
                    f"{missing.reason()}, and the model cannot predict with {name!r} null "
                    f"({detail})",
                    field=name,
                )
        return None


def check_columns(request: RequestColumns, enricher: RequestEnricher, slot: ModelSlot) -> None:
    """Reject before any I/O: store columns sent, key columns missing, unknown columns."""
    names = slot.features.types
    keys = enricher.key_fields
    stored = enricher.input_views
    for name in request.columns:
        view = stored.get(name)
        if view is not None:
            raise InvalidInput(
                f"comes from the online store (view {view!r}); leave it out of the request",
                field=name,
            )
        if name not in names and name not in keys:
            expected = [n for n in slot.features.names if n not in stored]
            raise InvalidInput(
                f"unknown column; send the entity keys {sorted(keys)} and the inputs {expected}",
                field=name,
            )
    for name, view in keys.items():
        if name not in request.columns:
            raise InvalidInput(f"missing entity key column of view {view!r}", field=name)


def enrich(enricher: RequestEnricher, request: RequestColumns) -> EnrichedRequest:
    """The request with its bound features looked up (one online-store read; blocking)."""
    return EnrichedRequest(request, enricher.lookup(request.columns, request.rows))
