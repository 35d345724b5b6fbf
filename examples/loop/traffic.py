"""Send breast-cancer rows to the quickstart's endpoint, as the old or the recalibrated device
reads them, a few requests a second.

    python examples/loop/traffic.py --key sy_... --minutes 2                  # as trained
    python examples/loop/traffic.py --key sy_... --minutes 3 --recalibrated   # drifted
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
from recalibrated import recalibrate

from shipyard.cli._quickstart import write_breast_cancer_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", required=True, help="a key that may invoke the endpoint")
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--recalibrated", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        frame = pd.read_csv(write_breast_cancer_csv(Path(scratch) / "bc.csv"))
    rows = frame.drop(columns=["diagnosis"])
    if args.recalibrated:
        rows = recalibrate(rows)
    headers = {"Authorization": f"Bearer {args.key}"}
    sent, versions = 0, set()
    deadline = time.monotonic() + args.minutes * 60
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as http:
        while time.monotonic() < deadline:
            batch = rows.sample(10, random_state=sent)
            body = {"dataframe_split": batch.to_dict(orient="split", index=False)}
            response = http.post("/invocations", json=body)
            response.raise_for_status()
            versions.add(response.headers.get("x-shipyard-model-version"))
            sent += 1
            time.sleep(0.2)
    print(f"sent {sent} requests of 10 rows; answered by version(s) {sorted(versions)}")


if __name__ == "__main__":
    main()
