"""Hot reload under steady traffic: weights and model versions change, no request fails."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from dataplanekit import (
    Traffic,
    booster,
    embedded,
    register,
    register_three,
    rows,
    serving,
    wait_for,
)

from shipyard.client import Client
from shipyard.endpoints import variant_metrics
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import resolve
from shipyard.store.metadata import endpoint_tables as et


def test_weights_and_versions_change_under_load_without_a_failed_request(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform, Client(settings=platform.settings) as client:
        register_three(platform)
        client.endpoints.create("live", variants=[{"name": "blue", "model": "bc-model@1"}])
        with serving(platform, "live") as served:
            app = served.app
            blue_slot = app.config.by_name["blue"].slot
            with Traffic(served.url, served.token) as traffic:
                traffic.settle(40)

                client.endpoints.add_variant("live", "green", "bc-model@2", weight=0)
                info = client.endpoints.set_weights("live", {"blue": 0, "green": 1})
                wait_for(lambda: app.config.generation == info.generation)
                assert app.config.by_name["blue"].slot is blue_slot  # loaded once, reused
                traffic.settle(40)
                assert ("green", "2") in traffic.seen()

                info = client.endpoints.update("live", "bc-model@3")
                wait_for(lambda: app.config.generation == info.generation)
                assert [v.name for v in app.config.variants] == ["primary"]
                traffic.settle(40)
                assert ("primary", "3") in traffic.seen()

                wait_for(
                    lambda: client.endpoints.get("live").instances[0].generation == info.generation
                )
                (instance,) = client.endpoints.get("live").instances
                assert instance.live and instance.variants == ["primary"]
                assert instance.failed_generation is None
            assert traffic.failed == []
            answered = traffic.ok
        assert answered > 120
        assert client.endpoints.get("live").instances == []  # clean shutdown leaves
        with platform.db.session() as session:
            stats = variant_metrics(session, "live")
        assert sum(m.requests for m in stats.values()) == answered
        assert {"blue", "green", "primary"} <= set(stats)
        assert all(m.errors == 0 for m in stats.values())
        assert stats["primary"].p99_latency_ms is not None


def test_a_model_that_fails_to_load_leaves_the_old_variants_serving(platform: Platform) -> None:
    register_three(platform)
    broken = register(platform, booster(5))
    with platform.db.session() as session:
        _, version = resolve(session, parse_reference(f"bc-model@{broken}"))
        version.digest = platform.blobs.put_bytes(b"tree\nnot a model at all\n")
    with Client(settings=platform.settings) as client:
        client.endpoints.create("fails", model="bc-model@1")
        with serving(platform, "fails") as served, served.client() as http:
            before = served.app.config.generation
            info = client.endpoints.add_variant("fails", "broken", f"bc-model@{broken}", weight=1)

            def reported() -> bool:
                instances = client.endpoints.get("fails").instances
                return bool(instances) and instances[0].failed_generation == info.generation

            wait_for(reported)
            (instance,) = client.endpoints.get("fails").instances
            assert instance.generation == before == served.app.config.generation
            assert instance.error
            for i in range(10):
                response = http.post("/invocations", json={"instances": rows(1, i)})
                assert response.status_code == 200
                assert response.headers["x-shipyard-variant"] == "primary"
            pinned = http.post(
                "/invocations",
                json={"instances": rows(1)},
                headers={"X-Shipyard-Variant": "broken"},
            )
            assert pinned.status_code == 400

            fixed = client.endpoints.remove_variant("fails", "broken")
            wait_for(lambda: served.app.config.generation == fixed.generation)
            wait_for(lambda: client.endpoints.get("fails").instances[0].failed_generation is None)
            assert client.endpoints.get("fails").instances[0].error == ""
    with platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(et.EndpointInstance)) == 0
