"""Following a worker job from the SDK: poll its log until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable

from shipyard.errors import JobFailed
from shipyard.schemas.jobs import FINAL_STATUSES, LogChunk

_FIRST_POLL = 0.01


def follow_log(
    read: Callable[[int], LogChunk],
    what: str,
    *,
    on_log: Callable[[str], None] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    poll_seconds: float = 0.2,
    timeout: float | None = None,
) -> None:
    """Stream ``read(offset)`` chunks to the callbacks until the job ends and its log is drained."""
    offset, delay = 0, _FIRST_POLL
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        chunk = read(offset)
        offset = chunk.next_offset
        if chunk.text and on_log:
            on_log(chunk.text)
        if on_progress:
            on_progress(chunk.progress, chunk.message)
        if chunk.status in FINAL_STATUSES and not chunk.text:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise JobFailed(f"{what} did not finish within {timeout} s")
        if chunk.text:  # the job is talking: look again soon
            delay = _FIRST_POLL
        else:  # quiet: back off to poll_seconds, so a short job's end is seen within ms
            time.sleep(min(delay, poll_seconds))
            delay *= 2
