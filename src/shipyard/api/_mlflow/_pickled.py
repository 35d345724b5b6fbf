"""Refusing to register a model the MLflow client stored in a pickle-based format.

MLflow's default flavors (``mlflow.sklearn``, LightGBM's scikit-learn API, PyTorch) save
models with pickle, cloudpickle or joblib: their files are kept as run artifacts, but
loading them runs arbitrary code, so Shipyard never registers or serves them.
"""

from __future__ import annotations

from shipyard.errors import InvalidInput, UnsafeArtifact

PICKLE_SUFFIXES = (".pkl", ".pickle", ".cloudpickle", ".joblib", ".pt", ".pth")


def pickled_files(paths: list[str], folder: str) -> list[str]:
    """The files under ``folder/`` whose format loads through pickle."""
    prefix = f"{folder.strip('/')}/"
    return sorted(p for p in paths if p.startswith(prefix) and p.lower().endswith(PICKLE_SUFFIXES))


def pickle_refusal(run_id: str, folder: str, pickled: list[str]) -> UnsafeArtifact:
    """The one message a pickle-based MLflow model is refused with, naming the safe ways."""
    return UnsafeArtifact(
        f"the model in {folder!r} of run {run_id} is stored in a pickle-based format "
        f"({', '.join(pickled)}); Shipyard never loads pickles, so it cannot be registered "
        "or served. It stays stored as the run's artifacts. Log the model with Shipyard's "
        "client.log_model (scikit-learn models are saved with skops, LightGBM and XGBoost "
        "in their native formats) or export it to ONNX (skl2onnx, onnxmltools) and log that",
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
