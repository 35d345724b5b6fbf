"""A step retried with backoff succeeds on its second attempt; a cancelled run stops the
job its running step started."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

from tests.pipelines.conftest import wait_run

from shipyard import jobs, pipelines
from shipyard.security import RequestContext

COUNTER = """
from pathlib import Path


def main(context):
    tries = Path(context.params["tries"])
    tries.write_text(tries.read_text() + "x" if tries.exists() else "x")
    if len(tries.read_text()) < 2:
        raise RuntimeError("first attempt fails")
"""

SLEEPER = """
import time


def main(context):
    time.sleep(600)
"""


def _code_pipeline(name: str, source: str, retries: int, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"name": "read", "kind": "ingest", "with": {"from": "d"}},
            {
                "name": "work",
                "kind": "code",
                "retries": retries,
                "backoff": 0.1,
                "with": {
                    "entrypoint": "work.py:main",
                    "dataset": "${steps.read.dataset}",
                    "params": params,
                },
            },
        ],
    }, {"work.py": textwrap.dedent(source)}


def test_a_step_is_retried(admin: RequestContext, tmp_path: Path) -> None:
    from shipyard import datasets

    datasets.ingest(admin, "d", b"a,b\n1,2\n", "d.csv")
    tries = tmp_path / "tries"
    spec, files = _code_pipeline("retried", COUNTER, 1, {"tries": str(tries)})
    pipelines.create_pipeline(admin, spec, files)
    run = wait_run(admin, pipelines.start_pipeline_run(admin, "retried").id)
    assert run.status == "succeeded", run.message
    assert run.step("work").attempts == 2 and tries.read_text() == "xx"


def test_cancel_stops_the_running_step_and_its_job(admin: RequestContext) -> None:
    from shipyard import datasets

    datasets.ingest(admin, "d", b"a,b\n1,2\n", "d.csv")
    spec, files = _code_pipeline("sleepy", SLEEPER, 0, {})
    pipelines.create_pipeline(admin, spec, files)
    run_id = pipelines.start_pipeline_run(admin, "sleepy").id
    deadline = time.monotonic() + 120
    while (child := pipelines.get_pipeline_run(admin, run_id).step("work").child_job) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cancelled = pipelines.cancel_pipeline_run(admin, run_id)
    assert cancelled.status == "cancelled"
    assert cancelled.step("work").status == "cancelled"
    assert jobs.get_training_job(admin, child).status == "cancelled"
