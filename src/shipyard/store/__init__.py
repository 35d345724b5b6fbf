"""Storage layer: metadata, content-addressed blobs, and per-process scratch space."""

from shipyard.store._scratch import process_scratch, sweep_scratch

__all__ = ["process_scratch", "sweep_scratch"]
