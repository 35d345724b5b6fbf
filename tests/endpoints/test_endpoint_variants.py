"""Endpoint variants through the SDK (in-process and HTTP, SQLite and PostgreSQL).

Weights, shadows, settings and approval gating; bad input gets a clear error
naming the field and leaves the stored endpoint as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.endpoints.endpointkit import MODEL, register_versions

from shipyard.client import Client, LocalTransport
from shipyard.endpoints import EndpointInfo
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import context_for


def _state(info: EndpointInfo) -> tuple[Any, ...]:
    return (
        info.generation,
        info.production,
        sorted(
            (v.name, v.model_version, v.weight, v.role, v.shadow_percent) for v in info.variants
        ),
        info.capture,
        info.batching,
    )


def test_variants_weights_and_shadow(client: Client, platform: Platform) -> None:
    register_versions(platform, 3)
    created = client.endpoints.create(
        "bc",
        variants=[
            {"name": "primary", "model": f"{MODEL}@1", "weight": 90},
            {"name": "challenger", "model": f"{MODEL}@2", "weight": 10},
        ],
        shadow={"name": "shadow", "model": f"{MODEL}@3", "percent": 20},
    )
    assert created.generation == 1
    assert (created.model, created.model_version) == (MODEL, 1)
    assert created.weights == {"primary": 90, "challenger": 10}
    assert created.variant("challenger").traffic_percent == pytest.approx(10)
    shadow = created.variant("shadow")
    assert (shadow.role, shadow.shadow_percent, shadow.traffic_percent) == ("shadow", 20, 0)

    moved = client.endpoints.set_weights("bc", {"primary": 1, "challenger": 3})
    assert moved.generation == 2
    assert moved.variant("challenger").traffic_percent == pytest.approx(75)
    assert (moved.model, moved.model_version) == (MODEL, 2)  # the variant with most traffic

    removed = client.endpoints.remove_variant("bc", "shadow")
    assert [v.name for v in removed.variants] == ["challenger", "primary"]
    assert removed.generation == 3
    added = client.endpoints.add_variant("bc", "shadow2", f"{MODEL}@3", shadow_percent=5)
    assert added.variant("shadow2").role == "shadow"
    assert added.generation == 4
    assert [e.name for e in client.endpoints.list()] == ["bc"]


def test_create_with_model_makes_a_primary_variant(client: Client, platform: Platform) -> None:
    register_versions(platform, 2)
    e = client.endpoints.create("bc", f"{MODEL}@1")
    assert [(v.name, v.weight, v.traffic_percent) for v in e.variants] == [("primary", 1, 100)]
    updated = client.endpoints.update("bc", f"{MODEL}@2")
    assert [(v.name, v.model_version) for v in updated.variants] == [("primary", 2)]
    assert (updated.model_ref, updated.generation) == (f"{MODEL}@2", 2)


def test_bad_weights_name_the_field_and_change_nothing(client: Client, platform: Platform) -> None:
    register_versions(platform, 3)
    client.endpoints.create("bc", f"{MODEL}@1")
    client.endpoints.add_variant("bc", "challenger", f"{MODEL}@2")
    client.endpoints.add_variant("bc", "shadow", f"{MODEL}@3", shadow_percent=10)
    before = _state(client.endpoints.get("bc"))
    cases: list[tuple[dict[str, float], type[Exception], str]] = [
        ({"challenger": -5}, InvalidInput, "weights.challenger"),
        ({"primary": 0}, InvalidInput, "weights"),
        ({"primary": 0, "challenger": 0}, InvalidInput, "weights"),
        ({"nope": 3}, NotFound, "weights.nope"),
        ({"shadow": 3}, InvalidInput, "weights.shadow"),
        ({}, InvalidInput, "weights"),
    ]
    for weights, error, field in cases:
        with pytest.raises(error) as caught:
            client.endpoints.set_weights("bc", weights)
        assert caught.value.field == field, (weights, caught.value)
    with pytest.raises(InvalidInput) as nan:
        client.endpoints.set_weights("bc", {"primary": float("inf")})
    assert nan.value.field is not None and nan.value.field.startswith("weights")
    with pytest.raises(NotFound) as missing:
        client.endpoints.set_weights("nosuch", {"primary": 1})
    assert missing.value.field == "endpoint"
    assert _state(client.endpoints.get("bc")) == before


def test_bad_variants_on_create_leave_nothing(client: Client, platform: Platform) -> None:
    register_versions(platform, 2)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        (
            {"variants": [{"name": "a", "model": f"{MODEL}@1", "weight": -1}]},
            InvalidInput,
            "variants.0.weight",
        ),
        (
            {"variants": [{"name": "a", "model": f"{MODEL}@1", "weight": 0}]},
            InvalidInput,
            "variants",
        ),
        (
            {
                "variants": [
                    {"name": "a", "model": f"{MODEL}@1"},
                    {"name": "a", "model": f"{MODEL}@2"},
                ]
            },
            InvalidInput,
            "variants.1.name",
        ),
        (
            {
                "variants": [
                    {"name": "a", "model": f"{MODEL}@1"},
                    {"name": "b", "model": f"{MODEL}@9"},
                ]
            },
            NotFound,
            "variants.1.model",
        ),
        ({"variants": [{"name": "a", "model": "nosuch@1"}]}, NotFound, "variants.0.model"),
        (
            {"variants": [{"name": "bad name", "model": f"{MODEL}@1"}]},
            InvalidInput,
            "variants.0.name",
        ),
        (
            {"model": f"{MODEL}@1", "shadow": {"model": f"{MODEL}@2", "percent": 0}},
            InvalidInput,
            "shadow.percent",
        ),
        ({"model": f"{MODEL}@1", "shadow": {"model": f"{MODEL}@7"}}, NotFound, "shadow.model"),
        (
            {"model": f"{MODEL}@1", "capture": {"sampling_percent": 150}},
            InvalidInput,
            "capture.sampling_percent",
        ),
        (
            {"model": f"{MODEL}@1", "batching": {"max_batch_size": 0}},
            InvalidInput,
            "batching.max_batch_size",
        ),
        ({}, InvalidInput, "variants"),
    ]
    for arguments, error, field in cases:
        with pytest.raises(error) as caught:
            client.endpoints.create("bc", **arguments)
        assert caught.value.field == field, (arguments, caught.value)
    assert client.endpoints.list() == []


def test_production_endpoints_serve_approved_versions_only(
    client: Client, platform: Platform
) -> None:
    register_versions(platform, 3)
    with pytest.raises(Conflict) as unapproved:
        client.endpoints.create("bc", f"{MODEL}@1", production=True)
    assert unapproved.value.field == "model"
    assert "PendingManualApproval" in unapproved.value.message
    assert client.endpoints.list() == []
    client.models.set_approval(MODEL, 1, "Approved")
    e = client.endpoints.create("bc", f"{MODEL}@1", production=True)
    assert e.production
    with pytest.raises(Conflict) as adding:
        client.endpoints.add_variant("bc", "challenger", f"{MODEL}@2", weight=10)
    assert adding.value.field == "model"
    with pytest.raises(Conflict):
        client.endpoints.add_variant("bc", "shadow", f"{MODEL}@2", shadow_percent=10)
    with pytest.raises(Conflict):
        client.endpoints.update("bc", f"{MODEL}@2")
    with pytest.raises(Conflict) as deploying:
        client.deployments.deploy("bc", f"{MODEL}@2", wait=False)
    assert deploying.value.field == "model"
    assert _state(client.endpoints.get("bc")) == _state(e)

    client.endpoints.create("staging", f"{MODEL}@1")
    client.endpoints.add_variant("staging", "challenger", f"{MODEL}@3", weight=1)
    with pytest.raises(Conflict) as flag:
        client.endpoints.configure("staging", production=True)
    assert flag.value.field == "production"
    assert "challenger" in flag.value.message
    client.models.set_approval(MODEL, 3, "Approved")
    assert client.endpoints.configure("staging", production=True).production


def test_removing_variants_keeps_traffic_somewhere(client: Client, platform: Platform) -> None:
    register_versions(platform, 2)
    client.endpoints.create(
        "bc",
        variants=[
            {"name": "a", "model": f"{MODEL}@1", "weight": 1},
            {"name": "b", "model": f"{MODEL}@2", "weight": 0},
        ],
    )
    with pytest.raises(Conflict) as zero:
        client.endpoints.remove_variant("bc", "a")
    assert zero.value.field == "variant"
    with pytest.raises(NotFound):
        client.endpoints.remove_variant("bc", "c")
    left = client.endpoints.remove_variant("bc", "b")
    with pytest.raises(Conflict) as last:
        client.endpoints.remove_variant("bc", "a")
    assert "last production variant" in last.value.message
    with pytest.raises(Conflict):
        client.endpoints.add_variant("bc", "a", f"{MODEL}@2")
    assert _state(client.endpoints.get("bc")) == _state(left)


def test_settings_capture_batching_and_runtime(client: Client, platform: Platform) -> None:
    register_versions(platform, 2)
    client.endpoints.create("bc", f"{MODEL}@1")
    e = client.endpoints.configure(
        "bc",
        capture={"sampling_percent": 25, "mode": "output"},
        batching={"max_batch_size": 64, "max_wait_ms": 1.5},
    )
    assert e.capture == {"enabled": True, "sampling_percent": 25, "mode": "output"}
    assert e.batching == {"enabled": True, "max_batch_size": 64, "max_wait_ms": 1.5}
    assert e.generation == 2
    with pytest.raises(InvalidInput) as mode:
        client.endpoints.configure("bc", capture={"mode": "everything"})
    assert mode.value.field is not None and mode.value.field.startswith("capture")
    with pytest.raises(InvalidInput) as wait:
        client.endpoints.configure("bc", batching={"max_wait_ms": 5000})
    assert wait.value.field == "batching.max_wait_ms"
    with pytest.raises(InvalidInput) as onnx:
        client.endpoints.add_variant("bc", "edge", f"{MODEL}@2", runtime="onnx")
    assert onnx.value.field == "runtime" and "export-edge" in onnx.value.message
    assert client.endpoints.get("bc").generation == 2


def test_create_from_a_yaml_config(platform: Platform, tmp_path: Path) -> None:
    register_versions(platform, 3, approve=True)
    config = tmp_path / "bc.yaml"
    config.write_text(
        "variants:\n"
        f"  - {{name: primary, model: '{MODEL}@1', weight: 90}}\n"
        f"  - {{name: challenger, model: '{MODEL}@2', weight: 10}}\n"
        f"shadow: {{name: shadow, model: '{MODEL}@3', percent: 20}}\n"
        "production: true\n"
        "capture: {sampling_percent: 10, mode: both}\n"
        "batching: {max_batch_size: 16, max_wait_ms: 1}\n"
    )
    sdk = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    e = sdk.endpoints.create("bc", config=config)
    assert e.production and e.weights == {"challenger": 10, "primary": 90}
    assert e.variant("shadow").shadow_percent == 20
    assert e.capture["sampling_percent"] == 10 and e.batching["max_batch_size"] == 16
    config.write_text("variants: [{name: a, model: 'bc-model@1', weigth: 3}]\n")
    with pytest.raises(InvalidInput) as typo:
        sdk.endpoints.create("bc2", config=config)
    assert typo.value.field == "variants.0.weigth"
