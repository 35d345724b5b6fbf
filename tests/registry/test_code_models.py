"""Code and PyTorch models run only the code a principal allowed registry:RegisterCode
registered: without that right nothing is stored, tampered code is refused at load, and
.py files that merely sit in a run are never imported. Pickle-based models are stored but
never registered, with the safe alternative named."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
import sqlalchemy as sa
from tests.flavors.modelkit import code_model, table

from shipyard import registry, tracking
from shipyard.client import Client
from shipyard.endpoints import build_serving_app
from shipyard.errors import AccessDenied, IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors import PICKLE_ALTERNATIVE, CodeModel, ModelSignature, SavedModel
from shipyard.flavors._bundle import build_manifest
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor, resolve
from shipyard.security import attach_policy, context_for, create_principal, put_policy
from shipyard.store.metadata import tables as t

SIGNATURE = ModelSignature.model_validate(
    {
        "inputs": [{"name": n, "type": "float"} for n in ("a", "b")],
        "task": "regression",
        "target": "y",
    }
)


@pytest.fixture
def local(platform: Platform) -> Iterator[Client]:
    client = Client(settings=platform.settings)
    yield client
    client.close()


def _marker_model(marker: Path, entry_body: str = "") -> CodeModel:
    """A code model whose module, if ever imported, writes ``marker``."""
    source = (
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "class M:\n"
        "    def load(self, artifacts):\n"
        "        pass\n"
        "    def predict(self, table):\n"
        f"        return table.to_numpy().sum(axis=1){entry_body}\n"
    )
    return CodeModel("boom:M", {"boom.py": source})


def _logged(client: Client, model: object) -> str:
    with client.start_run(experiment="code") as run:
        run.log_model(model, signature=SIGNATURE)
    return run.id


def _grant(platform: Platform, name: str, actions: list[str]) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, name)
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    put_policy(admin, f"{name}-p", {"Statement": [statement]})
    attach_policy(admin, name, f"{name}-p")


def _version(platform: Platform, ref: str) -> t.ModelVersion:
    with platform.db.session() as session:
        _, row = resolve(session, parse_reference(ref))
        session.expunge(row)
    return row


def _count_versions(platform: Platform) -> int:
    with platform.db.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(t.ModelVersion)) or 0)


def test_registering_code_needs_register_code(
    platform: Platform, local: Client, tmp_path: Path
) -> None:
    code_run = _logged(local, _marker_model(tmp_path / "ran"))
    _grant(platform, "dev", ["registry:RegisterModel", "tracking:GetArtifact"])
    with pytest.raises(AccessDenied, match="registry:RegisterCode"):
        registry.register_model(context_for(platform, "dev"), "coded", code_run)
    assert _count_versions(platform) == 0  # nothing stored
    _grant(platform, "lead", ["registry:*", "tracking:GetArtifact"])
    version = registry.register_model(context_for(platform, "lead"), "coded", code_run)
    assert version.code_registered_by == "lead" and version.code_digest is not None
    assert not (tmp_path / "ran").exists()  # registering runs no model code


def test_code_tampered_after_registration_is_refused_at_load(
    platform: Platform, local: Client
) -> None:
    x, _ = table()
    with local.start_run(experiment="code") as run:
        run.log_model(code_model(), input_example=x.head(), task="regression")
    local.models.register("coded", run.id)
    local.endpoints.create("ep", "coded@1")
    source = next(
        a for a in local.tracking.get_run(run.id).artifacts if a.path == "model/code/scorer.py"
    )
    stored = platform.blobs.file_path(source.digest)  # type: ignore[attr-defined]
    stored.write_bytes(stored.read_bytes() + b"\nimport os\n")
    with pytest.raises(IntegrityError, match=r"code file scorer\.py .*altered"):
        load_version_predictor(platform, _version(platform, "coded@1"))
    with pytest.raises(IntegrityError, match="altered"):
        build_serving_app(platform, "ep")


def test_code_swapped_in_the_database_is_refused(
    platform: Platform, local: Client, tmp_path: Path
) -> None:
    first = _logged(local, _marker_model(tmp_path / "first"))
    second = _logged(local, _marker_model(tmp_path / "second", " + 1"))
    one = local.models.register("coded", first)
    two = local.models.register("other", second)
    with platform.db.session() as session:
        row = session.scalar(sa.select(t.ModelVersion).where(t.ModelVersion.digest == one.digest))
        assert row is not None
        row.digest = two.digest  # points at other code than the code registered
    with pytest.raises(IntegrityError, match="changed after registration"):
        load_version_predictor(platform, _version(platform, "coded@1"))
    with platform.db.session() as session:
        session.execute(sa.update(t.ModelVersion).values(code_digest=None))
    with pytest.raises(UnsafeArtifact, match="RegisterCode"):
        load_version_predictor(platform, _version(platform, "other@1"))
    assert not (tmp_path / "first").exists() and not (tmp_path / "second").exists()
    other = _version(platform, "other@1").id
    with platform.db.session() as session:
        restored = sa.update(t.ModelVersion).where(t.ModelVersion.id == other)
        session.execute(restored.values(code_digest=two.code_digest))
    predictor = load_version_predictor(platform, _version(platform, "other@1"))
    assert (tmp_path / "second").exists()  # control: registered code does run when loaded
    assert predictor.predict(np.array([[1.0, 2.0]])).predictions.tolist() == [4.0]


def test_py_files_in_a_run_are_never_imported(
    platform: Platform, local: Client, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    x, y = table()
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(x, y)
    with local.start_run(experiment="code") as run:
        run.log_model(model, input_example=x.head())
        for path in ("boom.py", "model/boom.py", "model/artifacts/boom.py"):
            tracking.log_artifact(
                context_for(platform, "admin"),
                run.id,
                path,
                f"open({str(marker)!r}, 'w')".encode(),
            )
    version = local.models.register("plain", run.id)
    assert version.code_digest is None
    load_version_predictor(platform, _version(platform, "plain@1")).predict(x.head())
    assert not marker.exists()


def _raw_bundle(client: Client, artifacts: dict[str, bytes], flavor: str = "code") -> str:
    """A bundle uploaded as raw artifacts, bypassing log_model's own checks."""
    code = {"m.py": b"class M:\n    def load(self, a): pass\n    def predict(self, t): return t\n"}
    manifest = build_manifest("m:M", code, artifacts, {})
    files = {f"code/{p}": d for p, d in code.items()}
    files |= {f"artifacts/{n}": d for n, d in artifacts.items()}
    saved = SavedModel(flavor, manifest, SIGNATURE, files)
    with client.start_run(experiment="raw") as run:
        for path, data in saved.artifacts():
            client.transport.call("tracking.log_artifact", run_id=run.id, path=path, content=data)
    return run.id


