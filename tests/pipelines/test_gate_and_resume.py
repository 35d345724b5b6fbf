"""The evaluation gate stops a worse challenger; an own-code step fails, then resumes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.pipelines.conftest import spec, wait_run

from shipyard import pipelines, registry
from shipyard.security import RequestContext


def test_a_worse_challenger_stops_at_the_gate(admin: RequestContext, bc: str) -> None:
    pipelines.create_pipeline(admin, spec(), {"bc.csv": bc})
    first = wait_run(admin, pipelines.start_pipeline_run(admin, "retrain").id)
    assert first.status == "succeeded", first.message
    worse = pipelines.start_pipeline_run(admin, "retrain", {"n_estimators": 1})
    second = wait_run(admin, worse.id)
    assert second.status == "succeeded", second.message
    assert second.step("train").status == "succeeded"  # a new model: not reused
    assert second.step("evaluate").outputs["passed"] is False
    assert second.step("gate").outputs["branch"] == "else"
    assert second.step("register").status == "skipped"
    assert registry.get_model_version(admin, "bc-model@champion").version == 1
    assert [v.version for v in registry.get_model(admin, "bc-model").versions] == [1]


FLAKY = """
from pathlib import Path


def main(context):
    marker = Path(context.params["marker"])
    if not marker.exists():
        raise RuntimeError("the marker is not there yet")
    context.run.log_metric("rows", float(len(context.frame())))
"""


def test_a_failed_own_code_step_resumes_from_itself(
    admin: RequestContext, bc: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    document = {
        "name": "flaky",
        "parameters": {"marker": str(marker)},
        "steps": [
            {"name": "ingest", "kind": "ingest", "with": {"dataset": "bc", "file": "bc.csv"}},
            {
                "name": "work",
                "kind": "code",
                "with": {
                    "entrypoint": "flaky.py:main",
                    "dataset": "${steps.ingest.dataset}",
                    "params": {"marker": "${params.marker}"},
                    "experiment": "pipelines",
                },
            },
        ],
    }
    files = {"bc.csv": bc, "flaky.py": textwrap.dedent(FLAKY)}
    pipelines.create_pipeline(admin, document, files)
    failed = wait_run(admin, pipelines.start_pipeline_run(admin, "flaky").id)
    assert failed.status == "failed" and "step work failed" in failed.message
    assert failed.step("ingest").status == "succeeded"
    assert failed.step("work").status == "failed"
    ingested_at = failed.step("ingest").ended_at
    marker.write_text("here")
    pipelines.resume_pipeline_run(admin, failed.id)
    resumed = wait_run(admin, failed.id)
    log = pipelines.read_pipeline_run_log(admin, failed.id).text
    assert resumed.status == "succeeded", log[-1500:]
    assert resumed.step("ingest").ended_at == ingested_at  # kept, not run again
    assert resumed.step("work").status == "succeeded"
    assert resumed.step("work").outputs["run"]
