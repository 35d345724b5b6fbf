"""Own-code training: the user's entrypoint in a job worker, its code stored with the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from tests.cli.inprocess import shipyard
from tests.conftest import LiveServer
from tests.jobs.conftest import HELPERS, TRAIN, write_code

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.errors import AccessDenied, InvalidInput, PayloadTooLarge
from shipyard.platform import Platform
from shipyard.security import issue_admin_key_if_none
from shipyard.store.metadata import job_tables as j

SPEC = """
dataset: bc@1
experiment: own
entrypoint: train.py:main
params:
  max_iter: 500
max_runtime: 300
"""


@pytest.fixture
def server(data_platform: Platform) -> Iterator[tuple[LiveServer, str]]:
    live = LiveServer(create_app(data_platform))
    key = issue_admin_key_if_none(data_platform)
    assert key is not None
    yield live, key.token
    live.close()


def _check_run(client: Client, run_id: str | None) -> None:
    assert run_id is not None
    run = client.tracking.get_run(run_id)
    assert run.status == "finished" and run.params["max_iter"] == "500"
    paths = {a.path for a in run.artifacts}
    assert {"code/train.py", "code/helpers.py", "code/environment.json"} <= paths
    assert {"model/model.bin", "model/meta.json"} <= paths
    environment = orjson.loads(client.tracking.get_artifact(run_id, "code/environment.json"))
    assert environment["entrypoint"] == "train.py:main"
    assert environment["packages"]["scikit-learn"] and environment["packages"]["pyarrow"]
    assert (
        client.tracking.get_artifact(run_id, "code/helpers.py")
        .decode()
        .strip()
        .startswith("def features")
    )
    assert client.tracking.metric_history(run_id, "accuracy")[0].value > 0.8


def test_entrypoint_spec_trains_logs_and_registers(data_platform: Platform, tmp_path: Path) -> None:
    code = write_code(tmp_path / "project", {"train.py": TRAIN, "helpers.py": HELPERS})
    (code / "spec.yaml").write_text(SPEC)
    client = Client(settings=data_platform.settings)
    job = client.training.train(code / "spec.yaml", timeout=180)
    assert job.status == "succeeded" and job.dataset == "bc@1"
    assert job.spec["code"].keys() == {"train.py", "helpers.py"}
    _check_run(client, job.run_id)
    assert job.run_id is not None
    version = client.models.register("own-model", job.run_id)
    assert version.version == 1 and version.flavor == "sklearn"


def test_cli_script_over_http(
    data_platform: Platform, server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    live, key = server
    code = write_code(tmp_path / "project", {"fit.py": TRAIN, "helpers.py": HELPERS})
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("entrypoint: train.py:main\n", ""))
    done = shipyard(
        tmp_path / "cli-home",
        "train",
        str(spec),
        "--script",
        str(code / "fit.py"),
        url=live.url,
        api_key=key,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    client = Client(transport=HttpTransport(live.url, key))
    job = client.training.list()[0]
    assert job.spec["entrypoint"] == "fit.py:main" and job.status == "succeeded"
    shown = shipyard(
        tmp_path / "cli-home", "jobs", "show", job.id, "--json", url=live.url, api_key=key
    )
    record = orjson.loads(shown.stdout)
    assert record["status"] == "succeeded" and record["resources"]["peak_memory_mb"] > 0
    refused = shipyard(tmp_path / "cli-home", "jobs", "cancel", job.id, url=live.url, api_key=key)
    assert refused.returncode == 1 and "already succeeded" in refused.stderr


def test_run_code_needs_its_own_permission(
    data_platform: Platform, server: tuple[LiveServer, str]
) -> None:
    live, key = server
    admin = Client(transport=HttpTransport(live.url, key))
    admin.iam.create_principal("trainer")
    allowed = ["training:CreateTrainingJob", "datasets:ReadData", "tracking:CreateRun"]
    statement = {"Effect": "Allow", "Action": allowed, "Resource": "*"}
    admin.iam.put_policy("spec-training", {"Statement": [statement]})
    admin.iam.attach_policy("trainer", "spec-training")
    trainer = Client(transport=HttpTransport(live.url, admin.iam.create_api_key("trainer").token))
    blobs = sorted(p.name for p in data_platform.settings.home.rglob("*") if p.is_file())

    with pytest.raises(AccessDenied, match="training:RunCode"):
        trainer.training.submit_code(
            {"entrypoint": "train.py:main", "dataset": "bc@1"}, {"train.py": TRAIN}
        )
    with data_platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(j.Job)) == 0
    after = sorted(p.name for p in data_platform.settings.home.rglob("*") if p.is_file())
    assert [n for n in after if not n.startswith("shipyard.db")] == [
        n for n in blobs if not n.startswith("shipyard.db")
    ]


@pytest.mark.parametrize(
    ("spec", "files", "field", "error"),
    [
        ({"entrypoint": "train.py"}, {"train.py": "x=1"}, "entrypoint", InvalidInput),
        ({"entrypoint": "other.py:main"}, {"train.py": "x=1"}, "entrypoint", InvalidInput),
        ({}, {"../escape.py": "x=1", "train.py": "x=1"}, "files", InvalidInput),
        ({}, {"/etc/evil.py": "x=1", "train.py": "x=1"}, "files", InvalidInput),
        ({}, {"train.py": "x" * (1024 * 1024 + 1)}, "files.train.py", PayloadTooLarge),
        ({}, {f"m{i}.py": "" for i in range(51)} | {"train.py": ""}, "files", InvalidInput),
        ({"dataset": "nope@1"}, {"train.py": "x=1"}, "dataset", Exception),
        ({"limits": {"max_runtime": -1}}, {"train.py": "x=1"}, "max_runtime", InvalidInput),
    ],
)
def test_bad_code_requests_name_the_field(
    data_platform: Platform,
    server: tuple[LiveServer, str],
    spec: dict[str, object],
    files: dict[str, str],
    field: str,
    error: type[Exception],
) -> None:
    live, key = server
    client = Client(transport=HttpTransport(live.url, key))
    body = {"entrypoint": "train.py:main", "dataset": "bc@1"} | spec
    with pytest.raises(error) as caught:
        client.training.submit_code(body, files)
    assert getattr(caught.value, "field", None) == field
    with data_platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(j.Job)) == 0
