"""The one worker entry of every job: ``python -m shipyard.jobs._main JOB_ID MODULE:FUNCTION``.

It owns what every kind shares: the job's lock (liveness), its status from pending to an
end, its limits and watchdog, retries of retryable failures (each attempt counted), the
resource record, failures and the exit code. The kind's function does the work. Spawned
helper processes import this module again, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from shipyard.jobs._worker_main import main

    raise SystemExit(main(sys.argv))
