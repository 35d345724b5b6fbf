"""Governance: model cards made from the platform's records."""

from shipyard.governance._cards import model_card
from shipyard.schemas.cards import ModelCard

__all__ = ["ModelCard", "model_card"]
