"""The pytorch flavor: weights as safetensors, the architecture from registered code.

A PyTorch model is a bundle: the ``nn.Module`` class comes from code files registered
with the model (so it needs ``registry:RegisterCode``), built with JSON keyword
arguments, and its state dict is read from ``weights.safetensors`` with
``strict=True``. No ``torch.load``, so no pickle. Rows go in as one float32 matrix in
signature order; classifiers' outputs are logits (softmaxed here) or probabilities.
torch is imported only when such a model loads.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from shipyard.errors import IntegrityError, PredictionFailed
from shipyard.flavors._arrays import as_matrix, class_array, to_prediction
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._bundle import CodeGrant, Fetch, open_bundle
from shipyard.flavors._code import import_entry
from shipyard.flavors._safe_files import check_safetensors

FLAVOR = "pytorch"
WEIGHTS = "weights.safetensors"
Outputs = Literal["logits", "probabilities", "values"]


def load_pytorch(
    data: bytes, signature: ModelSignature, fetch: Fetch | None, code: CodeGrant | None
) -> TorchPredictor:
    """Build the registered module class and load its safetensors weights into it."""
    import torch
    from safetensors.torch import load as load_tensors

    bundle = open_bundle(data, fetch, code)
    weights = bundle.artifacts.get(WEIGHTS)
    if weights is None:
        raise IntegrityError(f"the pytorch model has no {WEIGHTS}")
    check_safetensors(weights, WEIGHTS)
    options = bundle.manifest.options
    init = options.get("init", {})
    outputs = options.get("outputs", "logits" if signature.task == "classification" else "values")
    if not isinstance(init, dict) or outputs not in ("logits", "probabilities", "values"):
        raise IntegrityError("the pytorch model's options need an 'init' object and 'outputs'")
    cls = import_entry(bundle)
    try:
        module = cls(**init)
        if not isinstance(module, torch.nn.Module):
            raise IntegrityError(f"{bundle.manifest.entry} is not a torch.nn.Module")
        module.load_state_dict(load_tensors(weights), strict=True)
    except IntegrityError:
        raise
    except Exception as error:
        raise IntegrityError(
            f"the pytorch weights do not fit {bundle.manifest.entry}: {error}"
        ) from None
    module.eval()
    return TorchPredictor(module, signature, outputs)


class TorchPredictor(Predictor):
    """Runs the module without gradients on a float32 matrix of the signature's columns."""

    flavor: ClassVar[str] = FLAVOR

    def __init__(self, model: Any, signature: ModelSignature, outputs: Outputs) -> None:
        super().__init__(model, signature)
        self._outputs = outputs
        self._classes = class_array(signature)

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        import torch

        x = torch.from_numpy(as_matrix(features, self.signature).astype(np.float32))
        try:
            with torch.no_grad():
                output = self.model(x)
                if self._outputs == "logits":
                    output = torch.softmax(output, dim=1)
        except Exception as error:
            raise PredictionFailed(
                f"the model's forward failed: {type(error).__name__}: {error}"
            ) from None
        values = output.detach().numpy().astype(np.float64)
        width = len(self._classes) if self._classes is not None else None
        if width is not None and (values.ndim != 2 or values.shape[1] != width):
            raise PredictionFailed(
                f"the model returned outputs of shape {values.shape} for {width} classes"
            )
        return to_prediction(values, self._classes)
