"""The rollout worker: ``python -m shipyard.deploy._worker ID`` with settings on stdin.

It ticks one deployment until it ends; its stdout, one line per history entry,
is the deployment's log. If it dies, the deployment stays resumable.
"""

from __future__ import annotations

import sys
import time

from shipyard.config import Settings
from shipyard.deploy._controller import advance
from shipyard.platform import Platform
from shipyard.schemas.deploy import TICK_SECONDS


def drive(platform: Platform, deployment_id: str) -> str:
    """Tick until the rollout ends; returns its final status."""
    seen = 0
    while True:
        info = advance(platform, deployment_id)
        for entry in info.history[seen:]:
            print(f"{entry.time:%H:%M:%S} {entry.event}: {entry.note}", flush=True)
        seen = len(info.history)
        if info.done:
            return info.status
        time.sleep(TICK_SECONDS)


def main(argv: list[str]) -> int:
    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    platform = Platform.open(settings, migrate=False)
    try:
        status = drive(platform, argv[1])
    finally:
        platform.close()
    print(f"deployment {argv[1]} {status}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
