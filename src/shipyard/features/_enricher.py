"""Request enrichment for serving: add an endpoint's online features to rows before predicting.

Built once from the endpoint's binding; each call makes one batched online-store read and
never touches the metadata database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.features._bindings import load_endpoint_features
from shipyard.features._keys import KeyType, entity_key
from shipyard.features._models import EndpointFeatures
from shipyard.features.online import OnlineStore, online_store_url, open_online_store
from shipyard.platform import Platform


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
        key_fields = {field for _, keys, _ in self._plans for _, field, _ in keys}
        self._drop = frozenset() if config.keep_entity_keys else key_fields - set(self.inputs)

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

    def close(self) -> None:
        self._store.close()
