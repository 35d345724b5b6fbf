"""MLflow as the peer: its own virtualenv, the bench model saved as an MLflow model, its server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _servers import RunningServer, free_port, launch

VENV = Path(__file__).with_name(".venv-mlflow")
PACKAGES = ["mlflow>=3,<4", "lightgbm", "scikit-learn", "pandas"]

SAVE_SCRIPT = """
import json, sys
from pathlib import Path

import lightgbm as lgb
import mlflow.lightgbm
import pandas as pd
from mlflow.models import infer_signature

model_dir, out = Path(sys.argv[1]), sys.argv[2]
booster = lgb.Booster(model_str=(model_dir / "model.txt").read_text())
example = pd.read_json(model_dir / "example.json", orient="split")
signature = infer_signature(example, booster.predict(example))
mlflow.lightgbm.save_model(booster, out, signature=signature)
"""


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path = VENV) -> Path:
    """Create the MLflow virtualenv once; later runs reuse it."""
    marker = venv / ".bench-ready"
    if marker.exists():
        return venv
    if not _python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(_python(venv)), "-m", "pip", "install", "--quiet", *PACKAGES]
    subprocess.run(pip, check=True)
    marker.write_text("ok\n")
    return venv


def mlflow_version(venv: Path = VENV) -> str:
    done = subprocess.run(
        [str(_python(venv)), "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def save_model(model_dir: Path, out: Path, venv: Path = VENV) -> Path:
    """Save the bench booster (from its native text) as an MLflow model at ``out``."""
    if not (out / "MLmodel").exists():
        script = model_dir / "save_mlflow_model.py"
        script.write_text(SAVE_SCRIPT)
        subprocess.run([str(_python(venv)), str(script), str(model_dir), str(out)], check=True)
    return out


def start_server(model: Path, workdir: Path, venv: Path = VENV) -> RunningServer:
    """``mlflow models serve --env-manager local`` with one worker on 127.0.0.1."""
    port = free_port()
    command = [
        str(venv / "bin" / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": (workdir / "mlruns").as_uri(),
    }
    return launch("mlflow", command, port, "", workdir / "mlflow-server.log", env=env)
