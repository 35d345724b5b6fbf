"""The text flavor: a sentence classifier on the pretrained all-MiniLM-L6-v2 encoder.

A text model is one safetensors file: the classifier head and, for a fine-tuned model,
the encoder layers training changed. The untouched base weights are not copied into
every version (the full encoder is 91 MB, two changed layers 14 MB, a head under 7 KB); the
file's metadata names the base encoder and the digest of its weights, and loading
refuses a model whose base is not the installed one. It is Shipyard's own code (no
user code, no pickle): the encoder is built from the installed package, then the stored
tensors are loaded over it, each name and shape checked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from shipyard.errors import IntegrityError, PredictionFailed
from shipyard.flavors._arrays import class_array, to_prediction
from shipyard.flavors._artifact import looks_like_pickle, refuse_pickle
from shipyard.flavors._base import ModelSignature, Prediction, Predictor
from shipyard.flavors._safe_files import check_safetensors
from shipyard.flavors._text_encoder import (
    BASE_NAME,
    BASE_PACKAGE,
    SentenceEncoder,
    Tokens,
    base_encoder,
    length_batches,
    load_encoder,
)

FLAVOR = "text"
FORMAT = "shipyard.text/1"
PREDICT_BATCH = 64


class TextClassifierNet(nn.Module):
    """The encoder's sentence embedding, then one linear layer to class logits."""

    def __init__(self, encoder: SentenceEncoder, classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.width, classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.encoder(ids, mask))
        return logits


def probabilities(
    net: TextClassifierNet, tokens: Tokens, texts: Sequence[str], batch_size: int = PREDICT_BATCH
) -> np.ndarray:
    """Class probabilities for ``texts``, in batches of similar length, without gradients."""
    out = np.empty((len(texts), net.head.out_features), dtype=np.float64)
    net.eval()
    with torch.inference_mode():
        for rows in length_batches(tokens.lengths(texts), batch_size):
            ids, mask = tokens([texts[i] for i in rows])
            out[rows] = torch.softmax(net(ids, mask), dim=1).double().numpy()
    return out


def text_values(features: np.ndarray | pd.DataFrame, signature: ModelSignature) -> list[str]:
    """The text column as strings, missing values as empty text."""
    if isinstance(features, pd.DataFrame):
        column = features[signature.inputs[0].name].to_numpy(dtype=object)
    else:
        column = np.asarray(features, dtype=object).reshape(len(features), -1)[:, 0]
    return [value if isinstance(value, str) else "" for value in column]


def dump_text(
    net: TextClassifierNet, trained_layers: Sequence[int], max_seq_length: int, mode: str
) -> bytes:
    """The head and the trained encoder layers as safetensors, naming the base encoder."""
    from safetensors.torch import save

    state = {f"head.{k}": v for k, v in net.head.state_dict().items()}
    for index in trained_layers:
        for key, value in net.encoder.layers[index].state_dict().items():
            state[f"layers.{index}.{key}"] = value
    base = base_encoder()
    metadata = {
        "format": FORMAT,
        "base": BASE_NAME,
        "base_package": f"{BASE_PACKAGE}=={base.version}",
        "base_digest": base.digest,
        "layers": json.dumps(sorted(trained_layers)),
        "max_seq_length": str(max_seq_length),
        "mode": mode,
    }
    return bytes(save({k: v.detach().contiguous() for k, v in state.items()}, metadata))


def load_text(data: bytes, signature: ModelSignature) -> TextPredictor:
    """Build the base encoder, check the stored tensors fit it, and load them over it."""
    from safetensors.torch import load

    if looks_like_pickle(data):
        raise refuse_pickle("the text model")
    header = check_safetensors(data, "model.bin")
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT:
        raise IntegrityError(f"the text model is not a {FORMAT} file")
    base = base_encoder()
    if metadata.get("base_digest") != base.digest:
        raise IntegrityError(
            f"the text model was trained on {BASE_NAME} weights {metadata.get('base_digest')} "
            f"({metadata.get('base_package')}), but the installed {BASE_PACKAGE} "
            f"{base.version} has {base.digest}; install the version it was trained on"
        )
    if signature.task != "classification" or len(signature.inputs) != 1:
        raise IntegrityError("a text model classifies one text column")
    try:
        layers = [int(i) for i in json.loads(metadata["layers"])]
        max_seq_length = int(metadata["max_seq_length"])
    except (KeyError, ValueError, TypeError) as error:
        raise IntegrityError(f"the text model's metadata is incomplete: {error}") from None
    classes = class_array(signature)
    assert classes is not None
    net = TextClassifierNet(load_encoder(), len(classes))
    expected = {f"head.{k}": v.shape for k, v in net.head.state_dict().items()}
    for index in layers:
        if not 0 <= index < len(net.encoder.layers):
            raise IntegrityError(f"the text model names encoder layer {index}, which has none")
        for key, value in net.encoder.layers[index].state_dict().items():
            expected[f"layers.{index}.{key}"] = value.shape
    stored = load(data)
    shapes = {k: v.shape for k, v in stored.items()}
    if shapes != expected:
        odd = sorted(set(shapes) ^ set(expected)) or [k for k in shapes if shapes[k] != expected[k]]
        raise IntegrityError(f"the text model's tensors do not fit the encoder: {odd[:5]}")
    net.head.load_state_dict({k[5:]: v for k, v in stored.items() if k.startswith("head.")})
    for index in layers:
        prefix = f"layers.{index}."
        net.encoder.layers[index].load_state_dict(
            {k[len(prefix) :]: v for k, v in stored.items() if k.startswith(prefix)}
        )
    net.eval()
    return TextPredictor(net, signature, Tokens(max_seq_length))


class TextPredictor(Predictor):
    """Encodes the text column in batches of similar length and applies the head."""

    flavor: ClassVar[str] = FLAVOR

    def __init__(self, model: Any, signature: ModelSignature, tokens: Tokens) -> None:
        super().__init__(model, signature)
        self.tokens = tokens
        self._classes = class_array(signature)

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        texts = text_values(features, self.signature)
        try:
            output = probabilities(self.model, self.tokens, texts)
        except Exception as error:
            raise PredictionFailed(
                f"the text model failed: {type(error).__name__}: {error}"
            ) from None
        return to_prediction(output, self._classes)
