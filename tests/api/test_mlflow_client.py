"""The official ``mlflow`` client, unchanged, logs into Shipyard's control plane.

It runs in its own virtualenv (tests/fixtures/mlflow_client_env.py) as a subprocess
against a live server on 127.0.0.1, with a Shipyard key as ``MLFLOW_TRACKING_TOKEN``.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import booster, signature
from tests.fixtures.mlflow_client_env import ensure_mlflow_client

from shipyard.flavors import save_model
from shipyard.platform import Platform
from shipyard.registry import get_model_version
from shipyard.security import context_for, create_api_key, create_principal
from shipyard.tracking import get_run

SCRIPT = Path(__file__).with_name("mlflow_client_script.py")
MLMODEL = "artifact_path: model\nflavors:\n  {flavor}\n"


@pytest.fixture(scope="module")
def mlflow_python() -> Path:
    return ensure_mlflow_client()


def _model_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A Shipyard-safe model folder (model.bin, meta.json) and an MLflow pickle one."""
    safe, pickled = tmp_path / "safe-model", tmp_path / "pickle-model"
    safe.mkdir()
    pickled.mkdir()
    flavor, data = save_model(booster(3))
    (safe / "model.bin").write_bytes(data)
    meta = {"flavor": flavor, "signature": signature().model_dump(mode="json")}
    (safe / "meta.json").write_bytes(orjson.dumps(meta))
    (safe / "MLmodel").write_text(MLMODEL.format(flavor="shipyard: {}"))
    (pickled / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (pickled / "MLmodel").write_text(MLMODEL.format(flavor="sklearn: {pickled_model: model.pkl}"))
    return safe, pickled


def _run_client(python: Path, arguments: dict[str, Any]) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}
    done = subprocess.run(
        [str(python), str(SCRIPT)],
        input=json.dumps(arguments),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_mlflow_client_logs_searches_downloads_and_registers(
    platform: Platform, api_server: LiveServer, admin_key: str, mlflow_python: Path, tmp_path: Path
) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "outsider")
    denied_token = create_api_key(admin, "outsider").token
    safe, pickled = _model_dirs(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    out = _run_client(
        mlflow_python,
        {
            "url": api_server.url,
            "token": admin_key,
            "denied_token": denied_token,
            "work": str(work),
            "model_dir": str(safe),
            "pickle_dir": str(pickled),
        },
    )

    experiment_id = out["experiment_id"]
    assert experiment_id.isdigit() and experiment_id != "0"
    assert out["duplicate_experiment"]["code"] == "RESOURCE_ALREADY_EXISTS"
    assert out["experiment_by_id"] == "mlflow-client"
    parent = out["parent"]
    assert parent["status"] == "FINISHED"
    assert parent["name"] == "parent"
    assert parent["experiment_id"] == experiment_id
    assert parent["params"] == {"alpha": "0.5", "depth": "3", "batch": "yes"}
    assert parent["metrics"] == {"loss": 0.25, "auc": pytest.approx(0.8)}
    assert parent["tags"]["team"] == "a" and parent["tags"]["stage"] == "dev"
    assert "scratch" not in parent["tags"]
    assert parent["artifact_uri"].startswith(f"mlflow-artifacts:/{experiment_id}/")
    assert out["history"] == [[i, pytest.approx(0.5 + 0.1 * i)] for i in range(4)]
    assert len(out["search"]) == 2  # the child, then its parent: newest first
    assert out["search"][-1] == out["child_parent_tag"]
    assert out["pages"] == [out["search"][:1], out["search"][1:2]]
    assert out["filtered"] == [out["child_parent_tag"]]  # MLflow's filter grammar, in SQL
    assert out["children"] == out["search"][:1]
    assert out["bad_filter"]["code"] == "INVALID_PARAMETER_VALUE"
    assert "filter" in out["bad_filter"]["message"]
    assert out["listed"] == ["model", "notes.txt", "outputs"]
    assert out["listed_outputs"] == [["outputs/a.csv", False], ["outputs/sub", True]]
    assert out["downloaded"] == ["a.csv", "sub/b.json"]
    assert out["downloaded_b"] == '{"b": 1}'
    assert out["notes"] == "hello shipyard"

    registered = out["registered"]
    assert registered["version"] == "1" and registered["status"] == "READY"
    assert registered["alias_version"] == "1" and registered["aliases"] == {"champion": "1"}
    assert registered["latest"] == registered["searched"] == ["1"]
    shipyard_version = get_model_version(admin, "mlflow-model@champion")
    assert shipyard_version.flavor == "lightgbm" and shipyard_version.version == 1
    assert get_run(admin, shipyard_version.run_id).experiment == "mlflow-client"

    assert sorted(out["pickled_listed"]) == ["model/MLmodel", "model/model.pkl"]
    # stored, but the registry refuses it: its message reaches the client, no version is made
    assert out["pickled"]["code"] == "INVALID_PARAMETER_VALUE"
    assert "pickle-based" in out["pickled"]["message"]
    assert "log_model" in out["pickled"]["message"] and "ONNX" in out["pickled"]["message"]
    assert out["pickled_versions"] == []

    for flavor, model_file in (
        ("sklearn", "model/model.pkl"),
        ("lightgbm", "model/model.pkl"),
        ("sklearn_skops", "model/model.skops"),
    ):
        logged = out[flavor]
        run_id = logged["run_id"]
        assert logged["model_id"].startswith(f"m-{run_id}-")
        assert logged["status"] == "READY" and logged["source_run_id"] == run_id
        assert (
            logged["artifact_location"]
            == f"mlflow-artifacts:/{experiment_id}/models/{logged['model_id']}/artifacts"
        )
        assert logged["outputs"] == [logged["model_id"]]
        # log_model sends the run's metric again for the model: no second point
        assert logged["metric_history"] == 1
        assert model_file in logged["listed"] and "model/MLmodel" in logged["listed"]
        assert len(logged["listed"]) == len(set(logged["listed"]))  # once, as the model's
        assert {"MLmodel", model_file.removeprefix("model/")} <= set(logged["downloaded"])
        assert logged["searched"][0] == logged["model_id"]  # newest first
        # stored, but refused for serving by either URI, naming the safe alternatives
        for refused in (logged["by_id"], logged["by_run"]):
            assert refused["code"] == "INVALID_PARAMETER_VALUE", refused
            assert ("pickle" in refused["message"]) == model_file.endswith(".pkl")
            assert "cannot be registered" in refused["message"]
            assert "log_model" in refused["message"] and "ONNX" in refused["message"]
        assert logged["versions"] == []
        assert model_file in {a.path for a in get_run(admin, run_id).artifacts}
    assert out["outside_run"]["code"] == "INVALID_PARAMETER_VALUE"
    assert "start_run" in out["outside_run"]["message"]
    assert out["denied_logged_model"]["code"] == "PERMISSION_DENIED"

    # runs/delete is MLflow's soft delete: hidden from search, restorable
    doomed = out["restored"]["run_id"]
    assert out["deleted"] == {"stage": "deleted", "active": 0, "deleted": [doomed]}
    assert out["restored"]["stage"] == "active" and out["restored"]["active"] == 1
    assert not get_run(admin, doomed).deleted

    assert out["denied_get"]["code"] == "PERMISSION_DENIED"
    assert out["denied_get"]["status"] == 403
    assert out["denied_create"]["status"] == 403
    assert out["anonymous"]["code"] == "UNAUTHENTICATED"
