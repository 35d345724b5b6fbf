"""How large a summary's sketches may grow: accuracy against memory and serialized size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SummaryOptions:
    """Sketch sizes of a summary.

    - ``quantile_k``: KLL accuracy; rank error about ``2 / quantile_k`` of the count.
    - ``exact_values``: values held as they are (exact quantiles) before the first compaction.
    - ``distinct_k``: distinct counts are exact below it, then within about ``1/sqrt(k)``.
    - ``top_cap``: categorical counts are exact while at most this many distinct values.

    ``PROFILE`` (in memory, for dataset profiles) and ``COMPACT`` (stored with streams and
    monitor windows: a few tens of kilobytes per column at most) are the two presets.
    """

    quantile_k: int = 2048
    exact_values: int = 100_000
    distinct_k: int = 16_384
    top_cap: int = 100_000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILE = SummaryOptions()
COMPACT = SummaryOptions(quantile_k=512, exact_values=512, distinct_k=1024, top_cap=1000)
