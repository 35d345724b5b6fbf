"""What a gated ingest does with a version that fails its contract: plain words, no
pydantic, as the CLI's options take them."""

from __future__ import annotations

from typing import Literal

OnFail = Literal["reject", "quarantine", "warn"]
