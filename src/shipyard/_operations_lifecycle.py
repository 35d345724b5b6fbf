"""The catalog's entries for data lifecycle: deleting and erasing dataset data, and the
retention rules that delete by schedule (``operations.py`` holds the rest and the whole
catalog, where these stand in their place among the datasets' routes)."""

from __future__ import annotations

from shipyard._operation import Operation

_V1 = "/api/v1"

LIFECYCLE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "datasets.delete",
        "DELETE",
        f"{_V1}/datasets/{{name}}",
        "shipyard.datasets:delete",
    ),
    Operation(
        "datasets.erase",
        "POST",
        f"{_V1}/datasets/{{name}}/erasures",
        "shipyard.datasets:erase",
        201,
    ),
    Operation(
        "datasets.list_erasures",
        "GET",
        f"{_V1}/datasets/{{name}}/erasures",
        "shipyard.datasets:list_erasures",
    ),
    # retention
    Operation(
        "retention.put_rule",
        "PUT",
        f"{_V1}/retention/{{kind}}/{{target}}",
        "shipyard.retention:put_rule",
    ),
    Operation("retention.list_rules", "GET", f"{_V1}/retention", "shipyard.retention:list_rules"),
    Operation(
        "retention.delete_rule",
        "DELETE",
        f"{_V1}/retention/{{kind}}/{{target}}",
        "shipyard.retention:delete_rule",
    ),
    Operation("retention.apply", "POST", f"{_V1}/retention/apply", "shipyard.retention:apply"),
)
