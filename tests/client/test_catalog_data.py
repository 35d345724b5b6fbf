"""The catalog as plain data agrees with the service functions it names.

The HTTP transport places arguments from the catalog's data alone (path, method, raw body),
without the handler's signature; the REST app reads them by the signature. These checks
keep the two in step for every operation.
"""

from __future__ import annotations

import json

import pytest

from shipyard.client import HttpTransport
from shipyard.operations import OPERATIONS, Operation


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_the_http_transport_puts_each_argument_where_the_server_reads_it(op: Operation) -> None:
    arguments = {name: f"value-of-{name}" for name in op.params}
    path, options = HttpTransport._request(op, arguments)
    assert "{" not in path
    assert all(f"value-of-{name}" in path for name in op.path_params)
    assert set(options["params"]) == set(op.query_params)
    if op.raw_body:
        assert options["content"] == f"value-of-{op.raw_body}"
    elif op.body_params:
        assert set(json.loads(options["content"])) == set(op.body_params)
    else:
        assert "content" not in options


def test_a_query_leaves_out_unset_arguments_and_keeps_lists() -> None:
    op = next(o for o in OPERATIONS if o.name == "datasets.read")
    path, options = HttpTransport._request(
        op, {"name": "sales@2", "columns": ["a", "b"], "filter": None, "version": 3}
    )
    assert path == "/api/v1/datasets/sales%402/data"
    assert options["params"] == {"columns": ["a", "b"], "version": 3}


def test_every_handler_binds_and_its_result_kind_matches_the_catalog() -> None:
    for op in OPERATIONS:
        assert callable(op.handler), op.name  # binding checks streams_table against it
        assert op.info.action
    assert [op.name for op in OPERATIONS if op.streams_table] == ["datasets.read"]
