"""The serving runtime (data plane): a lean ASGI app that answers predictions for one endpoint."""

from shipyard.serving._app import ServingApp, create_serving_app
from shipyard.serving._auth import (
    DESCRIBE,
    INVOKE,
    READ_METRICS,
    RequestAuthorizer,
    endpoint_resource,
)
from shipyard.serving._features import FeatureBuilder, Features
from shipyard.serving._http import Request, Response
from shipyard.serving._metrics import LATENCY_BUCKETS, ServingMetrics
from shipyard.serving._router import Route
from shipyard.serving._runner import is_loopback, serve, uvicorn_config
from shipyard.serving._settings import ServingSettings
from shipyard.serving._slot import ModelSlot

__all__ = [
    "DESCRIBE",
    "INVOKE",
    "LATENCY_BUCKETS",
    "READ_METRICS",
    "FeatureBuilder",
    "Features",
    "ModelSlot",
    "Request",
    "RequestAuthorizer",
    "Response",
    "Route",
    "ServingApp",
    "ServingMetrics",
    "ServingSettings",
    "create_serving_app",
    "endpoint_resource",
    "is_loopback",
    "serve",
    "uvicorn_config",
]
