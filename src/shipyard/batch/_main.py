"""Kept for scripts that start a batch job by hand: ``python -m shipyard.batch._main JOB_ID``.

Jobs run under the one worker entry, ``shipyard.jobs._main``; this forwards to it.
"""

import sys

if __name__ == "__main__":
    from shipyard.jobs._worker_main import main

    raise SystemExit(main([sys.argv[0], sys.argv[1], "shipyard.batch._runner:run"]))
