"""A small PyTorch classifier whose source file is registered with the model (a fixture)."""

from __future__ import annotations

import torch


class TinyNet(torch.nn.Module):
    """Two linear layers; ``width`` inputs, ``classes`` logits."""

    def __init__(self, width: int = 4, classes: int = 2) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(width, 8)
        self.out = torch.nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))  # type: ignore[no-any-return]
