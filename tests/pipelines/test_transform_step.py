"""The transform step runs a transform on the dataset an earlier step ingested."""

from __future__ import annotations

from tests.pipelines.conftest import wait_run

from shipyard import pipelines, transforms
from shipyard.security import RequestContext
from shipyard.transforms import TransformSpec

PIPELINE = {
    "name": "shape",
    "steps": [
        {"name": "ingest", "kind": "ingest", "with": {"dataset": "raw", "file": "raw.csv"}},
        {
            "name": "small",
            "kind": "transform",
            "with": {"transform": "first-two"},
            "after": ["ingest"],
        },
        {"name": "check", "kind": "ingest", "with": {"from": "${steps.small.dataset}"}},
    ],
}


def test_transform_step_writes_a_dataset_version(admin: RequestContext) -> None:
    from shipyard import datasets

    datasets.ingest(admin, "raw", b"a,b\n1,x\n", "raw.csv")
    spec = TransformSpec.model_validate(
        {"inputs": {"raw": "raw"}, "sql": "select * from raw limit 2", "output": {"dataset": "two"}}
    )
    transforms.apply_transform(admin, "first-two", spec)
    pipelines.create_pipeline(admin, PIPELINE, {"raw.csv": "a,b\n1,x\n2,y\n3,z\n"})
    run = wait_run(admin, pipelines.start_pipeline_run(admin, "shape").id)
    assert run.status == "succeeded", run.message
    assert run.step("ingest").outputs["dataset"] == "raw@2"
    assert run.step("small").outputs["dataset"] == "two@1"
    assert run.step("check").outputs == {"dataset": "two@1", "rows": 2}