def _lying_safetensors() -> bytes:
    header = orjson.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4096]}})
    return len(header).to_bytes(8, "little") + header + b"\0" * 16


def _object_npy() -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def _external_onnx() -> bytes:
    from onnx import TensorProto, helper

    weights = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    weights.data_location = TensorProto.EXTERNAL
    weights.ClearField("float_data")
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["variable"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 2])],
        [weights],
    )
    return bytes(helper.make_model(graph).SerializeToString())


MALICIOUS = [
    ("pickle as safetensors", "weights.safetensors", pickle.dumps({"w": 1}), "pickle-based"),
    ("pickle as npy", "weights.npy", pickle.dumps([1, 2]), "pickle-based"),
    ("object npy", "table.npy", _object_npy(), "pickle-based"),
    ("lying safetensors header", "weights.safetensors", _lying_safetensors(), "does not fit"),
    ("onnx external data", "net.onnx", _external_onnx(), "external"),
]


@pytest.mark.parametrize(
    ("name", "data", "message"), [m[1:] for m in MALICIOUS], ids=[m[0] for m in MALICIOUS]
)
def test_malicious_artifacts_are_refused_at_registration(
    platform: Platform, local: Client, name: str, data: bytes, message: str
) -> None:
    run_id = _raw_bundle(local, {name: data})
    with pytest.raises((UnsafeArtifact, IntegrityError, ValueError), match=message):
        local.models.register("bad", run_id)
    assert _count_versions(platform) == 0
    with pytest.raises((UnsafeArtifact, IntegrityError, ValueError), match=message):
        from shipyard.flavors import check_safe_artifact

        check_safe_artifact(name, data)


def test_a_pickle_suffix_is_not_an_artifact_name(local: Client) -> None:
    bad = CodeModel("m:M", {"m.py": "class M: pass\n"}, {"weights.pt": b"\x80\x04"})
    with pytest.raises(ValueError, match=r"weights\.pt"):
        _logged(local, bad)


def test_mlflow_pickle_models_are_stored_but_never_registered(
    platform: Platform, local: Client
) -> None:
    mlmodel = b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
    with local.start_run(experiment="mlflow") as run:
        for path, data in (("model/MLmodel", mlmodel), ("model/model.pkl", pickle.dumps(1))):
            local.transport.call("tracking.log_artifact", run_id=run.id, path=path, content=data)
    with pytest.raises(UnsafeArtifact) as refused:
        local.models.register("from-mlflow", run.id)
    assert PICKLE_ALTERNATIVE in refused.value.message
    assert _count_versions(platform) == 0
    stored = local.transport.call("tracking.get_artifact", run_id=run.id, path="model/model.pkl")
    assert stored == pickle.dumps(1)


