"""The endpoint service (control plane); the data plane is ``shipyard.serving``."""

from shipyard.endpoints._models import EndpointInfo
from shipyard.endpoints._runtime import build_serving_app
from shipyard.endpoints._service import (
    create_endpoint,
    delete_endpoint,
    endpoint_info,
    find_endpoint,
    get_endpoint,
    list_endpoints,
    update_endpoint,
)

__all__ = [
    "EndpointInfo",
    "build_serving_app",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_info",
    "find_endpoint",
    "get_endpoint",
    "list_endpoints",
    "update_endpoint",
]
