"""Own code with ``network: none``: no network, no platform files, no credentials, no writes
outside scratch; and a well-behaved job trains, logs and registers as in the job process."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from tests.conftest import service_unavailable
from tests.jobs.conftest import HELPERS, TRAIN, bc_parquet

from shipyard import transforms
from shipyard.client import Client
from shipyard.datasets import find_version, load_version_table
from shipyard.errors import InvalidInput, JobFailed
from shipyard.jobs import JobAttempt
from shipyard.jobs._sandbox_record import BadMessage, Recorder
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor, resolve
from shipyard.sandbox._launch import sandbox_unavailable
from shipyard.schemas.transforms import TransformSpec
from shipyard.security import ADMIN, context_for
from shipyard.security._sealing import seal
from shipyard.tracking import start_run

# Each probe's outcome becomes a tag; the last one (PostgreSQL over TCP) fails the job.
PROBE = """
import os, socket


def attempt(action):
    try:
        action()
        return "ok"
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def write(path):
    with open(path, "w") as file:
        file.write("x")


def main(context):
    p = context.params
    home = p["home"]
    results = {
        "host_socket": attempt(lambda: socket.create_connection(("127.0.0.1", int(p["port"])), 2)),
        "unix_socket": attempt(lambda: socket.socket(socket.AF_UNIX).connect(p["unix"])),
        "key": attempt(lambda: open(f"{home}/keys/sealing.key", "rb").read()),
        "database": attempt(lambda: open(p["database"], "rb").read(16)),
        "write_input": attempt(lambda: write("/tmp/inputs/bc.arrow")),
        "write_source": attempt(lambda: write(p["source"])),
        "write_home": attempt(lambda: write(f"{home}/planted")),
        "write_scratch": attempt(lambda: write("scratch.txt")),
        "read_input": attempt(lambda: context.table().num_rows),
    }
    context.run.set_tags({f"probe.{k}": v for k, v in results.items()})
    processes = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
    context.run.set_tags({"env": " ".join(sorted(os.environ)), "uid": os.getuid()})
    context.run.set_tags({"processes": processes})
    socket.create_connection(("127.0.0.1", 5432), 2)
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> None:
    reason = sandbox_unavailable(tmp_path_factory.mktemp("probe"))
    if reason is not None:
        service_unavailable(reason)


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """Real listening sockets: on the host's loopback (its port), and a Unix socket anyone
    may connect to (its path)."""
    path = str(tmp_path / "service.sock")
    with socket.socket() as server, socket.socket(socket.AF_UNIX) as local:
        server.bind(("127.0.0.1", 0))
        server.listen()
        local.bind(path)
        os.chmod(path, 0o777)
        local.listen()
        yield server.getsockname()[1], path


def test_isolated_code_reaches_no_network_secrets_or_writable_place(
    sandbox: None, data_platform: Platform, listening: tuple[int, str]
) -> None:
    settings = data_platform.settings
    home = settings.home.resolve()
    seal(settings, "a secret", "test")  # creates <home>/keys/sealing.key
    assert (home / "keys" / "sealing.key").is_file()
    database = settings.metadata_url.removeprefix("sqlite:///")
    params = {
        "port": listening[0],
        "unix": listening[1],
        "home": str(home),
        "database": database if database != settings.metadata_url else str(home / "blobs"),
        "source": str(Path(__file__).resolve()),
    }
    client = Client(settings=settings)
    spec = {"entrypoint": "probe.py:main", "dataset": "bc@1", "network": "none", "params": params}
    job = client.training.submit_code(spec, {"probe.py": PROBE})
    assert job.spec["network"] == "none"
    with pytest.raises(JobFailed):
        client.training.wait(job.id, timeout=180)
    done = client.training.get(job.id)
    assert done.status == "failed"
    assert done.message.startswith("ConnectionRefusedError") or "unreachable" in done.message
    assert done.run_id is not None
    tags = client.tracking.get_run(done.run_id).tags
    probes = {k.removeprefix("probe."): v for k, v in tags.items() if k.startswith("probe.")}
    assert probes["host_socket"].startswith("ConnectionRefusedError"), probes
    assert probes["unix_socket"].startswith("FileNotFoundError"), probes
    for name in ("key", "database"):
        assert probes[name].startswith(("FileNotFoundError", "PermissionError")), probes
    for name in ("write_input", "write_source"):
        assert probes[name].startswith(("OSError: [Errno 30]", "PermissionError")), probes
    assert probes["write_home"].startswith(("FileNotFoundError", "OSError: [Errno 30]")), probes
    assert probes["write_scratch"] == "ok" and probes["read_input"] == "ok", probes
    assert tags["uid"] != "0" and tags["processes"] == "[1]"
    assert not [k for k in tags["env"].split() if k.startswith(("SHIPYARD", "AWS", "PG"))]
    assert not (home / "planted").exists()
    assert Path(__file__).read_text().startswith('"""Own code')


