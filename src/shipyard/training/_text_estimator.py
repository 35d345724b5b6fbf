"""``text.SentenceClassifier``: a classifier over one text column on a pretrained encoder.

Two modes on the all-MiniLM-L6-v2 sentence encoder (the ``text`` extra):

- ``frozen``: the encoder is left as is; a linear head is fitted on its sentence
  embeddings (L-BFGS with an L2 penalty ``head_l2``, to convergence).
- ``finetune``: the same head first (so fine-tuning starts from a good classifier),
  then the last ``train_layers`` encoder layers and the head are trained together
  with AdamW at ``learning_rate`` for ``epochs`` passes in batches of ``batch_size``.
  The frozen lower layers' outputs are computed once and reused each pass.

Dropout stays off, batches are of similar length in an order drawn from
``random_state``, and torch uses as many threads as the process may use cores (a job
is pinned to its ``cpus``), so the same data and seed give the same model. It follows
scikit-learn's estimator contract (parameters declared as constraints, so specs and
tuning are checked alike); torch is imported only when it fits.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

from shipyard.errors import InvalidInput

INPUT_FIELD = "features"
_PROBE_ITERATIONS = 300


class SentenceClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Sentence-embedding classifier; see the module docstring for the two modes."""

    shipyard_flavor: ClassVar[str] = "text"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "mode": [StrOptions({"frozen", "finetune"})],
        "train_layers": [Interval(Integral, 1, 6, closed="both")],
        "learning_rate": [Interval(Real, 0.0, 1.0, closed="neither")],
        "epochs": [Interval(Integral, 1, 100, closed="both")],
        "batch_size": [Interval(Integral, 1, 1024, closed="both")],
        "max_seq_length": [Interval(Integral, 8, 512, closed="both")],
        "head_l2": [Interval(Real, 0.0, None, closed="left")],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both"), None],
    }

    def __init__(
        self,
        mode: str = "frozen",
        train_layers: int = 2,
        learning_rate: float = 2e-5,
        epochs: int = 1,
        batch_size: int = 16,
        max_seq_length: int = 128,
        head_l2: float = 1e-3,
        random_state: int | None = None,
    ) -> None:
        self.mode = mode
        self.train_layers = train_layers
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.head_l2 = head_l2
        self.random_state = random_state

    def fit(self, X: pd.DataFrame | np.ndarray, y: np.ndarray) -> SentenceClassifier:
        import torch

        from shipyard.flavors._text import TextClassifierNet
        from shipyard.flavors._text_encoder import Tokens, load_encoder

        self._validate_params()
        texts = _texts(X)
        self.classes_, targets = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise InvalidInput("a text classifier needs at least two classes", field="target")
        torch.set_num_threads(_cores())
        torch.manual_seed(self.random_state or 0)
        tokens = Tokens(self.max_seq_length)
        net = TextClassifierNet(load_encoder(), len(self.classes_))
        net.eval()  # no dropout: the same data and seed give the same model
        for parameter in net.parameters():
            parameter.requires_grad_(False)
        layers = len(net.encoder.layers)
        start = layers - self.train_layers if self.mode == "finetune" else layers
        batches = _batches(tokens, texts, self.batch_size)
        with torch.inference_mode():
            hidden = [
                net.encoder.run(net.encoder.embed(ids), mask, 0, start) for _, ids, mask in batches
            ]
            embeddings = torch.empty(len(texts), net.encoder.width)
            for (rows, _, mask), states in zip(batches, hidden, strict=True):
                pooled = net.encoder.pool(net.encoder.run(states, mask, start, layers), mask)
                embeddings[torch.from_numpy(rows)] = pooled
        labels = torch.from_numpy(targets.astype(np.int64))
        _fit_head(net.head, embeddings.clone(), labels, self.head_l2)
        if start < layers:
            hidden = [h.clone() for h in hidden]
            self._finetune(net, batches, hidden, labels, start)
        self.net_, self.tokens_ = net, tokens
        self.trained_layers_ = list(range(start, layers))
        return self

    def _finetune(
        self, net: Any, batches: list[Any], hidden: list[Any], labels: Any, start: int
    ) -> None:
        import torch

        trained = [p for layer in net.encoder.layers[start:] for p in layer.parameters()]
        trained += list(net.head.parameters())
        for parameter in trained:
            parameter.requires_grad_(True)
        optimizer = torch.optim.AdamW(trained, lr=self.learning_rate, weight_decay=0.01)
        order = np.random.default_rng(self.random_state)
        end = len(net.encoder.layers)
        for _ in range(self.epochs):
            for b in order.permutation(len(batches)):
                rows, _, mask = batches[b]
                states = net.encoder.run(hidden[b], mask, start, end)
                logits = net.head(net.encoder.pool(states, mask))
                loss = torch.nn.functional.cross_entropy(logits, labels[torch.from_numpy(rows)])
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
        for parameter in trained:
            parameter.requires_grad_(False)

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        from shipyard.flavors._text import probabilities

        return probabilities(self.net_, self.tokens_, _texts(X))

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


def _texts(X: pd.DataFrame | np.ndarray) -> list[str]:
    values = X.to_numpy(dtype=object) if isinstance(X, pd.DataFrame) else np.asarray(X, object)
    if values.ndim != 2 or values.shape[1] != 1:
        raise InvalidInput(
            "text.SentenceClassifier reads exactly one text column; name it in features:",
            field=INPUT_FIELD,
        )
    return [v if isinstance(v, str) else "" for v in values[:, 0]]


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity is not None else os.cpu_count() or 1)


def _batches(tokens: Any, texts: list[str], size: int) -> list[tuple[np.ndarray, Any, Any]]:
    from shipyard.flavors._text_encoder import length_batches

    found = []
    for rows in length_batches(tokens.lengths(texts), size):
        ids, mask = tokens([texts[i] for i in rows])
        found.append((rows, ids, mask))
    return found


def _fit_head(head: Any, embeddings: Any, labels: Any, l2: float) -> None:
    """A multinomial logistic regression on the embeddings, by L-BFGS."""
    import torch

    for parameter in head.parameters():
        parameter.requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        head.parameters(), max_iter=_PROBE_ITERATIONS, line_search_fn="strong_wolfe"
    )

    def closure() -> Any:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(embeddings), labels)
        loss = loss + l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)  # type: ignore[no-untyped-call]
    for parameter in head.parameters():
        parameter.requires_grad_(False)
