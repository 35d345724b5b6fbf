"""The feature store: versioned feature views, point-in-time retrieval, online stores."""

from shipyard.features._bindings import (
    binding_of,
    delete_endpoint_features,
    get_endpoint_features,
    load_endpoint_features,
    put_endpoint_features,
)
from shipyard.features._enricher import EndpointEnrichers, FeatureEnricher
from shipyard.features._online import get_online_features, materialize
from shipyard.features._retrieval import ViewSource, point_in_time_join
from shipyard.features._retrieve import retrieve
from shipyard.features._views import apply_view, get_view, list_views
from shipyard.schemas.feature_spec import FeatureViewSpec, load_views, parse_ttl, parse_views
from shipyard.schemas.features import (
    EndpointFeatures,
    FeatureSource,
    FeatureViewInfo,
    MaterializationInfo,
    OnlineFeatures,
)

__all__ = [
    "EndpointEnrichers",
    "EndpointFeatures",
    "FeatureEnricher",
    "FeatureSource",
    "FeatureViewInfo",
    "FeatureViewSpec",
    "MaterializationInfo",
    "OnlineFeatures",
    "ViewSource",
    "apply_view",
    "binding_of",
    "delete_endpoint_features",
    "get_endpoint_features",
    "get_online_features",
    "get_view",
    "list_views",
    "load_endpoint_features",
    "load_views",
    "materialize",
    "parse_ttl",
    "parse_views",
    "point_in_time_join",
    "put_endpoint_features",
    "retrieve",
]
