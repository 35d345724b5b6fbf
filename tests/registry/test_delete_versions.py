"""Deleting model versions: a tombstone in lineage, refused while an endpoint serves it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.endpoints.dataplanekit import booster, signature

from shipyard import errors
from shipyard.client import Client
from shipyard.flavors import save_model
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META


@pytest.fixture
def sdk(platform: Platform) -> Client:
    return Client(settings=platform.settings)


def _run(sdk: Client, tmp_path: Path) -> str:
    import orjson

    meta = orjson.dumps({"flavor": "lightgbm", "signature": signature().model_dump(mode="json")})
    with sdk.start_run(experiment="deletes") as run:
        for path, data in ((MODEL_ARTIFACT, save_model(booster(3))[1]), (MODEL_META, meta)):
            local = tmp_path / path.replace("/", "-")
            local.write_bytes(data)
            run.log_artifact(local, name=path)
    return run.id


def test_a_served_version_is_refused_and_an_unserved_one_leaves_a_tombstone(
    sdk: Client, platform: Platform, tmp_path: Path
) -> None:
    run_id = _run(sdk, tmp_path)
    sdk.models.register("m", run_id)
    second = sdk.models.register("m", run_id)
    sdk.models.set_approval("m", 1, "Approved")
    sdk.endpoints.create("ep", model="m@1")
    sdk.models.set_alias("m", "next", second.version)

    with pytest.raises(errors.Conflict, match="endpoint 'ep' serves m@1"):
        sdk.models.delete("m@1", reason="retired")
    with pytest.raises(errors.Conflict):
        sdk.models.delete("m", reason="retired")  # the whole model includes m@1
    assert sdk.models.version("m@1").version == 1

    done = sdk.models.delete(f"m@{second.version}", reason="bad metrics")
    assert done.deleted == [f"m@{second.version}"]
    # the artifact is also m@1's (and the run's): kept, and said so
    assert done.purged_blobs == 0 and "named by model m@1" in done.kept_blobs[0]
    with pytest.raises(errors.NotFound, match=r"deleted on .* by admin: bad metrics"):
        sdk.models.version(f"m@{second.version}")
    with pytest.raises(errors.NotFound):
        sdk.models.version("m@next")  # its alias went with it
    graph = sdk.models.lineage(f"m@{second.version}")
    root = next(n for n in graph.nodes if n.id == graph.root)
    assert root.deleted is not None and "bad metrics" in root.deleted
    run_graph = sdk.models.lineage(run_id, kind="run")
    deleted = {n.label: n.deleted for n in run_graph.nodes if n.kind == "model"}
    assert deleted["m@1"] is None and deleted[f"m@{second.version}"] is not None
