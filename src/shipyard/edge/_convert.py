"""Converting a loaded model to ONNX: skl2onnx for scikit-learn, onnxmltools for boosters.

scikit-learn models are tried in double precision first (exact parity for
linear models and trees) and in single precision when a step has no double
kernel; LightGBM and XGBoost converters only take single precision.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature

if TYPE_CHECKING:
    import onnx

_DOUBLE_OPSET = {"": 17, "ai.onnx.ml": 3}
_FLOAT_OPSET = {"": 17, "ai.onnx.ml": 3}
_BOOSTER_OPSET = 15


@dataclass(frozen=True)
class Converted:
    """One ONNX form of a model and the float type its numeric inputs take."""

    model: onnx.ModelProto
    precision: str


def convert(
    model: Any, flavor: str, signature: ModelSignature, *, float32_only: bool = False
) -> list[Converted]:
    """Every ONNX form worth checking, most precise first; InvalidInput naming what cannot be."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if flavor == "sklearn":
            precisions = ("float32",) if float32_only else ("float64", "float32")
            return _sklearn(model, signature, precisions)
        if flavor in ("lightgbm", "xgboost"):
            return [_booster(model, flavor, signature)]
    raise InvalidInput(f"models of flavor {flavor!r} cannot be exported to ONNX", field="model")


def _sklearn(model: Any, signature: ModelSignature, precisions: tuple[str, ...]) -> list[Converted]:
    import skl2onnx

    forms: list[Converted] = []
    failure: Exception | None = None
    for precision in precisions:
        opset = _DOUBLE_OPSET if precision == "float64" else _FLOAT_OPSET
        try:
            converted = skl2onnx.convert_sklearn(
                model,
                initial_types=_initial_types(signature, precision),
                options=_no_zipmap(model),
                target_opset=opset,
            )
        except Exception as exc:  # skl2onnx raises many types for what it cannot convert
            failure = failure or exc
            continue
        forms.append(Converted(converted, precision))
    if not forms:
        assert failure is not None
        raise _unsupported(model, signature, failure)
    return forms


def _initial_types(signature: ModelSignature, precision: str) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    numeric = DoubleTensorType if precision == "float64" else FloatTensorType
    if signature.all_numeric:
        return [("input", numeric([None, len(signature.inputs)]))]
    return [
        (c.name, StringTensorType([None, 1]) if c.type == "string" else numeric([None, 1]))
        for c in signature.inputs
    ]


def _final(model: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def _no_zipmap(model: Any) -> dict[int, dict[str, Any]]:
    final = _final(model)
    return {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else {}


def _unsupported(model: Any, signature: ModelSignature, error: Exception) -> InvalidInput:
    """Name the first pipeline step ONNX cannot convert, by converting growing prefixes."""
    import skl2onnx
    from sklearn.pipeline import Pipeline

    reason = _short(error)
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        return InvalidInput(f"ONNX cannot convert {type(model).__name__}: {reason}", field="model")
    for end in range(1, len(model.steps) + 1):
        name, step = model.steps[end - 1]
        prefix = Pipeline(model.steps[:end]) if end < len(model.steps) else model
        try:
            skl2onnx.convert_sklearn(
                prefix,
                initial_types=_initial_types(signature, "float32"),
                options=_no_zipmap(prefix) if end == len(model.steps) else {},
                target_opset=_FLOAT_OPSET,
            )
        except Exception as exc:  # the first prefix that fails ends with the culprit
            return InvalidInput(
                f"ONNX cannot convert pipeline step {name!r} ({type(step).__name__}): "
                f"{_short(exc)}",
                field="model",
            )
    return InvalidInput(f"ONNX cannot convert the pipeline: {reason}", field="model")


def _short(error: Exception) -> str:
    text = " ".join(str(error).split()).split(" and attributes=")[0]
    return f"{type(error).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}"


def _booster(model: Any, flavor: str, signature: ModelSignature) -> Converted:
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    if not signature.all_numeric:
        strings = [c.name for c in signature.inputs if c.type == "string"]
        raise InvalidInput(
            f"ONNX cannot convert a {flavor} model with categorical string inputs {strings}; "
            "only numeric inputs are supported",
            field="model",
        )
    types = [("input", FloatTensorType([None, len(signature.inputs)]))]
    converter: Callable[..., onnx.ModelProto]
    options: dict[str, Any] = {"initial_types": types, "target_opset": _BOOSTER_OPSET}
    if flavor == "lightgbm":
        converter, options["zipmap"] = onnxmltools.convert_lightgbm, False
    else:
        converter = onnxmltools.convert_xgboost
    try:
        return Converted(converter(model, **options), "float32")
    except Exception as exc:  # converters raise many types for unsupported structures
        raise InvalidInput(
            f"ONNX cannot convert the {flavor} {type(model).__name__}: {_short(exc)}",
            field="model",
        ) from None
