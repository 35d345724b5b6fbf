"""The feature store in the SDK: views, point-in-time training sets, online features, bindings."""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from shipyard.client._group import _Group, read_file
from shipyard.errors import InvalidInput
from shipyard.names import check_name, parse_reference
from shipyard.schemas.datasets import DatasetVersionInfo
from shipyard.schemas.feature_spec import FeatureViewSpec, load_views, parse_views
from shipyard.schemas.features import (
    EndpointFeatures,
    FeatureSource,
    FeatureViewInfo,
    MaterializationInfo,
    OnlineFeatures,
)

if TYPE_CHECKING:
    import pyarrow as pa

EntityTable: TypeAlias = "str | os.PathLike[str] | pa.Table | Any"


class Features(_Group):
    def apply(
        self, views: str | os.PathLike[str] | Sequence[FeatureViewSpec | Mapping[str, Any]]
    ) -> builtins.list[FeatureViewInfo]:
        """Apply a YAML file of views (or specs): all are checked first, then stored."""
        if isinstance(views, str | os.PathLike):
            specs = load_views(Path(views))
        else:
            specs = parse_views(
                [v.model_dump() if isinstance(v, FeatureViewSpec) else dict(v) for v in views]
            )
        for spec in specs:
            self._apply(spec, dry_run=True)
        return [self._apply(spec, dry_run=False) for spec in specs]

    def _apply(self, spec: FeatureViewSpec, *, dry_run: bool) -> FeatureViewInfo:
        return FeatureViewInfo.model_validate(
            self._t.call(
                "features.apply_view",
                name=spec.name,
                spec=spec.model_dump(mode="json"),
                dry_run=dry_run,
            )
        )

    def list(self) -> builtins.list[FeatureViewInfo]:
        return [FeatureViewInfo.model_validate(v) for v in self._t.call("features.list_views")]

    def get(self, ref: str) -> FeatureViewInfo:
        """A view by ``name`` (latest) or ``name@version``."""
        parsed = parse_reference(ref, field="view")
        return FeatureViewInfo.model_validate(
            self._t.call("features.get_view", name=parsed.name, version=parsed.version)
        )

    def materialize(
        self,
        view: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        incremental: bool = False,
    ) -> MaterializationInfo:
        """Load the latest values in ``[start, end)`` (or since the last run) online."""
        return MaterializationInfo.model_validate(
            self._t.call(
                "features.materialize", name=view, start=start, end=end, incremental=incremental
            )
        )

    def get_historical_features(
        self,
        entities: EntityTable,
        features: Sequence[str],
        output: str,
        *,
        timestamp_column: str | None = None,
        full_feature_names: bool = True,
    ) -> DatasetVersionInfo:
        """Point-in-time features for each entity row, stored as a new version of ``output``.

        ``entities`` is a dataset reference (``name`` or ``name@3``), a local CSV/Parquet file,
        an Arrow table or a pandas DataFrame; local data is first stored as dataset
        ``<output>-entities`` so the training set's rows are versioned too.
        """
        check_name(output, field="output")
        reference = self._entity_reference(entities, output)
        return DatasetVersionInfo.model_validate(
            self._t.call(
                "features.retrieve",
                output=output,
                features=builtins.list(features),
                entities=reference,
                timestamp_column=timestamp_column,
                full_feature_names=full_feature_names,
            )
        )

    def _entity_reference(self, entities: EntityTable, output: str) -> str:
        if isinstance(entities, str) and not Path(entities).is_file():
            return entities
        if isinstance(entities, str | os.PathLike):
            content, filename = read_file(entities), Path(entities).name
        else:
            import pyarrow as pa

            from shipyard.data._parquet import write_parquet_bytes

            table = entities if isinstance(entities, pa.Table) else _from_pandas(entities)
            content, filename = write_parquet_bytes(table), "entities.parquet"
        stored = DatasetVersionInfo.model_validate(
            self._t.call(
                "datasets.ingest", name=f"{output}-entities", content=content, filename=filename
            )
        )
        return stored.ref

    def get_online_features(
        self,
        features: Sequence[str],
        entities: Sequence[Mapping[str, Any]],
        *,
        full_feature_names: bool = True,
    ) -> OnlineFeatures:
        """The online values of ``features`` (``view`` or ``view:feature``) per entity."""
        return OnlineFeatures.model_validate(
            self._t.call(
                "features.get_online",
                features=builtins.list(features),
                entities=[dict(e) for e in entities],
                full_feature_names=full_feature_names,
            )
        )

    def bind_endpoint(
        self,
        endpoint: str,
        sources: Sequence[FeatureSource | Mapping[str, Any]],
        *,
        keep_entity_keys: bool = False,
    ) -> EndpointFeatures:
        """Make ``endpoint`` add these views' online features to its requests."""
        return EndpointFeatures.model_validate(
            self._t.call(
                "features.put_endpoint_features",
                endpoint=endpoint,
                sources=[
                    s.model_dump() if isinstance(s, FeatureSource) else dict(s) for s in sources
                ],
                keep_entity_keys=keep_entity_keys,
            )
        )

    def endpoint_binding(self, endpoint: str) -> EndpointFeatures:
        return EndpointFeatures.model_validate(
            self._t.call("features.get_endpoint_features", endpoint=endpoint)
        )

    def unbind_endpoint(self, endpoint: str) -> EndpointFeatures:
        return EndpointFeatures.model_validate(
            self._t.call("features.delete_endpoint_features", endpoint=endpoint)
        )


def _from_pandas(frame: Any) -> pa.Table:
    import pyarrow as pa

    if not hasattr(frame, "to_parquet"):
        raise InvalidInput(
            "entities must be a dataset reference, a file, an Arrow table or a DataFrame",
            field="entities",
        )
    return pa.Table.from_pandas(frame, preserve_index=False)
