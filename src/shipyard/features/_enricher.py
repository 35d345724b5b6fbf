"""Request enrichment for serving: add an endpoint's online features to rows before predicting.

Built once from the endpoint's binding (per serving configuration generation); each call
makes one batched online-store read and never touches the metadata database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput
from shipyard.features._bindings import binding_of, load_endpoint_features
from shipyard.features._keys import KeyType, coerce_key, encode_key, entity_key
from shipyard.features.online import OnlineStore, online_store_url, open_online_store
from shipyard.platform import Platform
from shipyard.schemas.features import EndpointFeatures
from shipyard.serving import NullFeatures, RequestEnricher, StoreLookup


class FeatureEnricher:
    """Fills the model inputs bound to online features from the entity keys in each row.

    Values from the store replace request fields of the same name; entity key fields are
    dropped unless the binding keeps them; unknown entities get None.
    """

    def __init__(self, config: EndpointFeatures, store: OnlineStore) -> None:
        self.config = config
        self._store = store
        self._plans: list[tuple[str, list[tuple[str, str, KeyType]], list[tuple[str, str]]]] = [
            (
                source.view,
                [(k, source.entities.get(k, k), source.key_types[k]) for k in source.keys],
                list(source.features.items()),
            )
            for source in config.sources
        ]
        self.inputs: tuple[str, ...] = tuple(config.inputs)
        self.key_fields: dict[str, str] = {}
        for view, keys, _ in self._plans:
            for _, field, _ in keys:
                self.key_fields.setdefault(field, view)
        self.input_views: dict[str, str] = {
            name: view for view, _, features in self._plans for _, name in features
        }
        self._drop = (
            frozenset() if config.keep_entity_keys else set(self.key_fields) - set(self.inputs)
        )

    @classmethod
    def for_endpoint(cls, platform: Platform, endpoint: str) -> FeatureEnricher | None:
        """The enricher of ``endpoint`` on the configured online store, or None if unbound."""
        config = load_endpoint_features(platform, endpoint)
        if config is None:
            return None
        return cls(config, open_online_store(online_store_url(platform.settings)))

    def _lookup(self, key_rows: Sequence[Mapping[str, Any]]) -> list[list[dict[str, Any] | None]]:
        requests = [
            (view, [entity_key(row, keys, where=f"row {i}") for i, row in enumerate(key_rows)])
            for view, keys, _ in self._plans
        ]
        return [
            [None if r is None else r.values for r in records]
            for records in self._store.read(requests)
        ]

    def enrich(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """New rows with the bound features added (one store read for the whole batch)."""
        if not rows:
            return []
        found = self._lookup(rows)
        result = [{k: v for k, v in row.items() if k not in self._drop} for row in rows]
        for (_, _, features), records in zip(self._plans, found, strict=True):
            for out, values in zip(result, records, strict=True):
                for feature, name in features:
                    out[name] = None if values is None else values.get(feature)
        return result

    def enrich_columns(self, columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        """The columnar variant: ``{field: [values...]}`` in, the same with feature columns."""
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            raise InvalidInput("columns have different lengths", field="columns")
        count = lengths.pop() if lengths else 0
        key_fields = {field for _, keys, _ in self._plans for _, field, _ in keys}
        key_rows = [{f: columns[f][i] for f in key_fields if f in columns} for i in range(count)]
        found = self._lookup(key_rows) if count else [[] for _ in self._plans]
        result = {k: list(v) for k, v in columns.items() if k not in self._drop}
        for (_, _, features), records in zip(self._plans, found, strict=True):
            for feature, name in features:
                result[name] = [None if v is None else v.get(feature) for v in records]
        return result

    def lookup(self, columns: Mapping[str, Sequence[Any]], rows: int) -> StoreLookup:
        """The bound inputs of ``rows`` request rows given as columns, with the nulls found.

        One batched store read; an entity the store lacks gives None for each of its features.
        """
        requests = []
        for view, keys, _ in self._plans:
            for _, field, _ in keys:
                if field not in columns:
                    raise InvalidInput(f"missing entity key column of view {view!r}", field=field)
            requests.append((view, _store_keys(columns, keys, rows)))
        found = self._store.read(requests) if rows else [[] for _ in self._plans]
        result: dict[str, list[Any]] = {}
        nulls: list[NullFeatures] = []
        for (view, keys, features), records in zip(self._plans, found, strict=True):
            for feature, name in features:
                result[name] = [None if r is None else r.values.get(feature) for r in records]
            for row, record in enumerate(records):
                if record is None:
                    empty = tuple(name for _, name in features)
                else:
                    empty = tuple(n for f, n in features if record.values.get(f) is None)
                if empty:
                    entity = ", ".join(f"{k}={columns[field][row]!r}" for k, field, _ in keys)
                    nulls.append(NullFeatures(view, row, entity, empty, absent=record is None))
        return StoreLookup(result, nulls)

    def close(self) -> None:
        self._store.close()


def _store_keys(
    columns: Mapping[str, Sequence[Any]], keys: Sequence[tuple[str, str, KeyType]], rows: int
) -> list[str]:
    """The store key of every row, from the request's key columns (checked and typed)."""
    fields = [(columns[field], field, kind) for _, field, kind in keys]
    encoded = []
    for row in range(rows):
        values: list[int | str] = []
        for column, field, kind in fields:
            value = column[row]
            if value is None:
                raise InvalidInput(f"row {row} has no entity key", field=field)
            values.append(coerce_key(value, kind, field=field))
        encoded.append(encode_key(values))
    return encoded


class EndpointEnrichers:
    """What a serving worker builds its enricher with, from the binding read with its snapshot.

    Every enricher shares one online-store connection per worker, opened on first use and
    closed when the worker stops; an unchanged binding keeps its enricher across reloads.
    """

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._store: OnlineStore | None = None

    def open_local(self) -> None:
        """Open the store now if it is a SQLite file: a serving worker does before it hides the
        home, and the connection it keeps holds the file's WAL in place for its readers."""
        if self._store is None and self.store_url.lower().startswith("sqlite:"):
            self._store = open_online_store(self.store_url)

    def binding(self, session: Session, endpoint: str) -> EndpointFeatures | None:
        return binding_of(session, endpoint)

    def build(
        self, binding: EndpointFeatures | None, current: RequestEnricher | None
    ) -> FeatureEnricher | None:
        if binding is None:
            return None
        if isinstance(current, FeatureEnricher) and _same_binding(current.config, binding):
            return current
        if self._store is None:
            self._store = open_online_store(self.store_url)
        return FeatureEnricher(binding, self._store)

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()


def _same_binding(old: EndpointFeatures, new: EndpointFeatures) -> bool:
    fields = {"sources", "keep_entity_keys"}
    return old.model_dump(include=fields) == new.model_dump(include=fields)
