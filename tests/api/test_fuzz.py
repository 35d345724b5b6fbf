"""Generated fuzzing of both apps: no input reaches a 5xx, and every control-plane answer
matches the OpenAPI document.

- The control plane is fuzzed with schemathesis from its own ``/api/v1/openapi.json``
  (schema-conforming and schema-violating requests), against a live server whose
  world holds a dataset, a registered model with an alias, a run and an endpoint,
  so requests reach past "not found".
- The in-process transport is fuzzed with hypothesis over every operation's parameter
  types, unbounded (huge integers, NaN, NUL, newlines, wrong types).
- The data plane (a served endpoint) is fuzzed with hostile invocation, V2 inference,
  feedback and metadata requests.

The budget is fixed and derandomized (the same examples every run), so the suite is
reproducible and bounded; each test works in a platform of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.api.fuzzkit import arguments, budget, data_plane_requests
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import (
    admin_token,
    booster,
    embedded,
    register,
    serving,
    signature,
)

from shipyard.api import create_app
from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.client import Client
from shipyard.errors import ShipyardError, http_status
from shipyard.operations import OPERATIONS, Operation
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODEL = "bc-model"
ENDPOINT = "fuzz-ep"
DATASET = "bc"
# Operations that start real work (a conversion, a training or batch job, a rollout) when
# their arguments are valid: fuzzed over REST, but never pointed at the seeded world.
HEAVY = {
    "edge.export",
    "training.create_job",
    "training.run_code",
    "batch.create_job",
    "deployments.create",
}
# Operations that delete or rewrite what they name: fuzzed too, but never at the seeded
# world, which the operations after them still need.
DESTRUCTIVE = {
    "datasets.delete",
    "datasets.erase",
    "registry.delete_version",
    "tracking.purge_runs",
}


class World:
    """A fresh platform with one of each thing the operations name, served on 127.0.0.1."""

    def __init__(self, platform: Platform, tmp_path: Path) -> None:
        from shipyard.endpoints import create_endpoint
        from shipyard.registry import set_alias

        self.platform = platform
        register(platform, booster(3))
        admin = context_for(platform, "admin")
        set_alias(admin, MODEL, "champion", 1)
        create_endpoint(admin, ENDPOINT, model=f"{MODEL}@1")
        with Client(settings=platform.settings) as local:
            local.datasets.ingest(write_breast_cancer_csv(tmp_path / "bc.csv"), DATASET)
            self.run_id = local.models.version(f"{MODEL}@1").run_id

    @property
    def names(self) -> list[str]:
        return [MODEL, ENDPOINT, DATASET, f"{MODEL}@1", f"{MODEL}@champion", self.run_id]

    def path_parameters(self, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """Path parameter sets that name existing things (one per kind of ``name``)."""
        known: dict[str, list[Any]] = {
            "name": [DATASET, MODEL, ENDPOINT],
            "dataset": [DATASET],
            "ref": [f"{MODEL}@1", f"{MODEL}@champion"],
            "run_id": [self.run_id],
            "endpoint": [ENDPOINT],
            "version": [1],
            "alias": ["champion"],
            "variant": ["primary"],
        }
        if not names or not all(n in known for n in names):
            return []
        width = max(len(known[n]) for n in names)
        return [{n: known[n][i % len(known[n])] for n in names} for i in range(width)]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with embedded(tmp_path) as platform:
        yield World(platform, tmp_path)


@pytest.fixture
def world_on_each_backend(platform: Platform, tmp_path: Path) -> World:
    """The same world on SQLite and on PostgreSQL (the conftest ``platform``)."""
    return World(platform, tmp_path)


def test_control_plane_answers_every_request_within_its_schema(world: World) -> None:
    live = LiveServer(create_app(world.platform))
    headers = {"Authorization": f"Bearer {admin_token(world.platform)}"}
    failures: dict[str, str] = {}
    try:
        # the app builds its OpenAPI document of 200-odd operations on this first request:
        # seconds on a loaded machine, past schemathesis's default 10 s read timeout
        schema = schemathesis.openapi.from_url(
            f"{live.url}/api/v1/openapi.json", headers=headers, timeout=300
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == len(OPERATIONS)
        catalog = {(o.method, o.path): o.name for o in OPERATIONS}
        for op in operations:
            names = tuple(p.name for p in op.path_parameters)
            heavy = catalog[(op.method.upper(), op.path)] in HEAVY | DESTRUCTIVE
            seeded = [] if heavy else world.path_parameters(names)
            for mode, examples in ((GenerationMode.POSITIVE, 8), (GenerationMode.NEGATIVE, 3)):
                strategy = st.one_of(
                    op.as_strategy(generation_mode=mode),
                    *(op.as_strategy(generation_mode=mode, path_parameters=p) for p in seeded),
                )

                @budget(examples)
                @given(case=strategy)
                def call(case: Any) -> None:
                    case.call_and_validate(headers=headers, checks=CHECKS)

                try:
                    call()
                except (Exception, BaseExceptionGroup) as failure:  # collect, then report
                    failures.setdefault(op.label, str(failure)[:3000])
    finally:
        live.close()
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_in_process_operations_refuse_bad_arguments_with_4xx(world_on_each_backend: World) -> None:
    world = world_on_each_backend
    ctx = context_for(world.platform, "admin")
    failures: dict[str, str] = {}
    for op in OPERATIONS:
        if op.name in HEAVY:
            continue
        try:
            _fuzz_invoke(op, ctx, world.names)
        except (Exception, BaseExceptionGroup) as failure:
            failures.setdefault(op.name, f"{type(failure).__name__}: {str(failure)[:3000]}")
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())


def test_data_plane_never_answers_5xx(world: World) -> None:
    with serving(world.platform, ENDPOINT) as served, served.client() as http:
        anonymous = httpx.Client(base_url=served.url, timeout=30)

        @budget(300)
        @given(request=data_plane_requests(ENDPOINT, signature().input_names))
        def call(request: tuple[str, str, bytes, str]) -> None:
            method, path, body, content_type = request
            headers = {"content-type": content_type} if content_type else {}
            response = http.request(method, path, content=body, headers=headers)
            assert response.status_code < 500, (request, response.status_code, response.text)

        try:
            call()
            assert anonymous.post("/invocations", json={"instances": [[1.0]]}).status_code == 401
        finally:
            anonymous.close()


def _fuzz_invoke(op: Operation, ctx: RequestContext, names: list[str]) -> None:
    @budget(20)
    @given(args=arguments(op, names))
    def call(args: dict[str, Any]) -> None:
        try:
            op.invoke(ctx, args)
        except ShipyardError as error:
            assert http_status(error) < 500, f"{op.name}({args!r}) -> {error!r}"

    call()
