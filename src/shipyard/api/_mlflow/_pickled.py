"""Refusing to register a model the MLflow client stored in a pickle-based format.

MLflow's default flavors (``mlflow.sklearn`` with cloudpickle, PyTorch) save models with
pickle, cloudpickle or joblib: their files are kept as run artifacts, but loading them runs
arbitrary code, so Shipyard never registers or serves them. The wording is the registry's
one refusal (``shipyard.flavors.PICKLE_ALTERNATIVE``), answered in MLflow's error document.
"""

from __future__ import annotations

from shipyard.errors import InvalidInput, UnsafeArtifact
from shipyard.flavors import PICKLE_ALTERNATIVE, PICKLE_SUFFIXES


def pickled_files(paths: list[str], folder: str) -> list[str]:
    """The files under ``folder/`` whose format loads through pickle."""
    prefix = f"{folder.strip('/')}/"
    return sorted(p for p in paths if p.startswith(prefix) and p.lower().endswith(PICKLE_SUFFIXES))


def pickle_refusal(run_id: str, folder: str, pickled: list[str]) -> UnsafeArtifact:
    """A pickle-based MLflow model: stored as the run's artifacts, never registered."""
    return UnsafeArtifact(
        f"the model in {folder!r} of run {run_id} ({', '.join(pickled[:3])}) is pickle-based, "
        "so it cannot be registered or served (it stays stored as the run's artifacts): "
        f"{PICKLE_ALTERNATIVE}",
        field="source",
    )


def mlflow_format_refusal(run_id: str, folder: str) -> InvalidInput:
    """An MLflow-format model in no pickle (skops, LightGBM's text): stored, not served."""
    return InvalidInput(
        f"the model in {folder!r} of run {run_id} is in MLflow's format (an MLmodel file), "
        "which Shipyard's registry does not read, so it cannot be registered or served. It "
        "stays stored as the run's artifacts. Log the model with Shipyard's client.log_model "
        "or export it to ONNX and log that",
        field="source",
    )