def test_isolated_job_trains_logs_and_registers_a_model_that_serves(
    sandbox: None, data_platform: Platform
) -> None:
    client = Client(settings=data_platform.settings)
    spec = {"entrypoint": "train.py:main", "dataset": "bc@1", "network": "none"}
    spec["params"] = {"max_iter": 500}
    files = {"train.py": TRAIN, "helpers.py": HELPERS}
    job = client.training.wait(client.training.submit_code(spec, files).id, timeout=180)
    assert job.status == "succeeded" and job.run_id is not None
    run = client.tracking.get_run(job.run_id)
    assert {"code/train.py", "model/model.bin", "model/meta.json"} <= {
        a.path for a in run.artifacts
    }
    frame = pq.read_table(io.BytesIO(bc_parquet())).to_pandas()
    x, y = frame.drop(columns=["target"]).to_numpy(), frame["target"]
    expected = LogisticRegression(max_iter=500).fit(x, y)
    logged = client.tracking.metric_history(job.run_id, "accuracy")[0].value
    assert logged == pytest.approx(expected.score(x, y))
    client.models.register("isolated", job.run_id)
    with data_platform.db.session() as session:
        _, row = resolve(session, parse_reference("isolated@1"))
        session.expunge(row)
    predictor = load_version_predictor(data_platform, row)
    predicted = predictor.predict(frame.drop(columns=["target"]).head(20))
    assert np.array_equal(predicted.predictions, expected.predict(x[:20]))


def test_network_is_checked_before_any_job_exists(data_platform: Platform, tmp_path: Path) -> None:
    client = Client(settings=data_platform.settings)
    code = {"entrypoint": "train.py:main", "dataset": "bc@1"}
    with pytest.raises(InvalidInput, match="host") as refused:
        client.training.submit_code(code | {"network": "bridge"}, {"train.py": TRAIN})
    assert refused.value.field == "network"
    tuning = {
        "training": code | {"network": "none"},
        "objective": {"metric": "accuracy", "direction": "maximize"},
        "max_trials": 2,
        "search_space": {"max_iter": {"type": "int", "low": 50, "high": 100}},
    }
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "tune.yaml").write_text(yaml.safe_dump(tuning))
    with pytest.raises(InvalidInput, match="network: none") as refused:
        client.tuning.start(tmp_path / "tune.yaml")
    assert refused.value.field == "training.network"
    assert client.training.list() == [] and client.tuning.list() == []


def test_outbox_files_are_checked_before_the_parent_reads_them(
    data_platform: Platform, tmp_path: Path
) -> None:
    """The sandboxed code owns its outbox: a link there (to a key, say) is refused, as are
    bad messages; plain files are stored."""
    secret = tmp_path / "sealing.key"
    secret.write_bytes(b"k" * 32)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "1").write_bytes(b"plot")
    (outbox / "2").symlink_to(secret)
    os.link(secret, outbox / "3")
    with data_platform.db.session() as session:
        run = start_run(session, experiment="own", principal=ADMIN, name="r")
        run_id = run.id
    job = JobAttempt(data_platform, "job", 1, ADMIN)
    recorder = Recorder(job, run_id, outbox, max_bytes=1024)
    recorder.take(b'{"op": "metrics", "metrics": {"loss": 0.5}, "step": 2}\n')
    recorder.take(b'{"op": "artifact", "path": "plots/a.png", "file": "1"}\n')
    assert recorder.collect()[0]["plots/a.png"][1] == 4
    for name in ("2", "3"):
        recorder.take(b'{"op": "model", "files": {"model/model.bin": "%s"}}\n' % name.encode())
        with pytest.raises(BadMessage, match="outbox file"):
            recorder.collect()
    for bad in (
        b'{"op": "artifact", "path": "../x", "file": "1"}',
        b'{"op": "artifact", "path": "model/model.bin", "file": "1"}',
        b'{"op": "model", "files": {"model/model.bin": "../../keys/sealing.key"}}',
        b'{"op": "metrics", "metrics": {"loss": "high"}}',
        b'{"op": "drop_tables"}',
        b"not json",
    ):
        with pytest.raises(InvalidInput):
            recorder.take(bad)
    assert [
        p.value
        for p in Client(settings=data_platform.settings).tracking.metric_history(run_id, "loss")
    ] == [0.5]


TRANSFORM = """
import os, socket
import pyarrow as pa


def attempt(action):
    try:
        action()
        return "ok"
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def run(bc):
    found = {
        "rows": str(bc.num_rows),
        "host_socket": attempt(lambda: socket.create_connection(("127.0.0.1", PORT), 2)),
        "key": attempt(lambda: open("KEY", "rb").read()),
        "uid": str(os.getuid()),
    }
    return pa.table({"probe": list(found), "result": list(found.values())})
"""


def test_python_transform_with_network_none_runs_in_the_sandbox(
    sandbox: None, data_platform: Platform, listening: tuple[int, str]
) -> None:
    key = data_platform.settings.home.resolve() / "keys" / "sealing.key"
    seal(data_platform.settings, "a secret", "test")
    source = TRANSFORM.replace("PORT", str(listening[0])).replace("KEY", str(key))
    spec = TransformSpec.model_validate(
        {"inputs": {"bc": "bc"}, "python": {"entrypoint": "probe:run", "network": "none"}}
    )
    ctx = context_for(data_platform, ADMIN)
    transforms.apply_transform(ctx, "probed", spec, source)
    assert transforms.run_transform(ctx, "probed").output == "probed@1"
    with data_platform.db.session() as session:
        row = find_version(session, "probed", 1)
        session.expunge(row)
    table = load_version_table(data_platform, row).to_pylist()
    found = {r["probe"]: r["result"] for r in table}
    assert found["rows"] == "569" and found["uid"] != "0", found
    assert found["host_socket"].startswith("ConnectionRefusedError"), found
    assert found["key"].startswith("FileNotFoundError"), found
