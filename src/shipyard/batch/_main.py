"""Entry point of a batch job process: ``python -m shipyard.batch._main JOB_ID``.

Spawned scoring workers import the main module again, so this one imports
nothing heavy at module level: workers pay only for what scoring needs.
"""

import sys

if __name__ == "__main__":
    from shipyard.batch._runner import main

    raise SystemExit(main(sys.argv))