def test_pytorch_models_refuse_pickles_and_lying_weights(platform: Platform, local: Client) -> None:
    lying = _raw_bundle(local, {"weights.safetensors": _lying_safetensors()}, flavor="pytorch")
    with pytest.raises(InvalidInput, match="does not fit"):
        local.models.register("torchy", lying)
    pickled = _raw_bundle(local, {"weights.safetensors": pickle.dumps({})}, flavor="pytorch")
    with pytest.raises(UnsafeArtifact, match="pickle-based"):
        local.models.register("torchy", pickled)
    meta = orjson.dumps({"flavor": "pytorch", "signature": SIGNATURE.model_dump(mode="json")})
    with local.start_run(experiment="raw") as run:  # a torch.save file in place of a bundle
        for path, data in (("model/model.bin", pickle.dumps({"w": 1})), ("model/meta.json", meta)):
            local.transport.call("tracking.log_artifact", run_id=run.id, path=path, content=data)
    with pytest.raises(UnsafeArtifact, match="pickle-based"):
        local.models.register("torchy", run.id)
    assert _count_versions(platform) == 0


def test_the_control_plane_checks_code_without_running_it(
    platform: Platform, local: Client, tmp_path: Path
) -> None:
    from shipyard.deploy._rollout import check_loads

    marker = tmp_path / "ran"
    local.models.register("coded", _logged(local, _marker_model(marker)))
    check_loads(platform, _version(platform, "coded@1"), "native", "coded@1")
    assert not marker.exists()
    with platform.db.session() as session:
        session.execute(sa.update(t.ModelVersion).values(code_digest=None))
    with pytest.raises(UnsafeArtifact, match="coded@1 failed to load"):
        check_loads(platform, _version(platform, "coded@1"), "native", "coded@1")
    assert not marker.exists()


def test_the_model_card_shows_the_code_digest_and_who_registered_it(tmp_path: Path) -> None:
    import json
    import os

    from tests.cli.inprocess import run

    from shipyard.config import Settings

    home = tmp_path / "home"
    with Client(settings=Settings(home=home)) as client:
        version = client.models.register("coded", _logged(client, _marker_model(tmp_path / "x")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env |= {"SHIPYARD_HOME": str(home), "COLUMNS": "200"}

    def cli(*args: str) -> str:
        done = run(env, "models", "show", "coded@1", *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert json.loads(cli("--json"))["code_digest"] == version.code_digest
    assert f"code {version.code_digest} registered by admin" in cli()


def test_a_job_stores_its_model_in_the_layout_the_registry_reads(
    platform: Platform, local: Client
) -> None:
    """``store_saved_model`` (what the job worker calls) writes meta, model and validation
    rows so that registration and edge parity find them."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.linear_model import LinearRegression

    from shipyard.flavors import (
        MODEL_META,
        VALIDATION_ARTIFACT,
        ValidationRows,
        save_for_logging,
    )

    x, y = table()
    saved = save_for_logging(LinearRegression().fit(x, y), input_example=x.head())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(x.head(50)), sink)
    rows = ValidationRows(sink.getvalue().to_pybytes(), 50, "holdout")
    job_saved = SavedModel(saved.flavor, saved.model_bytes, saved.signature, validation=rows)
    with local.start_run(experiment="job") as run, platform.db.session() as session:
        stored = registry.store_saved_model(platform, session, run.id, job_saved)
    stored_meta = local.transport.call("tracking.get_artifact", run_id=run.id, path=MODEL_META)
    meta = orjson.loads(stored_meta)
    assert meta["validation"] == {
        "path": VALIDATION_ARTIFACT,
        "digest": stored[VALIDATION_ARTIFACT].digest,
        "rows": 50,
        "split": "holdout",
    }
    assert local.models.register("job-model", run.id).digest == meta["digest"]


def test_an_mlflow_directory_without_a_pickle_names_log_model(local: Client) -> None:
    with local.start_run(experiment="mlflow") as run:
        local.transport.call(
            "tracking.log_artifact", run_id=run.id, path="model/MLmodel", content=b"flavors: {}\n"
        )
    with pytest.raises(InvalidInput, match="log_model") as refused:
        local.models.register("from-mlflow", run.id)
    assert refused.value.field == "run_id"
