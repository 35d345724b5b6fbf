"""The REST control plane's own behaviour: schema, error shapes, limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer

from shipyard.api import create_app
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none


@pytest.fixture
def http(api_server: LiveServer, admin_key: str) -> Any:
    with httpx.Client(
        base_url=api_server.url, headers={"Authorization": f"Bearer {admin_key}"}
    ) as c:
        yield c


def test_openapi_schema_lists_every_operation(http: httpx.Client) -> None:
    schema = http.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    ingest = schema["paths"]["/api/v1/datasets/{name}/versions"]["post"]
    assert ingest["x-shipyard-action"] == "datasets:Ingest"
    assert "bearer" in schema["components"]["securitySchemes"]
    assert httpx.get(str(http.base_url) + "/api/v1/openapi.json").status_code == 401


def test_errors_have_one_shape_and_name_the_field(http: httpx.Client) -> None:
    missing = http.get("/api/v1/datasets/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "type": "NotFound",
            "message": "dataset 'nope' does not exist",
            "field": "dataset",
        }
    }
    malformed = http.post("/api/v1/principals", content=b"{not json")
    assert malformed.status_code == 400
    assert malformed.json()["error"]["field"] == "body"
    missing_field = http.post("/api/v1/principals", json={"kind": "user"})
    assert missing_field.status_code == 400
    assert missing_field.json()["error"]["field"] == "name"
    unknown = http.get("/api/v1/datasets", params={"colour": "red"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["field"] == "colour"
    assert http.get("/api/v1/nothing-here").status_code == 404
    assert http.put("/api/v1/datasets").status_code == 405
    bad_type = http.get("/api/v1/audit", params={"limit": "many"})
    assert bad_type.status_code == 400
    assert bad_type.json()["error"]["field"] == "limit"


def test_uploads_over_the_limit_get_413_and_store_nothing(tmp_path: Any, metadata_url: str) -> None:
    settings = Settings(home=tmp_path / "small", database_url=metadata_url, max_upload_bytes=1000)
    platform = Platform.open(settings)
    bootstrap(platform)
    key = issue_admin_key_if_none(platform)
    assert key is not None
    live = LiveServer(create_app(platform))
    try:
        body = b"a,b\n" + b"1,2\n" * 1000
        response = httpx.post(
            f"{live.url}/api/v1/datasets/big/versions",
            params={"filename": "big.csv"},
            content=body,
            headers={"Authorization": f"Bearer {key.token}"},
        )
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "PayloadTooLarge"
        listing = httpx.get(
            f"{live.url}/api/v1/datasets", headers={"Authorization": f"Bearer {key.token}"}
        )
        assert listing.json()["items"] == []
    finally:
        live.close()
        platform.close()
