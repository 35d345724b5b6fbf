"""The six named resources with numbered versions, as ``VersionedKind`` descriptions."""

from __future__ import annotations

from shipyard.store.metadata import _tables as t
from shipyard.store.metadata import _tables_contracts as ct
from shipyard.store.metadata import _tables_features as ft
from shipyard.store.metadata import _tables_streams as st
from shipyard.store.metadata import _tables_transforms as tt
from shipyard.store.metadata._versioned import VersionedKind

DATASETS = VersionedKind(
    "dataset", t.Dataset, t.DatasetVersion, "dataset_id", digest="digest", reuse="any"
)
CONTRACTS = VersionedKind(
    "contract", ct.DataContract, ct.DataContractVersion, "contract_id", digest="digest"
)
TRANSFORMS = VersionedKind(
    "transform", tt.Transform, tt.TransformVersion, "transform_id", digest="spec_digest"
)
STREAMS = VersionedKind("stream", st.Stream, st.StreamVersion, "stream_id", digest="digest")
FEATURE_VIEWS = VersionedKind(
    "feature view", ft.FeatureView, ft.FeatureViewVersion, "view_id", digest="digest"
)
MODELS = VersionedKind("model", t.Model, t.ModelVersion, "model_id")
