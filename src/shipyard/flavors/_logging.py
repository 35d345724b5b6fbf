"""Serializing any supported model on the client, in a safe format, for ``log_model``.

scikit-learn estimators and Pipelines go to skops (trusted types only), LightGBM and
XGBoost to their native formats, ONNX as is (a ModelProto or bytes from any framework),
PyTorch modules to safetensors weights plus their class's source (a code model, so
registering it needs ``registry:RegisterCode``) or, with ``export="onnx"``, through
``torch.onnx.export`` to plain ONNX. ``CodeModel`` is a class with ``load(artifacts)``
and ``predict(table)`` plus its source files and safe artifacts.
"""

from __future__ import annotations

import inspect
import io
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ModelSignature, Task
from shipyard.flavors._bundle import build_manifest, check_code_path, parse_manifest
from shipyard.flavors._infer import build_signature, example_frame
from shipyard.flavors._layout import ARTIFACTS_PREFIX, CODE_PREFIX, SavedModel
from shipyard.flavors._safe_files import check_safe_artifact

ArtifactSource = bytes | str | os.PathLike[str] | np.ndarray | Mapping[str, Any]


@dataclass(frozen=True)
class CodeModel:
    """A model written as code: ``entry`` (``module:Class``) names a class in ``code`` with
    ``load(artifacts)`` and ``predict(table)``; ``code`` maps module paths (``net.py``,
    ``pkg/layers.py``) to source, or is a list of files or one directory to read;
    ``artifacts`` maps file names to bytes, a path, a numpy array (stored as ``.npy``) or a
    JSON-able dict. Modules import each other relatively (``from . import layers``)."""

    entry: str
    code: Mapping[str, str | bytes] | Sequence[str | os.PathLike[str]] | str | os.PathLike[str]
    artifacts: Mapping[str, ArtifactSource] = field(default_factory=dict)


def save_for_logging(
    model: Any,
    *,
    input_example: Any = None,
    signature: ModelSignature | dict[str, Any] | None = None,
    task: Task | None = None,
    classes: Sequence[Any] | None = None,
    target: str = "target",
    init: Mapping[str, Any] | None = None,
    outputs: str | None = None,
    export: str | None = None,
) -> SavedModel:
    """``model`` serialized in its flavor's safe format with its signature."""
    if export not in (None, "onnx"):
        raise InvalidInput("must be None or 'onnx'", field="export")
    if _is_torch_module(model):
        signature = _signature(model, input_example, signature, task, classes, target)
        if export != "onnx":
            return _torch_bundle(model, signature, init or {}, outputs)
        model = _torch_to_onnx(model, signature)
    sig = _signature(model, input_example, signature, task, classes, target)
    if isinstance(model, CodeModel):
        code = _read_code(model.code)
        artifacts = {name: _artifact_bytes(name, v) for name, v in model.artifacts.items()}
        return _bundle("code", model.entry, code, artifacts, sig, {})
    from shipyard.flavors._formats import load_predictor, save_model

    if isinstance(model, bytes) or type(model).__module__.startswith("onnx"):
        from shipyard.flavors._onnx import dump_onnx

        flavor, data = "onnx", model if isinstance(model, bytes) else dump_onnx(model)
    else:
        flavor, data = save_model(model)
    from shipyard.flavors._artifact import artifact_digest

    predictor = load_predictor(flavor, data, sig, expected_digest=artifact_digest(data))
    if input_example is not None:
        predictor.predict(example_frame(input_example, sig))
    return SavedModel(flavor, data, sig)


def _signature(
    model: Any,
    input_example: Any,
    signature: ModelSignature | dict[str, Any] | None,
    task: Task | None,
    classes: Sequence[Any] | None,
    target: str,
) -> ModelSignature:
    return build_signature(
        model,
        input_example=input_example,
        signature=signature,
        task=task,
        classes=classes,
        target=target,
    )


def _bundle(
    flavor: str,
    entry: str,
    code: Mapping[str, bytes],
    artifacts: Mapping[str, bytes],
    signature: ModelSignature,
    options: Mapping[str, Any],
) -> SavedModel:
    for name, data in artifacts.items():
        check_safe_artifact(name, data)
    try:
        manifest = build_manifest(entry, code, artifacts, options)
    except ValueError as error:  # pydantic names the manifest field that is wrong
        raise InvalidInput(f"cannot build the model: {error}", field="model") from None
    files = {CODE_PREFIX + path: data for path, data in code.items()}
    files |= {ARTIFACTS_PREFIX + name: data for name, data in artifacts.items()}
    digest = parse_manifest(manifest).code_digest
    return SavedModel(flavor, manifest, signature, files, code_digest=digest)


def _read_code(
    code: Mapping[str, str | bytes] | Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
) -> dict[str, bytes]:
    if isinstance(code, Mapping):
        sources = {str(p): s.encode() if isinstance(s, str) else bytes(s) for p, s in code.items()}
    elif isinstance(code, (str, os.PathLike)) and Path(code).is_dir():
        root = Path(code)
        sources = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.py")}
    else:
        paths = [code] if isinstance(code, (str, os.PathLike)) else list(code)
        sources = {Path(p).name: Path(p).read_bytes() for p in paths}
    if not sources:
        raise InvalidInput("a code model needs at least one source file", field="code")
    for path in sources:
        check_code_path(path)
    return sources


def _artifact_bytes(name: str, value: ArtifactSource) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return buffer.getvalue()
    if isinstance(value, Mapping):
        import orjson

        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    return Path(value).read_bytes()


def _is_torch_module(model: Any) -> bool:
    """True for a torch module; torch is never imported here unless the caller already did."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _torch_bundle(
    module: Any, signature: ModelSignature, init: Mapping[str, Any], outputs: str | None
) -> SavedModel:
    """Weights as safetensors, the class from its source file (a code model)."""
    from safetensors.torch import save as save_tensors

    cls = type(module)
    source = inspect.getsourcefile(cls)
    if source is None or cls.__module__ == "__main__":
        raise InvalidInput(
            f"{cls.__name__} must be defined in a module file (not a notebook cell or "
            "__main__) so its source can be registered; or log it with export='onnx'",
            field="model",
        )
    stem = cls.__module__.rsplit(".", 1)[-1]
    state = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    options: dict[str, Any] = {"init": dict(init)}
    if outputs is not None:
        options["outputs"] = outputs
    weights = save_tensors(state)
    code = {f"{stem}.py": Path(source).read_bytes()}
    entry = f"{stem}:{cls.__name__}"
    return _bundle("pytorch", entry, code, {"weights.safetensors": weights}, signature, options)


def _torch_to_onnx(module: Any, sig: ModelSignature) -> bytes:
    """``torch.onnx.export`` of the module (softmax appended to a classifier's logits)."""
    import torch

    wrapped = torch.nn.Sequential(module, torch.nn.Softmax(dim=1)) if sig.classes else module
    wrapped.eval()
    example = torch.zeros((1, len(sig.inputs)), dtype=torch.float32)
    output = "probabilities" if sig.classes else "variable"
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (example,),
            buffer,  # type: ignore[arg-type]  # a file object works (documented)
            input_names=["input"],
            output_names=[output],
            dynamic_axes={"input": {0: "rows"}, output: {0: "rows"}},
            dynamo=False,
        )
    return buffer.getvalue()
