"""The serving runtime (data plane): a lean ASGI app that answers predictions for one endpoint.

The link to the metadata and blob stores (``DatabaseLink``, ``read_captures``) and the
socket link to a serving supervisor (``SocketLink``, ``LinkServer``) load on first use, so
a worker without them starts without SQLAlchemy.
"""

import importlib
from typing import TYPE_CHECKING, Any

from shipyard.serving._app import PREDICT_ROUTES, ServingApp, create_serving_app
from shipyard.serving._auth import (
    DESCRIBE,
    INVOKE,
    PUT_FEEDBACK,
    READ_METRICS,
    RequestAuthorizer,
    endpoint_resource,
)
from shipyard.serving._batcher import BatchingSettings, CostModel, MicroBatcher
from shipyard.serving._capture import capture_schema
from shipyard.serving._config import (
    PRIMARY,
    VARIANT_HEADER,
    CaptureSettings,
    EndpointConfig,
    Variant,
)
from shipyard.serving._control import ControlLink, ControlLoop, WorkerStatus, worker_id
from shipyard.serving._enrich import NullFeatures, RequestEnricher, StoreLookup
from shipyard.serving._features import FeatureBuilder, Features
from shipyard.serving._http import Request, Response
from shipyard.serving._metrics import ServingMetrics
from shipyard.serving._router import Route
from shipyard.serving._runner import is_loopback, serve, uvicorn_config
from shipyard.serving._settings import ServingSettings
from shipyard.serving._shelf import load_shelved, remove_tree, shelve
from shipyard.serving._slot import ModelSlot
from shipyard.serving._snapshot import EndpointSnapshot, VariantSpec, build_config
from shipyard.serving._stats import LATENCY_BUCKETS, WINDOW_SECONDS

if TYPE_CHECKING:
    from shipyard.serving._link import (
        DatabaseLink,
        endpoint_generation,
        read_captures,
        read_snapshot,
    )
    from shipyard.serving._link_server import LinkServer
    from shipyard.serving._snapshot import PredictorLoader
    from shipyard.serving._socket_link import (
        SocketKeySource,
        SocketLimitSource,
        SocketLink,
        SupervisorConnection,
    )

_LAZY = {
    "DatabaseLink": "shipyard.serving._link",
    "endpoint_generation": "shipyard.serving._link",
    "read_captures": "shipyard.serving._link",
    "read_snapshot": "shipyard.serving._link",
    "LinkServer": "shipyard.serving._link_server",
    "PredictorLoader": "shipyard.serving._snapshot",
    "SocketKeySource": "shipyard.serving._socket_link",
    "SocketLimitSource": "shipyard.serving._socket_link",
    "SocketLink": "shipyard.serving._socket_link",
    "SupervisorConnection": "shipyard.serving._socket_link",
}

__all__ = [
    "DESCRIBE",
    "INVOKE",
    "LATENCY_BUCKETS",
    "PREDICT_ROUTES",
    "PRIMARY",
    "PUT_FEEDBACK",
    "READ_METRICS",
    "VARIANT_HEADER",
    "WINDOW_SECONDS",
    "BatchingSettings",
    "CaptureSettings",
    "ControlLink",
    "ControlLoop",
    "CostModel",
    "DatabaseLink",
    "EndpointConfig",
    "EndpointSnapshot",
    "FeatureBuilder",
    "Features",
    "LinkServer",
    "MicroBatcher",
    "ModelSlot",
    "NullFeatures",
    "PredictorLoader",
    "Request",
    "RequestAuthorizer",
    "RequestEnricher",
    "Response",
    "Route",
    "ServingApp",
    "ServingMetrics",
    "ServingSettings",
    "SocketKeySource",
    "SocketLimitSource",
    "SocketLink",
    "StoreLookup",
    "SupervisorConnection",
    "Variant",
    "VariantSpec",
    "WorkerStatus",
    "build_config",
    "capture_schema",
    "create_serving_app",
    "endpoint_generation",
    "endpoint_resource",
    "is_loopback",
    "load_shelved",
    "read_captures",
    "read_snapshot",
    "remove_tree",
    "serve",
    "shelve",
    "uvicorn_config",
    "worker_id",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.serving' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
