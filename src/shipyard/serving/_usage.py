"""What this serving worker process uses: CPU seconds between samples and resident memory.

A worker samples itself (every thread of its process; a worker serves one endpoint), so
an endpoint's cost over a period is the sum of its workers' samples in the period.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class UsageSample:
    """CPU seconds spent over ``interval_seconds`` ending at ``time`` (epoch seconds), and
    the resident memory then."""

    time: float
    interval_seconds: float
    cpu_seconds: float
    memory_mb: float


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _resident_mb() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class UsageSampler:
    """Successive samples of this process; the first covers the time since it was made."""

    def __init__(self) -> None:
        self._at = time.monotonic()
        self._cpu = _cpu_seconds()

    def sample(self) -> UsageSample:
        now, cpu = time.monotonic(), _cpu_seconds()
        sample = UsageSample(
            time=time.time(),
            interval_seconds=max(now - self._at, 0.0),
            cpu_seconds=max(cpu - self._cpu, 0.0),
            memory_mb=_resident_mb(),
        )
        self._at, self._cpu = now, cpu
        return sample
