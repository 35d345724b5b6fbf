"""A YAML pipeline from a file to a registered champion, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.pipelines.conftest import spec, wait_run

from shipyard import pipelines, registry, tracking
from shipyard.security import RequestContext


def test_runs_every_step_then_reuses_cached_steps(admin: RequestContext, bc: str) -> None:
    pipelines.create_pipeline(admin, spec(), {"bc.csv": bc})
    first = wait_run(admin, pipelines.start_pipeline_run(admin, "retrain").id)
    assert first.status == "succeeded", first.message
    assert [s.status for s in first.steps] == ["succeeded"] * 6
    assert first.step("register").outputs["model_version"] == "bc-model@1"
    assert first.step("ingest").outputs["dataset"] == "bc@1"  # identical content
    trained = tracking.get_run(admin, first.step("train").outputs["run"])
    assert trained.tags["shipyard.pipeline_run"] == first.id
    assert trained.tags["shipyard.pipeline_step"] == "train"
    champion = registry.get_model_version(admin, "bc-model@champion")
    assert champion.version == 1
    assert pipelines.produced_by(admin.platform, "model-version", "bc-model@1") == [
        ("retrain", first.id, "register")
    ]

    second = wait_run(admin, pipelines.start_pipeline_run(admin, "retrain").id)
    assert second.status == "succeeded", second.message
    statuses = {s.name: s.status for s in second.steps}
    assert statuses["train"] == "cached" and statuses["validate"] == "cached"
    assert second.step("train").reused_from == first.id
    assert second.step("train").outputs == first.step("train").outputs
