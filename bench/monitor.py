"""Monitor bench: one run over a day of capture, against Evidently and NannyML.

    python bench/monitor.py            # a day at 100 requests/s: 8,640,000 rows x 20 features
    python bench/monitor.py --rows 864000

Shipyard reads the capture as the serving workers wrote it (24 hourly Parquet files
with JSON input and output), flattens it with DuckDB a file at a time, and computes
per-feature drift against the baseline (100k rows), prediction drift, missing and
unseen shares, schema violations, CBPE and attribution drift; its wall time and peak
memory are of that whole run in its own process. Evidently's DataDriftPreset gets the
same window already flat (a Parquet of typed columns, read before its clock starts),
which favours it. NannyML's CBPE and Shipyard's get the same calibrated probabilities;
NannyML fits on the baseline's labelled scores first. Peers run in their own
virtualenvs (bench/.venv-<tool>), installed on first use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _monitor_data import SHIFTED, build
from _peer_env import ensure_venv, run_worker

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_640_000)
    parser.add_argument("--no-peers", action="store_true", help="Shipyard only")
    args = parser.parse_args()
    directory = RESULTS / f"monitor-{args.rows}"
    if not (directory / "window.json").exists():
        build(directory, args.rows)
    ours = run_worker(sys.executable, "_monitor_shipyard.py", str(directory))
    print(
        f"\nMonitor run over {args.rows:,} captured rows x 20 features (shifted: "
        f"{', '.join(sorted(SHIFTED))}), baseline 100,000 rows. Seconds.\n"
    )
    print("| tool | wall | peak MB | drifted | speed-up |")
    print("|---|---|---|---|---|")
    rows = [ours]
    if not args.no_peers:
        evidently = ensure_venv("evidently", ["evidently>=0.7,<0.8", "pandas<3", "pyarrow"])
        rows.append(run_worker(evidently, "_monitor_evidently.py", str(directory)))
    for result in rows:
        speed = (
            f"{float(rows[1]['wall']) / float(ours['wall']):.1f}x"  # type: ignore[arg-type]
            if len(rows) > 1 and result is ours
            else ""
        )
        print(
            f"| {result['tool']} | {float(result['wall']):.1f} | "  # type: ignore[arg-type]
            f"{float(result['peak_mb']):.0f} | {', '.join(result['drifted'])} | {speed} |"  # type: ignore[arg-type]
        )
    print(
        f"\nDrift only, on the same flat Parquet Evidently reads: Shipyard "
        f"{float(ours['drift_seconds']):.2f} s ({', '.join(ours['drift_only_drifted'])})"  # type: ignore[arg-type]
        + (
            f", {float(rows[1]['wall']) / float(ours['drift_seconds']):.1f}x Evidently's time"  # type: ignore[arg-type]
            if len(rows) > 1
            else ""
        )
    )
    print(f"\nShipyard CBPE (whole run): {ours['estimated']}")
    if not args.no_peers:
        nanny = ensure_venv("nannyml", ["nannyml>=0.13,<0.14", "statsmodels", "pyarrow"])
        peer = run_worker(nanny, "_monitor_nannyml.py", str(directory))
        print("\n| tool | accuracy | ROC AUC | seconds | time ratio |")
        print("|---|---|---|---|---|")
        mine = ours["cbpe_only"]
        theirs = peer["estimated"]
        print(
            f"| Shipyard CBPE | {mine['accuracy']:.4f} | {mine['roc_auc']:.4f} | "  # type: ignore[index]
            f"{float(ours['cbpe_seconds']):.2f} | "  # type: ignore[arg-type]
            f"{float(peer['wall']) / float(ours['cbpe_seconds']):.1f}x |"  # type: ignore[arg-type]
        )
        print(
            f"| {peer['tool']} | {theirs['accuracy']:.4f} | {theirs['roc_auc']:.4f} | "  # type: ignore[index]
            f"{float(peer['wall']):.2f} | |"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
